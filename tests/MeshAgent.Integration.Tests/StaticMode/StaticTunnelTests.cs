using System.Diagnostics;
using System.Net;
using MeshAgent.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.StaticMode;

/// <summary>
/// The real <c>meshagent run --wg-config</c> process in network namespaces: against wireguard-go
/// fed the same wg-quick format, against itself, and with a peer that changes its underlay
/// address. Overlay 10.77.0.0/24 and fd77::/64 (node 1 in namespace "a", node 2 in "b").
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class StaticTunnelTests(ITestOutputHelper output)
{
    private const string Interface = "mesh0";

    [Fact]
    public async Task Ours_and_wireguard_go_from_wg_quick_files_ping_both_ways_on_ipv4_and_ipv6_and_carry_iperf3_both_ways()
    {
        await using StaticSetup s = await StaticSetup.CreateAsync(output, "ours", "wggo");
        await s.RunAsync(async () =>
        {
            StaticAgent ours = await s.StartAgentAsync(s.A, Interface, s.Pair.ConfigA(new WgQuickOptions { PeerEndpoint = new IPEndPoint(s.Link.B.Ipv4, s.Pair.B.ListenPort) }));
            // wireguard-go's file has a DNS line too: a real wg-quick file, stripped for wg setconf.
            WireGuardGoPeer wg = await s.StartWireGuardGoAsync(
                s.B,
                s.Pair.ConfigB(new WgQuickOptions { PeerEndpoint = new IPEndPoint(s.Link.A.Ipv4, s.Pair.A.ListenPort), Dns = "10.77.0.53" }),
                s.Pair.B.PrivateKey);
            Assert.Equal(s.Pair.B.PublicKey, wg.PublicKey);

            // Ours pings first, so ours initiates the handshake.
            await PingBothWaysAsync(s);

            WireGuardPeerStatus peer = (await wg.ShowDumpAsync()).Peer(s.Pair.A.PublicKey);
            Assert.True(peer.LatestHandshake is not null, "wg show dump on wireguard-go reports no handshake with meshagent");
            Assert.Equal(new IPEndPoint(s.Link.A.Ipv4, s.Pair.A.ListenPort), peer.Endpoint);
            Assert.True(peer.RxBytes > 0 && peer.TxBytes > 0, $"wireguard-go counted rx {peer.RxBytes} / tx {peer.TxBytes} bytes with meshagent");
            output.WriteLine($"wireguard-go sees meshagent: handshake {peer.LatestHandshake:O}, endpoint {peer.Endpoint}, rx {peer.RxBytes} B, tx {peer.TxBytes} B");

            await Iperf3BothWaysAsync(s, "meshagent", "wireguard-go");
            await ours.StopAsync();
        });
    }

    [Fact]
    public async Task Ours_and_ours_over_an_ipv6_underlay_ping_both_ways_on_ipv4_and_ipv6_and_carry_iperf3_both_ways()
    {
        await using StaticSetup s = await StaticSetup.CreateAsync(output);
        await s.RunAsync(async () =>
        {
            StaticAgent a = await s.StartAgentAsync(s.A, Interface, s.Pair.ConfigA(new WgQuickOptions { PeerEndpoint = new IPEndPoint(s.Link.B.Ipv6, s.Pair.B.ListenPort) }));
            StaticAgent b = await s.StartAgentAsync(s.B, Interface, s.Pair.ConfigB(new WgQuickOptions { PeerEndpoint = new IPEndPoint(s.Link.A.Ipv6, s.Pair.A.ListenPort) }));

            await PingBothWaysAsync(s);
            await Iperf3BothWaysAsync(s, "meshagent a", "meshagent b");
            await a.StopAsync();
            await b.StopAsync(StaticAgent.SIGINT);
        });
    }

    [Fact]
    public async Task A_peer_that_moves_its_underlay_address_is_found_again_from_its_authenticated_packets()
    {
        await using StaticSetup s = await StaticSetup.CreateAsync(output);
        await s.RunAsync(async () =>
        {
            // Only A knows an endpoint; B learns A's from A's handshake, and A must learn B's new one.
            await s.StartAgentAsync(s.A, Interface, s.Pair.ConfigA(new WgQuickOptions { PeerEndpoint = new IPEndPoint(s.Link.B.Ipv4, s.Pair.B.ListenPort) }));
            await s.StartAgentAsync(s.B, Interface, s.Pair.ConfigB());
            await TunnelChecks.PingAsync(s.A, s.Pair.B.OverlayIpv4, s.Processes);
            await TunnelChecks.PingAsync(s.B, s.Pair.A.OverlayIpv4, s.Processes);

            // Move B: 10.200.1.2 -> 10.200.1.3 on the same /24. promote_secondaries keeps the new
            // (secondary) address and the subnet route when the old primary is deleted.
            string veth = s.Link.B.Device;
            var moved = IPAddress.Parse("10.200.1.3");
            await s.B.SetSysctlsAsync(($"net.ipv4.conf.{veth}.promote_secondaries", "1"));
            await s.B.IpAsync("addr", "add", $"{moved}/24", "dev", veth);
            await s.B.IpAsync("addr", "del", $"{s.Link.B.Ipv4}/24", "dev", veth);
            string addresses = (await s.B.IpAsync("-4", "-o", "addr", "show", "dev", veth)).StandardOutput;
            Assert.True(addresses.Contains($" {moved}/24 ", StringComparison.Ordinal) && !addresses.Contains($" {s.Link.B.Ipv4}/", StringComparison.Ordinal),
                $"B's underlay address did not move as planned:\n{addresses}");

            // B's packets now leave from the new address; nothing reaches the old one any more, so
            // A's replies arrive only if A took B's new endpoint from them.
            var clock = Stopwatch.StartNew();
            await TunnelChecks.PingAsync(s.B, s.Pair.A.OverlayIpv4, s.Processes, firstTimeout: TimeSpan.FromSeconds(5));
            output.WriteLine($"B reached A again {clock.Elapsed.TotalSeconds:0.00} s after moving to {moved}");
            await TunnelChecks.PingAsync(s.A, s.Pair.B.OverlayIpv4, s.Processes, firstTimeout: TimeSpan.FromSeconds(3));
            await TunnelChecks.PingAsync(s.A, s.Pair.B.OverlayIpv6, s.Processes, firstTimeout: TimeSpan.FromSeconds(3));
        });
    }

    private static async Task PingBothWaysAsync(StaticSetup s)
    {
        foreach ((NetworkNamespace from, IPAddress to) in new[]
        {
            (s.A, s.Pair.B.OverlayIpv4), (s.A, s.Pair.B.OverlayIpv6),
            (s.B, s.Pair.A.OverlayIpv4), (s.B, s.Pair.A.OverlayIpv6),
        })
        {
            await TunnelChecks.PingAsync(from, to, s.Processes);
        }
    }

    private async Task Iperf3BothWaysAsync(StaticSetup s, string nameA, string nameB)
    {
        foreach ((NetworkNamespace client, string clientName, NetworkNamespace server, string serverName, IPAddress address) in new[]
        {
            (s.A, nameA, s.B, nameB, s.Pair.B.OverlayIpv4),
            (s.B, nameB, s.A, nameA, s.Pair.A.OverlayIpv4),
        })
        {
            Iperf3Result result = await TunnelChecks.Iperf3Async(server, address, client, s.Processes);
            output.WriteLine($"iperf3 TCP {clientName} -> {serverName}: {result.Mbps:0.0} Mbit/s ({result.BytesReceived} bytes received in {result.Seconds:0.0} s)");
            Assert.True(result.BytesReceived > 0, $"iperf3 {clientName} -> {serverName}: the server received nothing");
        }
    }
}
