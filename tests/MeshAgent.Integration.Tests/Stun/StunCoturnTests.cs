using System.Net;
using System.Text.RegularExpressions;
using MeshAgent.Core.Stun;
using MeshAgent.Engine.Nat;
using MeshAgent.Integration.Tests.Harness;
using Xunit;
using Xunit.Abstractions;
using MeshAgent.Engine.Paths;

namespace MeshAgent.Integration.Tests.Stun;

/// <summary>
/// Our STUN client against a real coturn, and coturn's client against our responder, across the
/// lab internet and its nftables NATs (cone = endpoint-independent, symmetric = fully random
/// ports, UDP-blocked). The client's socket is created inside the host's namespace
/// (<see cref="NetworkNamespace.OpenUdpSocket"/>, setns on a dedicated thread) and driven from
/// this process.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed partial class StunCoturnTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Public_host_learns_its_own_address_from_coturn()
    {
        await using var lab = await Lab.CreateAsync(output);
        LabHost stun = await lab.AddPublicHostAsync("stun");
        LabHost client = await lab.AddPublicHostAsync("client");
        await using CoturnServer coturn = await CoturnServer.StartAsync(stun.Namespace, stun.Address);
        await using var socket = new UdpStunSocket(client.Namespace.OpenUdpSocket(new IPEndPoint(client.Address, 0)));

        StunResult result = await socket.QueryAsync(coturn.EndPoint);
        output.WriteLine(result.ToString());

        Assert.Equal(StunResultStatus.Success, result.Status);
        Assert.Equal(socket.LocalEndPoint, result.ReflexiveEndPoint);
        Assert.StartsWith("Coturn-", result.ServerSoftware); // really coturn answering, not something of ours
        Assert.InRange(result.Transmissions, 1, 2); // a retransmission after 500 ms is possible on a loaded machine
        Assert.True(result.RoundTripTime < TimeSpan.FromSeconds(1), $"RTT {result.RoundTripTime} inside one machine");
        Assert.Equal(1, socket.Client.Counters.Matched);
    }

    [Theory]
    [InlineData(NatType.Cone, NatMapping.EndpointIndependent)]
    [InlineData(NatType.Symmetric, NatMapping.EndpointDependent)]
    public async Task Two_coturn_servers_tell_the_nat_mapping_and_see_the_sites_public_address(NatType type, NatMapping expected)
    {
        await using var lab = await Lab.CreateAsync(output);
        NatSite site = await lab.AddNatSiteAsync("a", type);
        LabHost stunA = await lab.AddPublicHostAsync("stun1");
        LabHost stunB = await lab.AddPublicHostAsync("stun2");
        await using CoturnServer coturnA = await CoturnServer.StartAsync(stunA.Namespace, stunA.Address);
        await using CoturnServer coturnB = await CoturnServer.StartAsync(stunB.Namespace, stunB.Address);
        LabHost host = site.Hosts[0];
        await using var socket = new UdpStunSocket(host.Namespace.OpenUdpSocket(new IPEndPoint(host.Address, 0)));

        NatMappingReport report = await NatProbe.DetectMappingAsync(socket.Client, coturnA.EndPoint, coturnB.EndPoint);
        output.WriteLine($"{type} site, local {socket.LocalEndPoint}: {report}");

        Assert.True(report.First.IsSuccess, report.First.ToString());
        Assert.True(report.Second.IsSuccess, report.Second.ToString());
        Assert.Equal(expected, report.Mapping);
        Assert.Equal(site.PublicAddress, report.First.ReflexiveEndPoint!.Address);
        Assert.Equal(site.PublicAddress, report.Second.ReflexiveEndPoint!.Address);
        if (type == NatType.Symmetric)
        {
            Assert.NotEqual(report.First.ReflexiveEndPoint.Port, report.Second.ReflexiveEndPoint.Port);
        }
    }

    [Fact]
    public async Task Udp_blocked_site_gets_no_answer_and_reports_no_udp()
    {
        await using var lab = await Lab.CreateAsync(output);
        NatSite site = await lab.AddNatSiteAsync("b", NatType.UdpBlocked);
        LabHost stunA = await lab.AddPublicHostAsync("stun1");
        LabHost stunB = await lab.AddPublicHostAsync("stun2");
        await using CoturnServer coturnA = await CoturnServer.StartAsync(stunA.Namespace, stunA.Address);
        await using CoturnServer coturnB = await CoturnServer.StartAsync(stunB.Namespace, stunB.Address);
        LabHost host = site.Hosts[0];
        await host.Namespace.PingAsync(stunA.Address); // the path itself works; only UDP is dropped
        var options = new StunClientOptions { Timeout = TimeSpan.FromSeconds(2) };
        await using var socket = new UdpStunSocket(host.Namespace.OpenUdpSocket(new IPEndPoint(host.Address, 0)), options);

        NatMappingReport report = await NatProbe.DetectMappingAsync(socket.Client, coturnA.EndPoint, coturnB.EndPoint);
        output.WriteLine(report.ToString());

        Assert.Equal(NatMapping.UdpBlocked, report.Mapping);
        Assert.Equal(3, report.First.Transmissions); // 0, 0.5, 1.5 s within the 2 s bound
        Assert.Equal(0, socket.Client.Counters.Matched);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Coturn_client_learns_its_reflexive_address_from_our_responder(bool behindNat)
    {
        await using var lab = await Lab.CreateAsync(output);
        LabHost server = await lab.AddPublicHostAsync("srv");
        LabHost client = behindNat ? (await lab.AddNatSiteAsync("c", NatType.Cone)).Hosts[0] : await lab.AddPublicHostAsync("client");
        CoturnServer.EnsureInstalled();
        await using var responder = StunResponderHost.Start(server.Namespace, new IPEndPoint(server.Address, 3478), new StunResponder("meshagent-test"));

        ProcessResult run = await client.Namespace.ExecAsync(
            ["turnutils_stunclient", "-p", "3478", server.Address.ToString()],
            new RunOptions { Timeout = TimeSpan.FromSeconds(30), Check = false });
        output.WriteLine($"$ {run.CommandLine} → {run.ExitCode}\n{run.StandardOutput}{run.StandardError}");

        Match reflexive = ReflexiveLine().Match(run.StandardOutput + run.StandardError);
        Assert.True(reflexive.Success, $"turnutils_stunclient printed no reflexive address (exit {run.ExitCode}):\n{run.StandardOutput}{run.StandardError}");
        Assert.Equal(client.PublicAddress, IPAddress.Parse(reflexive.Groups["address"].Value));
        Assert.Equal(0, run.ExitCode);
        Assert.True(responder.Responder.Counters.Answered >= 1);
        Assert.Equal(0, responder.Responder.Counters.Ignored);
    }

    [GeneratedRegex(@"UDP reflexive addr: (?<address>[0-9.]+):(?<port>\d+)")]
    private static partial Regex ReflexiveLine();
}
