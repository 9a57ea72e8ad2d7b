using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using static MeshAgent.Tests.WireGuard.WireGuardGens;

namespace MeshAgent.Tests.Relay;

/// <summary>
/// The join-through-relay frames (RelayProtocol types 13–17): round trips, the in-place rewrites against the plain
/// writers, the direction rules (only a joiner's join messages in JoinSend/JoinRecv, only an inviter's in
/// JoinReply/JoinDeliver), and the never-throws rule on random and mutated input.
/// </summary>
public sealed class JoinFrameTests
{
    private static readonly Gen<NodePublicKey> AnyKey = Bytes(32).Select(b => new NodePublicKey(b));

    private static readonly Gen<NetworkRootPublicKey> AnyRoot = Bytes(32).Select(b => new NetworkRootPublicKey(b));

    private static Gen<byte[]> JoinMessage(params JoinMessageType[] types) =>
        from type in Gen.Elements(types)
        from session in AnyUInt64
        from length in Gen.Choose(0, 400)
        from body in Bytes(length)
        select Message(type, (uint)session, body);

    [Fact]
    public void Join_frames_round_trip()
    {
        Check.One(PropertyConfig(300), Prop.ForAll(Arb.From(
            from root in AnyRoot
            from inviter in AnyKey
            from joiner in JoinMessage(JoinMessageType.Hello, JoinMessageType.Request)
            from answer in JoinMessage(JoinMessageType.Challenge, JoinMessageType.Refusal, JoinMessageType.Response)
            from token in AnyUInt64
            from channel in AnyUInt64
            select (root, inviter, joiner, answer, token, channel == 0 ? 1UL : channel)),
            t =>
            {
                (NetworkRootPublicKey root, NodePublicKey inviter, byte[] joiner, byte[] answer, ulong token, ulong channel) = t;
                byte[] buffer = new byte[RelayProtocol.MaxFrameLength];

                int n = new JoinSendFrame(root, inviter, joiner).Write(buffer);
                Assert.Equal(JoinSendFrame.Overhead + joiner.Length, n);
                Assert.True(JoinSendFrame.TryRead(buffer.AsSpan(0, n), out JoinSendFrame send));
                Assert.Equal((root, inviter), (send.Network, send.Inviter));
                Assert.Equal(joiner, send.Message.ToArray());

                // The relay's in-place JoinSend → JoinRecv equals the plain JoinRecv writer.
                byte[] expected = new byte[n];
                int m = new JoinRecvFrame(channel, joiner).Write(expected);
                Span<byte> recv = JoinRecvFrame.RewriteSendInPlace(buffer.AsSpan(0, n), channel);
                Assert.Equal(expected[..m], recv.ToArray());
                Assert.True(JoinRecvFrame.TryRead(recv, out JoinRecvFrame received));
                Assert.Equal(channel, received.Channel);
                Assert.Equal(joiner, received.Message.ToArray());

                n = new JoinReplyFrame(token, channel, answer).Write(buffer);
                Assert.True(JoinReplyFrame.TryRead(buffer.AsSpan(0, n), out JoinReplyFrame reply));
                Assert.Equal((token, channel), (reply.Token, reply.Channel));
                Assert.Equal(answer, reply.Message.ToArray());

                m = new JoinDeliverFrame(answer).Write(expected = new byte[n]);
                Span<byte> deliver = JoinDeliverFrame.RewriteReplyInPlace(buffer.AsSpan(0, n));
                Assert.Equal(expected[..m], deliver.ToArray());
                Assert.True(JoinDeliverFrame.TryRead(deliver, out JoinDeliverFrame delivered));
                Assert.Equal(answer, delivered.Message.ToArray());

                n = new JoinUnreachableFrame(root, inviter).Write(buffer);
                Assert.Equal(JoinUnreachableFrame.Length, n);
                Assert.True(n < JoinSendFrame.MinLength, "JoinUnreachable must be shorter than any JoinSend (no amplification)");
                Assert.True(JoinUnreachableFrame.TryRead(buffer.AsSpan(0, n), out JoinUnreachableFrame notice));
                Assert.Equal((root, inviter), (notice.Network, notice.Inviter));
            }));
    }

