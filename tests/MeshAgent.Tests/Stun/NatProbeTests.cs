using System.Net;
using MeshAgent.Engine.Nat;
using MeshAgent.Engine.Paths;

namespace MeshAgent.Tests.Stun;

/// <summary>
/// <see cref="NatProbe.DetectMappingAsync"/> behind simulated NATs (a mapping function in
/// <see cref="SimulatedStunNetwork"/>) with real responders at both servers.
/// </summary>
public sealed class NatProbeTests
{
    private static readonly IPEndPoint ServerA = IPEndPoint.Parse("198.51.100.10:3478");
    private static readonly IPEndPoint ServerB = IPEndPoint.Parse("198.51.100.11:3478");

    [Fact]
    public async Task Same_mapping_for_both_servers_is_endpoint_independent()
    {
        var network = Network(_ => IPEndPoint.Parse("203.0.113.10:51820"));

        NatMappingReport report = await network.RunAsync(NatProbe.DetectMappingAsync(network.Client!, ServerA, ServerB));

        Assert.Equal(NatMapping.EndpointIndependent, report.Mapping);
        Assert.Equal(IPEndPoint.Parse("203.0.113.10:51820"), report.First.ReflexiveEndPoint);
        Assert.Equal(ServerA, report.First.Server);
        Assert.Equal(ServerB, report.Second.Server);
        Assert.Equal("endpoint-independent mapping: 198.51.100.10:3478 and 198.51.100.11:3478 both saw 203.0.113.10:51820", report.ToString());
    }

    [Theory]
    [InlineData(true)]   // a new port per destination (Linux "masquerade fully-random")
    [InlineData(false)]  // same port, different address (two-address NAT pools)
    public async Task Different_mappings_are_endpoint_dependent(bool portChanges)
    {
        var network = Network(destination => destination.Equals(ServerA)
            ? IPEndPoint.Parse("203.0.113.20:40001")
            : portChanges ? IPEndPoint.Parse("203.0.113.20:53117") : IPEndPoint.Parse("203.0.113.21:40001"));

        NatMappingReport report = await network.RunAsync(NatProbe.DetectMappingAsync(network.Client!, ServerA, ServerB));

        Assert.Equal(NatMapping.EndpointDependent, report.Mapping);
        Assert.Contains("symmetric NAT", report.ToString());
        Assert.Contains("203.0.113.20:40001", report.ToString());
    }

    [Fact]
    public async Task No_answer_from_either_server_is_no_udp()
    {
        var network = Network(_ => IPEndPoint.Parse("203.0.113.10:1"));
        network.Drop = (_, _) => true;

        NatMappingReport report = await network.RunAsync(NatProbe.DetectMappingAsync(network.Client!, ServerA, ServerB));

        Assert.Equal(NatMapping.UdpBlocked, report.Mapping);
        Assert.Equal(TimeSpan.FromSeconds(5), network.Clock.Elapsed); // both queries ran at once, not one after the other
        Assert.Equal(8, network.SentDatagrams.Count);
        Assert.StartsWith("no UDP: neither 198.51.100.10:3478 nor 198.51.100.11:3478 answered (4 and 4 requests)", report.ToString());
        Assert.Contains("relay over TCP", report.ToString());
    }

    [Fact]
    public async Task One_answer_is_not_enough_to_tell()
    {
        var network = Network(_ => IPEndPoint.Parse("203.0.113.10:1"));
        network.Drop = (destination, _) => destination.Equals(ServerB);

        NatMappingReport report = await network.RunAsync(NatProbe.DetectMappingAsync(network.Client!, ServerA, ServerB));

        Assert.Equal(NatMapping.Unknown, report.Mapping);
        Assert.True(report.First.IsSuccess);
        Assert.Equal(StunResultStatus.Timeout, report.Second.Status);
    }

    [Fact]
    public async Task The_same_server_twice_is_refused()
    {
        var network = Network(_ => IPEndPoint.Parse("203.0.113.10:1"));
        await Assert.ThrowsAsync<ArgumentException>(() => NatProbe.DetectMappingAsync(network.Client!, ServerA, IPEndPoint.Parse("198.51.100.10:3478")));
        Assert.Empty(network.SentDatagrams);
    }

    private static SimulatedStunNetwork Network(Func<IPEndPoint, IPEndPoint> nat)
    {
        var network = new SimulatedStunNetwork(new TimerClock(), nat);
        network.AddServer(ServerA);
        network.AddServer(ServerB);
        network.Client = new StunClient(network.Send, timeProvider: network.Clock);
        return network;
    }
}
