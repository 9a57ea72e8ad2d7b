using MeshAgent.Core.Invitations;
using MeshAgent.Core.Net;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;
using MeshAgent.Relay;

namespace MeshAgent.Tests.Relay;

/// <summary>
/// Joining through the relay in process (real hub, real member clients, manual clock): an unauthenticated joiner's
/// join messages reach only the inviter it names, in the network it names; answers come back on the join channel;
/// anything that is not a join exchange is refused; channels are rate limited, capped and expire.
/// </summary>
public sealed class RelayJoinTests : IDisposable
{
    private static readonly UdpEndpoint Joiner = InProcessRelay.Endpoint(50000, "192.0.2.77");
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
    public void A_joiner_reaches_the_named_inviter_and_gets_its_answers_back()
    {
        using var relay = new InProcessRelay(roots: [_root.PublicKey, _otherRoot.PublicKey]);
        (RelayClient inviter, NodeIdentity inviterIdentity) = Connect(relay, _root, 1);
        (RelayClient bystander, _) = Connect(relay, _root, 2);
        var atInviter = RecordJoins(inviter);
        var atBystander = RecordJoins(bystander);

        byte[] hello = Message(JoinMessageType.Hello, 42, 56);
        var forwarded = relay.Inject(JoinSend(_root.PublicKey, inviterIdentity.PublicKey, hello), Joiner);
        Assert.Equal(RelayActionKind.Forward, forwarded.Kind);
        relay.Pump();
        Assert.True(inviter.TryHandle(forwarded.Frame, InProcessRelay.RelayEndPoint));
        (ulong channel, byte[] message) = Assert.Single(atInviter);
        Assert.NotEqual(0UL, channel);
        Assert.Equal(hello, message);
        Assert.Empty(atBystander);
        Assert.Equal(1, relay.Hub.JoinChannelCount);

        // The inviter answers on the channel; the relay delivers the answer to the joiner's endpoint.
        byte[] challenge = Message(JoinMessageType.Challenge, 42, 48);
        relay.Delivered.Clear();
        Assert.True(inviter.SendJoinReply(channel, challenge));
        relay.Pump();
        (UdpEndpoint to, byte[] frame) = Assert.Single(relay.Delivered);
        Assert.Equal(Joiner, to);
        Assert.True(JoinDeliverFrame.TryRead(frame, out JoinDeliverFrame deliver));
        Assert.Equal(challenge, deliver.Message.ToArray());

        // The joiner's next message goes over the same channel.
        var again = relay.Inject(JoinSend(_root.PublicKey, inviterIdentity.PublicKey, Message(JoinMessageType.Request, 42, 180)), Joiner);
        Assert.True(JoinRecvFrame.TryRead(again.Frame, out JoinRecvFrame recv));
        Assert.Equal(channel, recv.Channel);
        Assert.Equal(2, relay.Hub.Counters[RelayCounter.JoinMessagesForwarded]);
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.JoinRepliesForwarded]);
    }

    [Fact]
    public void Joiners_only_reach_a_connected_inviter_of_the_network_they_name()
    {
        using var relay = new InProcessRelay(roots: [_root.PublicKey, _otherRoot.PublicKey]);
        (_, NodeIdentity inviter) = Connect(relay, _root, 1);
        using NodeIdentity absent = RelayFixtures.Node(99);
        byte[] hello = Message(JoinMessageType.Hello, 1, 56);

        // Right inviter, wrong network (another network served by the same relay): not forwarded.
        var wrongNetwork = relay.Inject(JoinSend(_otherRoot.PublicKey, inviter.PublicKey, hello), Joiner);
        Assert.Equal(RelayActionKind.Reply, wrongNetwork.Kind);
        Assert.True(JoinUnreachableFrame.TryRead(wrongNetwork.Frame, out JoinUnreachableFrame notice));
        Assert.Equal(inviter.PublicKey, notice.Inviter);

        // An inviter not connected: JoinUnreachable, at most one a second per channel.
        UdpEndpoint other = InProcessRelay.Endpoint(50001, "192.0.2.78");
        Assert.Equal(RelayActionKind.Reply, relay.Inject(JoinSend(_root.PublicKey, absent.PublicKey, hello), other).Kind);
        Assert.Equal(RelayActionKind.None, relay.Inject(JoinSend(_root.PublicKey, absent.PublicKey, hello), other).Kind);
        Assert.Equal(0, relay.Hub.Counters[RelayCounter.JoinMessagesForwarded]);
        Assert.Equal(2, relay.Hub.Counters[RelayCounter.JoinUnreachableSent]);
    }

    [Fact]
    public void Unauthenticated_sources_cannot_send_anything_but_join_messages()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        (RelayClient inviter, NodeIdentity inviterIdentity) = Connect(relay, _root, 1);
        var atInviter = RecordJoins(inviter);
        var payloads = new List<byte[]>();
        inviter.PayloadReceived += (_, payload) => payloads.Add(payload.ToArray());
        NodePublicKey target = inviterIdentity.PublicKey;

        // A WireGuard message, an inviter's message type and an oversized Request inside JoinSend: dropped, counted.
        byte[] wireGuard = [1, 0, 0, 0, .. new byte[144]];
        Assert.Equal(RelayActionKind.None, relay.Inject(Raw(RelayFrameType.JoinSend, [.. _root.PublicKey.AsSpan(), .. target.AsSpan(), .. wireGuard]), Joiner).Kind);
        Assert.Equal(RelayActionKind.None, relay.Inject(Raw(RelayFrameType.JoinSend, [.. _root.PublicKey.AsSpan(), .. target.AsSpan(), .. Message(JoinMessageType.Response, 1, 100)]), Joiner).Kind);
        Assert.Equal(RelayActionKind.None, relay.Inject(Raw(RelayFrameType.JoinSend, [.. _root.PublicKey.AsSpan(), .. target.AsSpan(), .. Message(JoinMessageType.Request, 1, RelayProtocol.MaxJoinerMessageLength)]), Joiner).Kind);
        Assert.Equal(3, relay.Hub.Counters[RelayCounter.DropJoinMalformed]);

        // A plain Send without a session, a JoinReply without one, a forged JoinRecv/JoinDeliver from a client: no forward.
        byte[] send = new byte[RelayProtocol.SendOverhead + wireGuard.Length];
        new SendFrame(12345, target, wireGuard).Write(send);
        Assert.NotEqual(RelayActionKind.Forward, relay.Inject(send, Joiner).Kind);
        byte[] reply = new byte[200];
        int n = new JoinReplyFrame(12345, 1, Message(JoinMessageType.Challenge, 1, 48)).Write(reply);
        Assert.NotEqual(RelayActionKind.Forward, relay.Inject(reply[..n], Joiner).Kind);
        Assert.Equal(RelayActionKind.None, relay.Inject(Raw(RelayFrameType.JoinRecv, [0, 0, 0, 0, 0, 0, 0, 1, .. Message(JoinMessageType.Hello, 1, 56)]), Joiner).Kind);
        Assert.Equal(RelayActionKind.None, relay.Inject(Raw(RelayFrameType.JoinDeliver, Message(JoinMessageType.Challenge, 1, 48)), Joiner).Kind);

        relay.Pump();
        Assert.Empty(atInviter);
        Assert.Empty(payloads);
        Assert.Equal(0, relay.Hub.Counters[RelayCounter.FramesForwarded]);
        Assert.Equal(0, relay.Hub.Counters[RelayCounter.JoinMessagesForwarded]);
    }

    [Fact]
    public void Join_messages_are_rate_limited_per_source_and_per_channel()
    {
        using var relay = new InProcessRelay(roots: _root.PublicKey);
        (_, NodeIdentity inviter) = Connect(relay, _root, 1);
        byte[] frame = JoinSend(_root.PublicKey, inviter.PublicKey, Message(JoinMessageType.Hello, 1, 56));

        // A flood at one instant: the per-address bucket (WireGuard's handshake bucket, burst 5) lets 5 through.
        int forwarded = Enumerable.Range(0, 50).Count(_ => relay.Inject(frame, Joiner).Kind == RelayActionKind.Forward);
        Assert.Equal(5, forwarded);
        Assert.Equal(45, relay.Hub.Counters[RelayCounter.DropJoinRateLimited]);

        // Sustained: one message every 50 ms for 10 s (what the address bucket allows) — the channel holds it to its
        // rate (4/s, bursts of 8): at most 8 - 5 + 40 more.
        forwarded = 0;
        for (int i = 0; i < 200; i++)
        {
            relay.Time.Advance(TimeSpan.FromMilliseconds(50));
            forwarded += relay.Inject(frame, Joiner).Kind == RelayActionKind.Forward ? 1 : 0;
        }

        Assert.InRange(forwarded, 40, 8 - 5 + (relay.Options.JoinMessagesPerSecond * 10));
    }

    [Fact]
    public void Channels_are_capped_bound_to_their_inviter_limited_in_replies_and_expire()
    {
        using var relay = new InProcessRelay(new RelayOptions { MaxJoinChannels = 2, Listen = [InProcessRelay.RelayEndPoint], AcceptedRoots = [_root.PublicKey] });
        (RelayClient inviter, NodeIdentity inviterIdentity) = Connect(relay, _root, 1);
        (RelayClient other, _) = Connect(relay, _root, 2);
        var atInviter = RecordJoins(inviter);
        byte[] hello = JoinSend(_root.PublicKey, inviterIdentity.PublicKey, Message(JoinMessageType.Hello, 1, 56));

        var first = relay.Inject(hello, Joiner);
        Assert.True(inviter.TryHandle(first.Frame, InProcessRelay.RelayEndPoint));
        Assert.Equal(RelayActionKind.Forward, relay.Inject(hello, InProcessRelay.Endpoint(50002, "192.0.2.79")).Kind);
        Assert.Equal(RelayActionKind.None, relay.Inject(hello, InProcessRelay.Endpoint(50003, "192.0.2.80")).Kind);
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.DropJoinChannelsFull]);
        ulong channel = Assert.Single(atInviter).Channel;

        // Another member cannot answer on the inviter's channel.
        byte[] challenge = Message(JoinMessageType.Challenge, 1, 48);
        relay.Delivered.Clear();
        Assert.True(other.SendJoinReply(channel, challenge));
        relay.Pump();
        Assert.Empty(relay.Delivered);
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.DropJoinUnknownChannel]);

        // The inviter's replies are bounded per channel.
        for (int i = 0; i < relay.Options.JoinRepliesPerChannel + 3; i++)
        {
            inviter.SendJoinReply(channel, challenge);
        }

        relay.Pump();
        Assert.Equal(relay.Options.JoinRepliesPerChannel, relay.Delivered.Count);
        Assert.Equal(3, relay.Hub.Counters[RelayCounter.DropJoinReplyBudget]);

        // Idle channels expire (the inviter keeps its session with keepalives).
        relay.Run(relay.Options.JoinChannelIdleTimeout + TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        relay.Hub.Sweep([]);
        Assert.Equal(0, relay.Hub.JoinChannelCount);
        Assert.Equal(2, relay.Hub.Counters[RelayCounter.JoinChannelsExpired]);
        Assert.True(inviter.SendJoinReply(channel, challenge));
        relay.Pump();
        Assert.Equal(2, relay.Hub.Counters[RelayCounter.DropJoinUnknownChannel]);
    }

    private (RelayClient Client, NodeIdentity Identity) Connect(InProcessRelay relay, NetworkRootKey root, int index)
    {
        NodeIdentity identity = RelayFixtures.Node(index);
        _identities.Add(identity);
        RelayClient client = relay.AddClient(identity, RelayFixtures.Certificate(root, identity), InProcessRelay.Endpoint(40000 + index, $"203.0.113.{100 + index}"));
        client.Start();
        relay.Pump();
        Assert.Equal(RelayClientState.Connected, client.State);
        return (client, identity);
    }

    private static List<(ulong Channel, byte[] Message)> RecordJoins(RelayClient client)
    {
        var received = new List<(ulong, byte[])>();
        client.JoinReceived += (channel, message) => received.Add((channel, message.ToArray()));
        return received;
    }

    private static byte[] JoinSend(NetworkRootPublicKey network, NodePublicKey inviter, byte[] message)
    {
        byte[] frame = new byte[JoinSendFrame.Overhead + message.Length];
        new JoinSendFrame(network, inviter, message).Write(frame);
        return frame;
    }

    private static byte[] Message(JoinMessageType type, uint session, int bodyLength)
    {
        byte[] message = new byte[JoinMessages.HeaderSize + bodyLength];
        JoinMessages.WriteHeader(message, type, session);
        return message;
    }

    private static byte[] Raw(RelayFrameType type, byte[] body)
    {
        byte[] frame = new byte[RelayProtocol.HeaderLength + body.Length];
        RelayProtocol.WriteHeader(frame, type);
        body.CopyTo(frame, RelayProtocol.HeaderLength);
        return frame;
    }
}
