using MeshAgent.Core.Net;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;
using MeshAgent.Relay;

namespace MeshAgent.Tests.Relay;

/// <summary>Forwarding, notices, limits and session lifetime in process (real hub, real clients, manual clock).</summary>
public sealed class RelayForwardingTests : IDisposable
{
    private readonly NetworkRootKey _root = RelayFixtures.Root(1);
    private readonly NetworkRootKey _otherRoot = RelayFixtures.Root(2);
    private readonly List<NodeIdentity> _identities = [];

    public void Dispose()
    {
        _identities.ForEach(i => i.Dispose());
        _root.Dispose();
        _otherRoot.Dispose();
    }

    [Fact]
    public void Payloads_go_to_the_destination_with_the_source_key_and_only_within_one_network()
    {
        using var relay = new InProcessRelay(roots: [_root.PublicKey, _otherRoot.PublicKey]);
        (RelayClient a, NodeIdentity alice) = Connect(relay, _root, 1);
        (RelayClient b, NodeIdentity bob) = Connect(relay, _root, 2);
        (RelayClient c, NodeIdentity carol) = Connect(relay, _otherRoot, 3);
        var atBob = Record(b);
        var atCarol = Record(c);
        var unknownAtAlice = new List<NodePublicKey>();
        a.PeerUnknown += unknownAtAlice.Add;

        byte[] payload = [4, 0, 0, 0, .. Enumerable.Range(0, 100).Select(i => (byte)i)];
        Assert.True(a.Send(bob.PublicKey, payload));
        Assert.True(a.Send(carol.PublicKey, [9, 9]));  // another network on the same relay
        using NodeIdentity stranger = RelayFixtures.Node(99);
        Assert.True(a.Send(stranger.PublicKey, [8])); // not connected at all
        relay.Pump();

        Assert.Single(atBob);
        Assert.Equal(alice.PublicKey, atBob[0].Source);
        Assert.Equal(payload, atBob[0].Payload);
        Assert.Empty(atCarol);
        Assert.Equal([carol.PublicKey, stranger.PublicKey], unknownAtAlice);
        Assert.Equal(2, relay.Hub.Counters[RelayCounter.DropUnknownDestination]);
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.FramesForwarded]);

        // Headroom send: the caller wrote the payload after RelayProtocol.SendOverhead bytes.
        byte[] frame = new byte[RelayProtocol.SendOverhead + 3];
        frame[^3] = 1;
        frame[^2] = 2;
        frame[^1] = 3;
        Assert.True(b.SendWithHeadroom(alice.PublicKey, frame));
        var atAlice = Record(a);
        relay.Pump();
        Assert.Equal([1, 2, 3], Assert.Single(atAlice).Payload);
        Assert.Equal(bob.PublicKey, atAlice[0].Source);
    }

    [Fact]
    public void UnknownPeer_notices_are_rate_limited_per_client()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        (RelayClient a, _) = Connect(relay, _root, 1);
        using NodeIdentity stranger = RelayFixtures.Node(99);
        int notices = 0;
        a.PeerUnknown += _ => notices++;
        for (int i = 0; i < 50; i++)
        {
            a.Send(stranger.PublicKey, [1]);
        }

        relay.Pump();
        Assert.Equal(relay.Options.UnknownPeerNoticesPerSecond, notices);
        Assert.Equal(50 - relay.Options.UnknownPeerNoticesPerSecond, relay.Hub.Counters[RelayCounter.DropUnknownPeerNoticeLimited]);
    }

    [Fact]
    public void A_client_over_its_packet_or_byte_rate_loses_the_excess_and_recovers_as_the_bucket_refills()
    {
        using var relay = new InProcessRelay(new RelayOptions { AcceptedRoots = [_root.PublicKey], ClientPacketsPerSecond = 20, ClientBytesPerSecond = 100_000 });
        (RelayClient a, _) = Connect(relay, _root, 1);
        (RelayClient b, NodeIdentity bob) = Connect(relay, _root, 2);
        var atBob = Record(b);

        for (int i = 0; i < 50; i++)
        {
            a.Send(bob.PublicKey, [(byte)i]);
        }

        relay.Pump();
        Assert.Equal(20, atBob.Count); // a full bucket is one second's worth
        Assert.Equal(30, relay.Hub.Counters[RelayCounter.DropPacketRateLimited]);

        relay.Time.Advance(TimeSpan.FromMilliseconds(500)); // refills 10
        for (int i = 0; i < 50; i++)
        {
            a.Send(bob.PublicKey, [(byte)i]);
        }

        relay.Pump();
        Assert.Equal(30, atBob.Count);

        // Bytes: 100 kB/s. Large frames run the byte bucket dry before the packet bucket.
        relay.Time.Advance(TimeSpan.FromSeconds(2));
        atBob.Clear();
        byte[] big = new byte[20_000];
        for (int i = 0; i < 10; i++)
        {
            a.Send(bob.PublicKey, big);
        }

        relay.Pump();
        Assert.Equal(4, atBob.Count); // 4 × 20,044 bytes fit in 100,000; the fifth does not
        Assert.Equal(6, relay.Hub.Counters[RelayCounter.DropByteRateLimited]);
    }

    [Fact]
    public void After_a_NAT_rebinding_the_relay_answers_SessionUnknown_and_the_client_authenticates_again()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        (RelayClient a, NodeIdentity alice) = Connect(relay, _root, 1);
        (RelayClient b, NodeIdentity bob) = Connect(relay, _root, 2);
        ulong oldToken = a.SessionToken;
        var atBob = Record(b);

        relay.Rebind(a, InProcessRelay.Endpoint(50000, "203.0.113.99"));
        relay.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(a.Send(bob.PublicKey, [1])); // lost: the relay does not know this endpoint
        relay.Pump();

        Assert.Empty(atBob);
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.SessionUnknownSent]);
        Assert.Equal(1, a.Counters.SessionsLost);
        Assert.Equal(RelayClientState.Connected, a.State);
        Assert.NotEqual(oldToken, a.SessionToken);

        Assert.True(a.Send(bob.PublicKey, [2]));
        relay.Pump();
        Assert.Equal([2], Assert.Single(atBob).Payload);

        // The old token from the old endpoint no longer works either.
        (RelayActionKind kind, byte[] reply, _) = relay.Inject(RelayHubAuthTests.KeepaliveBytes(oldToken), Endpoint(1));
        Assert.Equal(RelayActionKind.Reply, kind);
        Assert.Equal((byte)RelayFrameType.SessionUnknown, reply[3]);
        _ = alice;
    }

    [Fact]
    public void Keepalives_hold_a_session_past_the_idle_timeout_and_a_silent_session_is_swept()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        (RelayClient a, NodeIdentity alice) = Connect(relay, _root, 1);
        (RelayClient b, NodeIdentity bob) = Connect(relay, _root, 2);

        // Both tick for 3 minutes: keepalives every 25 s keep both sessions.
        var closed = new List<RelayTcpConnection>();
        for (int second = 0; second < 180; second++)
        {
            relay.Advance(TimeSpan.FromSeconds(1));
            relay.Hub.Sweep(closed);
        }

        Assert.True(relay.Hub.HasSession(alice.PublicKey));
        Assert.InRange(a.Counters.KeepalivesSent, 6, 8);
        Assert.Equal(RelayClientState.Connected, a.State);

        // Bob goes silent (stopped: it sends nothing more); after the idle timeout the relay forgets it, not Alice.
        b.Stop();
        for (int second = 0; second < relay.Options.IdleTimeout.TotalSeconds; second++)
        {
            relay.Advance(TimeSpan.FromSeconds(1));
            relay.Hub.Sweep(closed);
        }

        Assert.False(relay.Hub.HasSession(bob.PublicKey));
        Assert.True(relay.Hub.HasSession(alice.PublicKey));
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.SessionsIdle]);
        Assert.Empty(closed); // UDP sessions: no connection to close
    }

    [Fact]
    public void A_session_ends_when_its_certificate_expires()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        NodeIdentity node = Identity(1);
        RelayClient a = relay.AddClient(node, RelayFixtures.Certificate(_root, node, RelayFixtures.Now.AddDays(-1), RelayFixtures.Now.AddSeconds(30)), InProcessRelay.Endpoint(40001));
        a.Start();
        relay.Pump();
        Assert.Equal(RelayClientState.Connected, a.State);

        relay.Time.Advance(TimeSpan.FromSeconds(31));
        relay.Hub.Sweep([]);
        Assert.False(relay.Hub.HasSession(node.PublicKey));
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.SessionsCertificateExpired]);

        // The client notices at its next keepalive and is refused: the certificate has expired.
        relay.Run(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
        Assert.Equal(RelayClientState.Refused, a.State);
        Assert.Equal(RelayRefusal.Expired, a.LastRefusal);
    }

    private (RelayClient Client, NodeIdentity Identity) Connect(InProcessRelay relay, NetworkRootKey root, int index)
    {
        NodeIdentity identity = Identity(index);
        RelayClient client = relay.AddClient(identity, RelayFixtures.Certificate(root, identity), Endpoint(index));
        client.Start();
        relay.Pump();
        Assert.Equal(RelayClientState.Connected, client.State);
        return (client, identity);
    }

    /// <summary>One address per client, as real clients have (the relay limits handshakes per address).</summary>
    private static UdpEndpoint Endpoint(int index) => InProcessRelay.Endpoint(40000 + index, $"203.0.113.{100 + index}");

    private NodeIdentity Identity(int index)
    {
        NodeIdentity identity = RelayFixtures.Node(index);
        _identities.Add(identity);
        return identity;
    }

    private static List<(NodePublicKey Source, byte[] Payload)> Record(RelayClient client)
    {
        var received = new List<(NodePublicKey, byte[])>();
        client.PayloadReceived += (source, payload) => received.Add((source, payload.ToArray()));
        return received;
    }
}
