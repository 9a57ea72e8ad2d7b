using System.Net;
using MeshAgent.Integration.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.HarnessTests;

/// <summary>wireguard-go ↔ wireguard-go: proves the reference peer setup before our agent is tested against it.</summary>
[Collection(NetnsCollection.Name)]
public sealed class WireGuardGoInteropTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_wireguard_go_peers_handshake_and_carry_IPv4_and_IPv6_pings(bool ipv6Underlay)
    {
        await using var lab = await Lab.CreateAsync(output);
        var alice = await lab.AddNamespaceAsync("alice");
        var bob = await lab.AddNamespaceAsync("bob");
        var link = await lab.ConnectAsync(alice, bob);
        await using var wgAlice = await WireGuardGoPeer.StartAsync(alice, new WireGuardGoOptions
        {
            ListenPort = 51820,
            Addresses = ["10.77.0.1/24", "fd77::1/64"],
        });
        await using var wgBob = await WireGuardGoPeer.StartAsync(bob, new WireGuardGoOptions
        {
            ListenPort = 51821,
            Addresses = ["10.77.0.2/24", "fd77::2/64"],
        });
        var psk = await WireGuardKeys.GeneratePresharedKeyAsync();
        var bobUnderlay = new IPEndPoint(ipv6Underlay ? link.B.Ipv6 : link.B.Ipv4, 51821);
        var aliceUnderlay = new IPEndPoint(ipv6Underlay ? link.A.Ipv6 : link.A.Ipv4, 51820);

        // Only alice knows an endpoint: bob must learn hers from the handshake.
        await wgAlice.AddPeerAsync(wgBob.PublicKey, bobUnderlay, ["10.77.0.2/32", "fd77::2/128"], presharedKey: psk);
        await wgBob.AddPeerAsync(wgAlice.PublicKey, endpoint: null, ["10.77.0.1/32", "fd77::1/128"], presharedKey: psk);

        await ProcessRunner.WaitUntilAsync(
            () => alice.TryPingAsync(IPAddress.Parse("10.77.0.2")),
            TimeSpan.FromSeconds(15),
            "alice pings bob's overlay address 10.77.0.2 through the tunnel",
            [wgAlice.Process, wgBob.Process]);
        await alice.PingAsync(IPAddress.Parse("fd77::2"), count: 3);
        await bob.PingAsync(IPAddress.Parse("10.77.0.1"), count: 3);
        await bob.PingAsync(IPAddress.Parse("fd77::1"), count: 3);

        var aliceView = (await wgAlice.ShowDumpAsync()).Peer(wgBob.PublicKey);
        var bobView = (await wgBob.ShowDumpAsync()).Peer(wgAlice.PublicKey);
        Assert.NotNull(aliceView.LatestHandshake);
        Assert.NotNull(bobView.LatestHandshake);
        Assert.InRange(aliceView.LatestHandshake.Value, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(1));
        // 7 pings each way at least, plus handshake messages.
        Assert.True(aliceView.RxBytes > 7 * 84 && aliceView.TxBytes > 7 * 84, $"alice rx {aliceView.RxBytes} tx {aliceView.TxBytes}");
        Assert.True(bobView.RxBytes > 7 * 84 && bobView.TxBytes > 7 * 84, $"bob rx {bobView.RxBytes} tx {bobView.TxBytes}");
        Assert.Equal(bobUnderlay, aliceView.Endpoint);
        Assert.Equal(aliceUnderlay, bobView.Endpoint);
        Assert.Equal(psk, aliceView.PresharedKey);
        Assert.Equal(["10.77.0.1/32", "fd77::1/128"], bobView.AllowedIps);
    }
}
