using System.Net;
using System.Net.Sockets;
using MeshAgent.Integration.Tests.Harness;
using Xunit;
using Xunit.Abstractions;
using static MeshAgent.Integration.Tests.HarnessTests.NatRouterTests;

namespace MeshAgent.Integration.Tests.HarnessTests;

/// <summary>
/// The knobs failover and keepalive tests turn: cuts in the core (<see cref="Lab.CutAsync"/>),
/// a site's UDP block (<see cref="NatSite.BlockUdpAsync"/>) and the mapping lifetime
/// (<see cref="NatSite.SetUdpMappingTimeoutAsync"/>).
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class PathControlTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task A_udp_cut_stops_a_punched_path_at_once_spares_tcp_and_healing_restores_the_same_path()
    {
        await using var lab = await Lab.CreateAsync(output);
        var stun = await lab.AddStunServerAsync();
        var relay = await lab.AddPublicHostAsync("relay");
        var a = await lab.AddNatSiteAsync("a", NatType.Cone);
        var b = await lab.AddNatSiteAsync("b", NatType.Cone);
        using var sideA = await PunchSide.OpenAsync("a", a.Hosts[0], stun.EndPoint);
        using var sideB = await PunchSide.OpenAsync("b", b.Hosts[0], stun.EndPoint);
        using var relayUdp = relay.Namespace.OpenUdpSocket(new IPEndPoint(relay.Address, 3478 + 1));
        var punched = await UdpPunch.RunAsync(sideA, sideB, Candidates.All, TimeSpan.FromSeconds(3));
        Assert.True(punched.Direct, $"no direct path to cut: {punched}");
        Assert.True(await BothWaysAsync(sideA, sideB), "the punched path does not carry data both ways");

        await lab.CutAsync(a.PublicAddresses, [.. b.PublicAddresses, relay.Address]);
        Assert.False(await OneWayAsync(sideA, sideB), "a → b still arrives through a UDP cut");
        Assert.False(await OneWayAsync(sideB, sideA), "b → a still arrives through a UDP cut");
        await SendAsync(sideA.Socket, "udp to the relay", relayUdp);
        Assert.Null(await ReceiveAsync(relayUdp, Window));
        Assert.True(await TcpConnectsAsync(a.Hosts[0], relay, 443), "TCP to the relay must survive a UDP-only cut");

        await lab.CutAsync(a.PublicAddresses, [relay.Address], CutProtocol.All);
        Assert.False(await TcpConnectsAsync(a.Hosts[0], relay, 444, TimeSpan.FromSeconds(1)), "TCP to the relay passed a cut of all protocols");

        await lab.HealAsync(a.PublicAddresses, [.. b.PublicAddresses, relay.Address]);
        // The sites' mappings outlived the cut: the same endpoints work again, without punching.
        Assert.True(await BothWaysAsync(sideA, sideB), "the path did not come back after healing");
        Assert.True(await TcpConnectsAsync(a.Hosts[0], relay, 445), "TCP to the relay did not come back after healing");

        await lab.CutAsync(b.PublicAddresses, [.. a.PublicAddresses], CutProtocol.Udp);
        await lab.HealAllAsync();
        Assert.True(await BothWaysAsync(sideA, sideB), "HealAllAsync left a cut in place");
    }

    [Fact]
    public async Task Blocking_a_sites_udp_silences_stun_but_not_tcp_and_unblocking_brings_back_the_same_mapping()
    {
        await using var lab = await Lab.CreateAsync(output);
        var stun = await lab.AddStunServerAsync();
        var relay = await lab.AddPublicHostAsync("relay");
        var site = await lab.AddNatSiteAsync("a", NatType.Cone);
        var host = site.Hosts[0];
        using var socket = host.Namespace.OpenUdpSocket(new IPEndPoint(IPAddress.Any, 0));
        var before = await LabStun.QueryAsync(socket, stun.EndPoint, TimeSpan.FromSeconds(1));
        Assert.Equal(site.PublicAddress, before?.Address);

        await site.BlockUdpAsync();
        Assert.True(site.IsUdpBlocked);
        Assert.Null(await LabStun.QueryAsync(socket, stun.EndPoint, TimeSpan.FromMilliseconds(700)));
        Assert.True(await TcpConnectsAsync(host, relay, 443), "TCP must pass while the site's UDP is blocked");

        await site.UnblockUdpAsync();
        Assert.Equal(before, await LabStun.QueryAsync(socket, stun.EndPoint, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_mapping_idle_longer_than_the_sites_udp_timeout_is_forgotten()
    {
        await using var lab = await Lab.CreateAsync(output);
        var server = await lab.AddPublicHostAsync("srv");
        var site = await lab.AddNatSiteAsync("a", NatType.Cone);
        await site.SetUdpMappingTimeoutAsync(TimeSpan.FromSeconds(1));
        var host = site.Hosts[0];
        using var inside = host.Namespace.OpenUdpSocket(new IPEndPoint(host.Address, 40000));
        using var outside = server.Namespace.OpenUdpSocket(new IPEndPoint(server.Address, 7001));

        await SendAsync(inside, "open", outside);
        var (_, mapped) = await ReceiveAsync(outside) ?? throw new TimeoutException("nothing reached the server");
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        await SendAsync(outside, "within the timeout", mapped);
        Assert.Equal("within the timeout", (await ReceiveAsync(inside, Window))?.Text);

        await Task.Delay(TimeSpan.FromSeconds(2));
        await SendAsync(outside, "after the timeout", mapped);
        Assert.Null(await ReceiveAsync(inside, Window));
    }

    /// <summary>One datagram from <paramref name="from"/> to the other side's mapping; true if it arrived.</summary>
    private static async Task<bool> OneWayAsync(PunchSide from, PunchSide to)
    {
        var text = $"data {Guid.NewGuid():N}";
        await SendAsync(from.Socket, text, to.Reflexive!);
        while (await ReceiveAsync(to.Socket, Window) is { } got)
        {
            if (got.Text == text)
            {
                return true;
            }
        }
        return false;
    }

    private static async Task<bool> BothWaysAsync(PunchSide a, PunchSide b) => await OneWayAsync(a, b) && await OneWayAsync(b, a);
}
