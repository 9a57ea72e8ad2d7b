using MeshAgent.Core.Invitations;
using MeshAgent.Core.Trust;

namespace MeshAgent.Core.Relay;

// The frames of joining through a relay (types 13–17; layouts and the rules in RelayProtocol, "Joining through the
// relay"). Readers check the header, the lengths and that the carried message looks like a join message of the
// direction the frame goes in, and never throw; writers return the frame length and throw only on a too-small
// destination or a message outside the frame's bounds (caller bugs).

/// <summary>Which join messages may travel which way through a relay.</summary>
public static class RelayJoin
{
    /// <summary>True for a join message a joiner sends (Hello, Request), within <see cref="RelayProtocol.MaxJoinerMessageLength"/>.</summary>
    public static bool IsJoinerMessage(ReadOnlySpan<byte> message) =>
        message.Length <= RelayProtocol.MaxJoinerMessageLength
        && JoinMessages.TryReadHeader(message, out JoinMessageType type, out _)
        && type is JoinMessageType.Hello or JoinMessageType.Request;

    /// <summary>True for a join message an inviter sends (Challenge, Refusal, Response).</summary>
    public static bool IsInviterMessage(ReadOnlySpan<byte> message) =>
        JoinMessages.TryReadHeader(message, out JoinMessageType type, out _)
        && type is JoinMessageType.Challenge or JoinMessageType.Refusal or JoinMessageType.Response;
}

