using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;
using MeshAgent.Relay;

namespace MeshAgent.Tests.Relay;

/// <summary>The client's handshake state machine under loss, refusals and relay restarts (real hub, manual clock).</summary>
public sealed class RelayClientTests : IDisposable
{
    private readonly NetworkRootKey _root = RelayFixtures.Root();
    private readonly NodeIdentity _node = RelayFixtures.Node(1);

    public void Dispose()
    {
        _node.Dispose();
        _root.Dispose();
    }

    [Fact]
    public void Lost_Hellos_are_repeated_with_growing_backoff_until_a_Challenge_comes()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        int dropped = 0;
        relay.DropToRelay = frame => frame[3] == (byte)RelayFrameType.ClientHello && dropped++ < 3;
        RelayClient client = relay.AddClient(_node, RelayFixtures.Certificate(_root, _node), InProcessRelay.Endpoint(40000));
        var states = new List<RelayClientState>();
        client.StateChanged += states.Add;

        client.Start();
        relay.Pump();
        Assert.Equal(RelayClientState.Connecting, client.State);

        // Backoff 1, 2, 4 s (±20%): the fourth Hello goes out between 5.6 and 8.4 s after the first.
        relay.Run(TimeSpan.FromSeconds(5.5), TimeSpan.FromMilliseconds(100));
        Assert.Equal(3, client.Counters.HellosSent);
        relay.Run(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(100));
        Assert.Equal(4, client.Counters.HellosSent);
        Assert.Equal(RelayClientState.Connected, client.State);
        Assert.Equal([RelayClientState.Connecting, RelayClientState.Authenticating, RelayClientState.Connected], states);
    }

    [Fact]
    public void A_lost_Welcome_makes_the_client_repeat_its_Auth_and_the_relay_repeat_the_same_Welcome()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        bool dropOne = true;
        relay.DropToClient = frame =>
        {
            bool drop = frame[3] == (byte)RelayFrameType.Welcome && dropOne;
            dropOne &= !drop;
            return drop;
        };
        RelayClient client = relay.AddClient(_node, RelayFixtures.Certificate(_root, _node), InProcessRelay.Endpoint(40000));
        client.Start();
        relay.Pump();
        Assert.Equal(RelayClientState.Authenticating, client.State);

        relay.Advance(TimeSpan.FromSeconds(1.1));
        Assert.Equal(RelayClientState.Connected, client.State);
        Assert.Equal(2, client.Counters.AuthsSent);
        Assert.Equal(1, client.Counters.HellosSent);
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.AuthsAccepted]);
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.WelcomesResent]);
    }

    [Fact]
    public void When_every_Auth_is_lost_the_client_starts_over_with_a_fresh_Hello()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        relay.DropToRelay = frame => frame[3] == (byte)RelayFrameType.Auth && relay.Time.GetUtcNow() < RelayFixtures.Now.AddSeconds(2.5);
        RelayClient client = relay.AddClient(_node, RelayFixtures.Certificate(_root, _node), InProcessRelay.Endpoint(40000));
        client.Start();
        relay.Run(TimeSpan.FromSeconds(6), TimeSpan.FromMilliseconds(100));

        Assert.Equal(RelayClientState.Connected, client.State);
        Assert.Equal(2, client.Counters.HellosSent);
        Assert.Equal(new RelayClientOptions().AuthAttempts + 1, client.Counters.AuthsSent);
    }

    [Fact]
    public void A_relay_that_stops_answering_keepalives_is_declared_lost_and_the_client_reconnects_when_it_returns()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        RelayClient client = relay.AddClient(_node, RelayFixtures.Certificate(_root, _node), InProcessRelay.Endpoint(40000));
        client.Start();
        relay.Pump();

        bool down = true;
        relay.DropToRelay = _ => down;

        // Keepalive at 25 s, repeated at 30 and 35 s, lost at 40 s.
        relay.Run(TimeSpan.FromSeconds(39), TimeSpan.FromSeconds(1));
        Assert.Equal(RelayClientState.Connected, client.State);
        relay.Run(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1));
        Assert.Equal(RelayClientState.Connecting, client.State);
        Assert.Equal(1, client.Counters.SessionsLost);
        Assert.False(client.Send(_node.PublicKey, [1]));

        down = false;
        relay.Run(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(250));
        Assert.Equal(RelayClientState.Connected, client.State);
    }

    [Fact]
    public void A_refused_client_waits_its_backoff_and_tries_again_and_a_renewed_certificate_gets_it_in()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        DateTimeOffset now = RelayFixtures.Now;
        RelayClient client = relay.AddClient(_node, RelayFixtures.Certificate(_root, _node, now.AddDays(-10), now.AddSeconds(-1)), InProcessRelay.Endpoint(40000));
        client.Start();
        relay.Pump();
        Assert.Equal(RelayClientState.Refused, client.State);
        Assert.Equal(RelayRefusal.Expired, client.LastRefusal);

        relay.Run(TimeSpan.FromSeconds(23), TimeSpan.FromSeconds(1));
        Assert.Equal(1, client.Counters.HellosSent); // 30 s ± 20% not yet over
        relay.Run(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(1));
        Assert.Equal(2, client.Counters.HellosSent);
        Assert.Equal(RelayClientState.Refused, client.State);

        client.UpdateCertificate(RelayFixtures.Certificate(_root, _node));
        relay.Pump();
        Assert.Equal(RelayClientState.Connected, client.State);
        Assert.Null(client.LastRefusal);
    }

    [Fact]
    public void A_pinned_relay_key_makes_the_client_ignore_challenges_from_another_relay()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        using NodeIdentity otherRelay = RelayFixtures.Node(7);
        RelayClient client = relay.AddClient(_node, RelayFixtures.Certificate(_root, _node), InProcessRelay.Endpoint(40000),
            new RelayClientOptions { ExpectedRelayKey = otherRelay.PublicKey });
        client.Start();
        relay.Pump();

        Assert.Equal(RelayClientState.Connecting, client.State);
        Assert.Equal(1, client.Counters.WrongRelayKey);
        Assert.Equal(0, client.Counters.AuthsSent);
    }

    [Fact]
    public void Frames_from_other_sources_or_out_of_turn_are_not_taken()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        RelayClient client = relay.AddClient(_node, RelayFixtures.Certificate(_root, _node), InProcessRelay.Endpoint(40000));
        client.Start();
        relay.Pump();
        ulong token = client.SessionToken;

        // Not from the relay's endpoint: not this client's frame.
        byte[] sessionUnknown = new byte[TokenFrame.Length];
        TokenFrame.Write(sessionUnknown, RelayFrameType.SessionUnknown, token);
        Assert.False(client.TryHandle(sessionUnknown, new System.Net.IPEndPoint(System.Net.IPAddress.Parse("192.0.2.66"), 3478)));
        Assert.False(client.TryHandle([1, 0, 0, 0, 5, 5], InProcessRelay.RelayEndPoint)); // WireGuard, not relay
        Assert.Equal(RelayClientState.Connected, client.State);

        // A forged Welcome (no nonce knowledge) and a SessionUnknown for another token change nothing.
        byte[] welcome = new byte[WelcomeFrame.Length];
        new WelcomeFrame(new RelayNonce(new byte[32]), 42, 25, 60).Write(welcome);
        Assert.True(client.TryHandle(welcome, InProcessRelay.RelayEndPoint));
        TokenFrame.Write(sessionUnknown, RelayFrameType.SessionUnknown, token + 1);
        Assert.True(client.TryHandle(sessionUnknown, InProcessRelay.RelayEndPoint));
        Assert.Equal(token, client.SessionToken);
        Assert.Equal(2, client.Counters.Unexpected);

        // Garbage after the magic is a counted malformed frame.
        Assert.True(client.TryHandle([(byte)'m', (byte)'r', 1, (byte)RelayFrameType.Recv, 1], InProcessRelay.RelayEndPoint));
        Assert.Equal(1, client.Counters.Malformed);
    }

    [Fact]
    public void A_send_delegate_that_fails_with_a_socket_error_loses_the_frame_not_the_client()
    {
        bool fail = true;
        int delivered = 0;
        using var client = new RelayClient(_node, RelayFixtures.Certificate(_root, _node), InProcessRelay.RelayEndPoint, _ =>
        {
            if (fail)
            {
                throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.NetworkUnreachable);
            }

            delivered++;
        }, new RelayClientOptions { OwnTimer = false }, new Support.ManualTimeProvider(RelayFixtures.Now));

        client.Start();
        Assert.Equal(1, client.Counters.SendFailures);
        Assert.Equal(RelayClientState.Connecting, client.State);
        fail = false;
        client.Start();
        Assert.Equal(1, delivered);
        Assert.Equal(1, client.Counters.FramesSent);
    }

    [Fact]
    public void The_client_refuses_a_certificate_that_is_not_its_own()
    {
        using NodeIdentity other = RelayFixtures.Node(2);
        var error = Assert.Throws<ArgumentException>(() => new RelayClient(_node, RelayFixtures.Certificate(_root, other), InProcessRelay.RelayEndPoint, _ => { }));
        Assert.Contains(other.PublicKey.ToString(), error.Message, StringComparison.Ordinal);
    }
}
