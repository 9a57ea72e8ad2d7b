using System.Collections.Concurrent;
using System.Net;
using MeshAgent.Core.Crypto;
using MeshAgent.Engine.Transport;
using MeshAgent.Engine.WireGuard;
using MeshAgent.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.WireGuardInterop;

/// <summary>
/// Our session layer as a userspace peer (no TUN on our side) against Debian's wireguard-go in
/// network namespaces: handshakes initiated by either side, ICMP echo through wireguard-go's
/// TUN and kernel stack, a rekey, and rejection of wrong keys.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class WireGuardGoSessionInteropTests(ITestOutputHelper output)
{
    private static readonly IPAddress WgOverlay = IPAddress.Parse("10.99.0.1");
    private static readonly IPAddress OurOverlay = IPAddress.Parse("10.99.0.2");

    private sealed class Setup : IAsyncDisposable
    {
        public required Lab Lab { get; init; }
        public required WireGuardGoPeer WireGuardGo { get; init; }
        public required UdpWireGuardHost Host { get; init; }
        public required Peer PeerOnUs { get; init; }
        public required string OurPublicKey { get; init; }
        public required OffsetTimeProvider Time { get; init; }
        public required ConcurrentQueue<byte[]> Received { get; init; }

        public async ValueTask DisposeAsync()
        {
            Host.Dispose();
            await WireGuardGo.DisposeAsync();
            await Lab.DisposeAsync();
        }
    }

    private async Task<Setup> StartAsync(bool wireGuardGoKnowsOurKey = true, bool weKnowTheirKey = true, bool giveWireGuardGoOurEndpoint = false, bool answerPings = false)
    {
        Lab lab = await Lab.CreateAsync(output);
        NetworkNamespace ours = await lab.AddNamespaceAsync("ours");
        NetworkNamespace theirs = await lab.AddNamespaceAsync("wggo");
        VethLink link = await lab.ConnectAsync(ours, theirs);
        WireGuardGoPeer wg = await WireGuardGoPeer.StartAsync(theirs, new WireGuardGoOptions { ListenPort = 51820, Addresses = ["10.99.0.1/24"] });

        var privateKey = new byte[32];
        X25519.GeneratePrivateKey(privateKey);
        var publicKey = new byte[32];
        X25519.DerivePublicKey(privateKey, publicKey);
        string ourPublic = Convert.ToBase64String(publicKey);

        var time = new OffsetTimeProvider();
        var socket = ours.OpenUdpSocket(new IPEndPoint(link.A.Ipv4, 0));
        var received = new ConcurrentQueue<byte[]>();
        UdpWireGuardHost? host = null;
        host = new UdpWireGuardHost(new WireGuardDeviceOptions { PrivateKey = privateKey, Time = time }, socket, (peer, payload) =>
        {
            received.Enqueue(payload.ToArray());
            if (answerPings && IcmpPackets.ReplyTo(payload) is { } reply)
            {
                host!.Send(peer, reply);
            }
        });

        var wgPublic = Convert.FromBase64String(wg.PublicKey);
        if (!weKnowTheirKey)
        {
            X25519.DerivePublicKey(NewPrivateKey(), wgPublic);
        }

        Peer peer = host.Device.AddPeer(wgPublic, default, new IPEndPoint(link.B.Ipv4, 51820));
        host.Start();

        string keyForWireGuardGo = wireGuardGoKnowsOurKey ? ourPublic : Convert.ToBase64String(RandomPublicKey());
        await wg.AddPeerAsync(keyForWireGuardGo, giveWireGuardGoOurEndpoint ? host.LocalEndPoint : null, ["10.99.0.2/32"]);

        return new Setup { Lab = lab, WireGuardGo = wg, Host = host, PeerOnUs = peer, OurPublicKey = ourPublic, Time = time, Received = received };
    }

    private static byte[] NewPrivateKey()
    {
        var key = new byte[32];
        X25519.GeneratePrivateKey(key);
        return key;
    }

    private static byte[] RandomPublicKey()
    {
        var publicKey = new byte[32];
        X25519.DerivePublicKey(NewPrivateKey(), publicKey);
        return publicKey;
    }

    private async Task<bool> PingThroughTunnelAsync(Setup setup, ushort sequence, TimeSpan timeout)
    {
        ConcurrentQueue<byte[]> received = setup.Received;
        const ushort id = 0x4d41;
        byte[] request = IcmpPackets.EchoRequest(OurOverlay, WgOverlay, id, sequence);
        DateTime deadline = DateTime.UtcNow + timeout;
        DateTime nextSend = DateTime.MinValue;
        while (DateTime.UtcNow < deadline)
        {
            if (DateTime.UtcNow >= nextSend)
            {
                setup.Host.Send(setup.PeerOnUs, request);
                nextSend = DateTime.UtcNow + TimeSpan.FromSeconds(1);
            }

            while (received.TryDequeue(out byte[]? packet))
            {
                if (IcmpPackets.TryParseEcho(packet, out byte type, out IPAddress? source, out IPAddress? destination, out ushort replyId, out ushort replySequence, out _)
                    && type == 0 && source!.Equals(WgOverlay) && destination!.Equals(OurOverlay) && replyId == id && replySequence == sequence)
                {
                    return true;
                }
            }

            await Task.Delay(20);
        }

        return false;
    }

    private static string Diagnostics(Setup setup)
    {
        DeviceCounters c = setup.Host.Device.Counters;
        string drops = string.Join(", ", Enum.GetValues<DropReason>().Where(r => c[r] > 0).Select(r => $"{r}={c[r]}"));
        return $"our device: initiations sent {c.HandshakeInitiationsSent}, responses sent {c.HandshakeResponsesSent}, completed {c.HandshakesCompleted}, drops [{drops}], faults [{string.Join("; ", setup.Host.Faults)}]\n"
            + $"wireguard-go output:\n{string.Join("\n", setup.WireGuardGo.Process.RecentOutput())}";
    }

    [Fact]
    public async Task We_initiate_ping_wireguard_go_then_rekey_and_keep_talking()
    {
        await using Setup setup = await StartAsync();

        Assert.True(await PingThroughTunnelAsync(setup, 1, TimeSpan.FromSeconds(15)), "no echo reply from wireguard-go through the tunnel\n" + Diagnostics(setup));
        Assert.Equal(1, setup.Host.Device.Counters.HandshakesCompleted);
        WireGuardDump dump = await setup.WireGuardGo.ShowDumpAsync();
        Assert.True(dump.Peer(setup.OurPublicKey).LatestHandshake > DateTimeOffset.UnixEpoch, "wireguard-go reports no handshake");

        // Age our session past REKEY_AFTER_TIME: the next send triggers a second handshake.
        Keypair first = setup.PeerOnUs.Current!;
        setup.Time.Advance(TimeSpan.FromSeconds(125));
        Assert.True(await PingThroughTunnelAsync(setup, 2, TimeSpan.FromSeconds(15)), "no echo reply after the rekey\n" + Diagnostics(setup));
        await ProcessRunner.WaitUntilAsync(() => setup.Host.Device.Counters.HandshakesCompleted >= 2, TimeSpan.FromSeconds(10), "a second handshake (rekey)");
        Assert.True(await PingThroughTunnelAsync(setup, 3, TimeSpan.FromSeconds(15)), "no echo reply on the new keys\n" + Diagnostics(setup));
        Assert.NotSame(first, setup.PeerOnUs.Current);
        Assert.Empty(setup.Host.Faults);
    }

    [Fact]
    public async Task Wireguard_go_initiates_and_its_ping_is_answered_by_us()
    {
        await using Setup setup = await StartAsync(giveWireGuardGoOurEndpoint: true, answerPings: true);

        ProcessResult ping = await setup.WireGuardGo.Namespace.ExecAsync(
            ["ping", "-c", "3", "-i", "0.3", "-W", "5", "10.99.0.2"], new RunOptions { Check = false, Timeout = TimeSpan.FromSeconds(20) });
        Assert.True(ping.ExitCode == 0, $"ping from wireguard-go's side failed:\n{ping.StandardOutput}\n{ping.StandardError}\n" + Diagnostics(setup));
        Assert.True(setup.Host.Device.Counters.HandshakeResponsesSent >= 1, "we never answered a handshake initiation");
        Assert.Equal(0, setup.Host.Device.Counters.HandshakeInitiationsSent);
        Assert.Empty(setup.Host.Faults);
    }

    [Fact]
    public async Task Peers_with_wrong_keys_get_no_session()
    {
        // wireguard-go does not know our key: our initiations get no response.
        await using (Setup setup = await StartAsync(wireGuardGoKnowsOurKey: false))
        {
            Assert.False(await PingThroughTunnelAsync(setup, 1, TimeSpan.FromSeconds(4)));
            Assert.Equal(0, setup.Host.Device.Counters.HandshakesCompleted);
            Assert.True(setup.Host.Device.Counters.HandshakeInitiationsSent >= 1);
        }

        // We do not know wireguard-go's key: its initiations to us are refused (unknown peer).
        await using (Setup setup = await StartAsync(weKnowTheirKey: false, giveWireGuardGoOurEndpoint: true, answerPings: true))
        {
            ProcessResult ping = await setup.WireGuardGo.Namespace.ExecAsync(
                ["ping", "-c", "2", "-W", "2", "10.99.0.2"], new RunOptions { Check = false, Timeout = TimeSpan.FromSeconds(15) });
            Assert.NotEqual(0, ping.ExitCode);
            Assert.True(setup.Host.Device.Counters[DropReason.UnknownPeer] >= 1, "wireguard-go's initiation was not seen and refused\n" + Diagnostics(setup));
            Assert.Equal(0, setup.Host.Device.Counters.HandshakeResponsesSent);
        }
    }
}