/// <summary>
/// JoinSend (joiner → relay, no session): <c>header ‖ network root key (32) ‖ inviter node key (32) ‖ join message</c>,
/// the message a joiner's (<see cref="RelayJoin.IsJoinerMessage"/>): 76..580 bytes.
/// </summary>
public readonly ref struct JoinSendFrame
{
    public const int Overhead = RelayProtocol.HeaderLength + NetworkRootPublicKey.Length + NodePublicKey.Length;
    public const int MinLength = Overhead + JoinMessages.HeaderSize;
    public const int MaxLength = Overhead + RelayProtocol.MaxJoinerMessageLength;
    private const int NetworkOffset = RelayProtocol.HeaderLength;
    private const int InviterOffset = NetworkOffset + NetworkRootPublicKey.Length;

    public JoinSendFrame(NetworkRootPublicKey network, NodePublicKey inviter, ReadOnlySpan<byte> message)
    {
        Network = network;
        Inviter = inviter;
        Message = message;
    }

    public NetworkRootPublicKey Network { get; }

    public NodePublicKey Inviter { get; }

    /// <summary>Borrowed from the frame it was read from.</summary>
    public ReadOnlySpan<byte> Message { get; }

    /// <summary>False for anything but a well-formed JoinSend carrying a joiner's join message.</summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out JoinSendFrame send)
    {
        send = default;
        if (frame.Length is < MinLength or > MaxLength || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.JoinSend
            || !RelayJoin.IsJoinerMessage(frame[Overhead..]))
        {
            return false;
        }

        send = new JoinSendFrame(
            new NetworkRootPublicKey(frame.Slice(NetworkOffset, NetworkRootPublicKey.Length)),
            new NodePublicKey(frame.Slice(InviterOffset, NodePublicKey.Length)),
            frame[Overhead..]);
        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the message is not a joiner's join message.</summary>
    public int Write(Span<byte> destination)
    {
        if (!RelayJoin.IsJoinerMessage(Message))
        {
            throw new ArgumentException($"a JoinSend carries a joiner's join message (Hello or Request, at most {RelayProtocol.MaxJoinerMessageLength} bytes)", nameof(destination));
        }

        int length = Overhead + Message.Length;
        Span<byte> frame = destination[..length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.JoinSend);
        Network.AsSpan().CopyTo(frame[NetworkOffset..]);
        Inviter.AsSpan().CopyTo(frame[InviterOffset..]);
        Message.CopyTo(frame[Overhead..]);
        return length;
    }
}

/// <summary>JoinRecv (relay → the inviter's session): <c>header ‖ join channel (8) ‖ join message</c> (a joiner's).</summary>
public readonly ref struct JoinRecvFrame
{
    public const int Overhead = RelayProtocol.HeaderLength + RelayProtocol.JoinChannelLength;

    public JoinRecvFrame(ulong channel, ReadOnlySpan<byte> message)
    {
        Channel = channel;
        Message = message;
    }

    public ulong Channel { get; }

    /// <summary>Borrowed from the frame it was read from.</summary>
    public ReadOnlySpan<byte> Message { get; }

    public static bool TryRead(ReadOnlySpan<byte> frame, out JoinRecvFrame recv)
    {
        recv = default;
        if (frame.Length < Overhead + JoinMessages.HeaderSize || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.JoinRecv
            || !RelayJoin.IsJoinerMessage(frame[Overhead..]))
        {
            return false;
        }

        ulong channel = RelayProtocol.ReadToken(frame[RelayProtocol.HeaderLength..]);
        if (channel == 0)
        {
            return false;
        }

        recv = new JoinRecvFrame(channel, frame[Overhead..]);
        return true;
    }

    public int Write(Span<byte> destination)
    {
        int length = Overhead + Message.Length;
        Span<byte> frame = destination[..length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.JoinRecv);
        RelayProtocol.WriteToken(frame[RelayProtocol.HeaderLength..], Channel);
        Message.CopyTo(frame[Overhead..]);
        return length;
    }

    /// <summary>
    /// Turns a validated JoinSend into the JoinRecv the relay forwards, in place: the JoinRecv header and channel are
    /// written over the end of the JoinSend's keys, the message does not move. Returns the JoinRecv frame (borrowed
    /// from <paramref name="sendFrame"/>).
    /// </summary>
    public static Span<byte> RewriteSendInPlace(Span<byte> sendFrame, ulong channel)
    {
        Span<byte> recv = sendFrame[(JoinSendFrame.Overhead - Overhead)..];
        RelayProtocol.WriteHeader(recv, RelayFrameType.JoinRecv);
        RelayProtocol.WriteToken(recv[RelayProtocol.HeaderLength..], channel);
        return recv;
    }
}

/// <summary>JoinReply (the inviter → relay, on its session): <c>header ‖ session token (8) ‖ join channel (8) ‖ join message</c> (an inviter's).</summary>
public readonly ref struct JoinReplyFrame
{
    public const int Overhead = RelayProtocol.HeaderLength + RelayProtocol.TokenLength + RelayProtocol.JoinChannelLength;
    private const int ChannelOffset = RelayProtocol.HeaderLength + RelayProtocol.TokenLength;

    public JoinReplyFrame(ulong token, ulong channel, ReadOnlySpan<byte> message)
    {
        Token = token;
        Channel = channel;
        Message = message;
    }

    public ulong Token { get; }

    public ulong Channel { get; }

    /// <summary>Borrowed from the frame it was read from.</summary>
    public ReadOnlySpan<byte> Message { get; }

    public static bool TryRead(ReadOnlySpan<byte> frame, out JoinReplyFrame reply)
    {
        reply = default;
        if (frame.Length < Overhead + JoinMessages.HeaderSize || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.JoinReply
            || !RelayJoin.IsInviterMessage(frame[Overhead..]))
        {
            return false;
        }

        reply = new JoinReplyFrame(RelayProtocol.ReadToken(frame[RelayProtocol.HeaderLength..]), RelayProtocol.ReadToken(frame[ChannelOffset..]), frame[Overhead..]);
        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the message is not an inviter's join message or too long for one frame.</summary>
    public int Write(Span<byte> destination)
    {
        if (!RelayJoin.IsInviterMessage(Message) || Message.Length > RelayProtocol.MaxFrameLength - Overhead)
        {
            throw new ArgumentException($"a JoinReply carries an inviter's join message (Challenge, Refusal or Response) of at most {RelayProtocol.MaxFrameLength - Overhead} bytes", nameof(destination));
        }

        int length = Overhead + Message.Length;
        Span<byte> frame = destination[..length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.JoinReply);
        RelayProtocol.WriteToken(frame[RelayProtocol.HeaderLength..], Token);
        RelayProtocol.WriteToken(frame[ChannelOffset..], Channel);
        Message.CopyTo(frame[Overhead..]);
        return length;
    }
}

/// <summary>JoinDeliver (relay → joiner): <c>header ‖ join message</c> (an inviter's).</summary>
public readonly ref struct JoinDeliverFrame
{
    public const int Overhead = RelayProtocol.HeaderLength;

    public JoinDeliverFrame(ReadOnlySpan<byte> message) => Message = message;

    /// <summary>Borrowed from the frame it was read from.</summary>
    public ReadOnlySpan<byte> Message { get; }

    public static bool TryRead(ReadOnlySpan<byte> frame, out JoinDeliverFrame deliver)
    {
        deliver = default;
        if (frame.Length < Overhead + JoinMessages.HeaderSize || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.JoinDeliver
            || !RelayJoin.IsInviterMessage(frame[Overhead..]))
        {
            return false;
        }

        deliver = new JoinDeliverFrame(frame[Overhead..]);
        return true;
    }

    public int Write(Span<byte> destination)
    {
        int length = Overhead + Message.Length;
        Span<byte> frame = destination[..length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.JoinDeliver);
        Message.CopyTo(frame[Overhead..]);
        return length;
    }

    /// <summary>Turns a validated JoinReply into the JoinDeliver the relay forwards, in place (the message does not move). Borrowed from <paramref name="replyFrame"/>.</summary>
    public static Span<byte> RewriteReplyInPlace(Span<byte> replyFrame)
    {
        Span<byte> deliver = replyFrame[(JoinReplyFrame.Overhead - Overhead)..];
        RelayProtocol.WriteHeader(deliver, RelayFrameType.JoinDeliver);
        return deliver;
    }
}

/// <summary>JoinUnreachable (relay → joiner): <c>header ‖ network root key (32) ‖ inviter node key (32)</c> = 68 bytes, shorter than any JoinSend.</summary>
public readonly struct JoinUnreachableFrame(NetworkRootPublicKey network, NodePublicKey inviter)
{
    public const int Length = RelayProtocol.HeaderLength + NetworkRootPublicKey.Length + NodePublicKey.Length;
    private const int NetworkOffset = RelayProtocol.HeaderLength;
    private const int InviterOffset = NetworkOffset + NetworkRootPublicKey.Length;

    public NetworkRootPublicKey Network { get; } = network;

    public NodePublicKey Inviter { get; } = inviter;

    public static bool TryRead(ReadOnlySpan<byte> frame, out JoinUnreachableFrame notice)
    {
        notice = default;
        if (frame.Length != Length || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.JoinUnreachable)
        {
            return false;
        }

        notice = new JoinUnreachableFrame(
            new NetworkRootPublicKey(frame.Slice(NetworkOffset, NetworkRootPublicKey.Length)),
            new NodePublicKey(frame.Slice(InviterOffset, NodePublicKey.Length)));
        return true;
    }

    public int Write(Span<byte> destination)
    {
        Span<byte> frame = destination[..Length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.JoinUnreachable);
        Network.AsSpan().CopyTo(frame[NetworkOffset..]);
        Inviter.AsSpan().CopyTo(frame[InviterOffset..]);
        return Length;
    }
}