    [Fact]
    public void Frames_carry_join_messages_of_their_direction_only()
    {
        var root = new NetworkRootPublicKey(new byte[32]);
        var inviter = new NodePublicKey(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        byte[] hello = Message(JoinMessageType.Hello, 7, new byte[56]);
        byte[] challenge = Message(JoinMessageType.Challenge, 7, new byte[48]);
        byte[] wireGuard = [1, 0, 0, 0, .. new byte[144]];
        byte[] buffer = new byte[RelayProtocol.MaxFrameLength];

        // Writers refuse what a reader would refuse (caller bugs).
        Assert.Throws<ArgumentException>(() => new JoinSendFrame(root, inviter, challenge).Write(buffer));
        Assert.Throws<ArgumentException>(() => new JoinSendFrame(root, inviter, wireGuard).Write(buffer));
        Assert.Throws<ArgumentException>(() => new JoinSendFrame(root, inviter, Message(JoinMessageType.Request, 7, new byte[RelayProtocol.MaxJoinerMessageLength])).Write(buffer));
        Assert.Throws<ArgumentException>(() => new JoinReplyFrame(1, 2, hello).Write(buffer));

        // Readers: a JoinSend whose message is not a joiner's (WireGuard, an inviter's type, too long, truncated header) is refused.
        Assert.False(JoinSendFrame.TryRead(Raw(RelayFrameType.JoinSend, [.. root.AsSpan(), .. inviter.AsSpan(), .. wireGuard]), out _));
        Assert.False(JoinSendFrame.TryRead(Raw(RelayFrameType.JoinSend, [.. root.AsSpan(), .. inviter.AsSpan(), .. challenge]), out _));
        Assert.False(JoinSendFrame.TryRead(Raw(RelayFrameType.JoinSend, [.. root.AsSpan(), .. inviter.AsSpan(), .. Message(JoinMessageType.Request, 7, new byte[RelayProtocol.MaxJoinerMessageLength - 7])]), out _));
        Assert.False(JoinSendFrame.TryRead(Raw(RelayFrameType.JoinSend, [.. root.AsSpan(), .. inviter.AsSpan(), .. hello[..7]]), out _));
        Assert.True(JoinSendFrame.TryRead(Raw(RelayFrameType.JoinSend, [.. root.AsSpan(), .. inviter.AsSpan(), .. hello]), out _));

        Assert.False(JoinRecvFrame.TryRead(Raw(RelayFrameType.JoinRecv, [0, 0, 0, 0, 0, 0, 0, 0, .. hello]), out _)); // channel 0 is never issued
        Assert.False(JoinRecvFrame.TryRead(Raw(RelayFrameType.JoinRecv, [0, 0, 0, 0, 0, 0, 0, 9, .. challenge]), out _));
        Assert.False(JoinReplyFrame.TryRead(Raw(RelayFrameType.JoinReply, [.. new byte[16], .. hello]), out _));
        Assert.False(JoinReplyFrame.TryRead(Raw(RelayFrameType.JoinReply, [.. new byte[16], .. wireGuard]), out _));
        Assert.False(JoinDeliverFrame.TryRead(Raw(RelayFrameType.JoinDeliver, hello), out _));
        Assert.True(JoinDeliverFrame.TryRead(Raw(RelayFrameType.JoinDeliver, challenge), out _));
        Assert.False(JoinUnreachableFrame.TryRead(Raw(RelayFrameType.JoinUnreachable, new byte[63]), out _));

        // The type byte is checked: a JoinDeliver is not a JoinSend.
        Assert.False(JoinSendFrame.TryRead(Raw(RelayFrameType.JoinDeliver, [.. root.AsSpan(), .. inviter.AsSpan(), .. hello]), out _));
    }

    [Fact]
    public void No_join_reader_throws_on_random_or_mutated_input()
    {
        Check.One(PropertyConfig(3000), Prop.ForAll(Arb.From(
            from type in Gen.Choose(12, 18)
            from joinType in Gen.Choose(0, 6)
            from length in Gen.Frequency((4, Gen.Choose(0, 120)), (1, Gen.Choose(500, 700)))
            from bytes in Bytes(length)
            from makeJoin in Gen.Elements(true, false)
            from joinOffset in Gen.Elements(4, 12, 20, 68)
            select Shape(bytes, type, makeJoin, joinOffset, joinType)),
            input =>
            {
                ReadOnlySpan<byte> span = input;
                bool header = RelayProtocol.TryReadHeader(span, out _);
                bool any = false;
                any |= JoinSendFrame.TryRead(span, out _);
                any |= JoinRecvFrame.TryRead(span, out _);
                any |= JoinReplyFrame.TryRead(span, out _);
                any |= JoinDeliverFrame.TryRead(span, out _);
                any |= JoinUnreachableFrame.TryRead(span, out _);
                _ = RelayJoin.IsJoinerMessage(span);
                _ = RelayJoin.IsInviterMessage(span);
                Assert.True(!any || header, $"a join reader accepted {Convert.ToHexString(input)} whose header is invalid");
            }));
    }

    /// <summary>A relay-looking frame of <paramref name="type"/>, sometimes with something join-like where a message would start.</summary>
    private static byte[] Shape(byte[] bytes, int type, bool makeJoin, int joinOffset, int joinType)
    {
        if (bytes.Length >= 4)
        {
            bytes[0] = (byte)'m';
            bytes[1] = (byte)'r';
            bytes[2] = RelayProtocol.Version;
            bytes[3] = (byte)type;
        }

        if (makeJoin && bytes.Length >= joinOffset + 4)
        {
            bytes[joinOffset] = (byte)'m';
            bytes[joinOffset + 1] = (byte)'j';
            bytes[joinOffset + 2] = JoinMessages.Version;
            bytes[joinOffset + 3] = (byte)joinType;
        }

        return bytes;
    }

    private static byte[] Message(JoinMessageType type, uint session, byte[] body)
    {
        byte[] message = new byte[JoinMessages.HeaderSize + body.Length];
        JoinMessages.WriteHeader(message, type, session);
        body.CopyTo(message, JoinMessages.HeaderSize);
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
