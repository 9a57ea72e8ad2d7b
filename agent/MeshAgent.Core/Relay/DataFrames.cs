using MeshAgent.Core.Trust;

namespace MeshAgent.Core.Relay;

// The frames of an established session (layouts in RelayProtocol). Readers check the whole header and
// the length and never throw; writers return the frame length and throw only on a too-small destination.

/// <summary>
/// Send: <c>header ‖ session token (8) ‖ destination key (32) ‖ payload</c>. The payload is opaque (a
/// WireGuard message) and may be empty.
/// </summary>
public readonly ref struct SendFrame
{
    private const int TokenOffset = RelayProtocol.HeaderLength;
    private const int DestinationOffset = TokenOffset + RelayProtocol.TokenLength;

    public SendFrame(ulong token, NodePublicKey destination, ReadOnlySpan<byte> payload)
    {
        Token = token;
        Destination = destination;
        Payload = payload;
    }

    public ulong Token { get; }

    public NodePublicKey Destination { get; }

    /// <summary>Borrowed from the frame it was read from.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    public static bool TryRead(ReadOnlySpan<byte> frame, out SendFrame send)
    {
        send = default;
        if (frame.Length < RelayProtocol.SendOverhead || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.Send)
        {
            return false;
        }

        send = new SendFrame(
            RelayProtocol.ReadToken(frame[TokenOffset..]),
            new NodePublicKey(frame.Slice(DestinationOffset, NodePublicKey.Length)),
            frame[RelayProtocol.SendOverhead..]);
        return true;
    }

    /// <summary>Token of a frame already known to be a Send (<see cref="TryRead"/> succeeded on it); reads without copying the key.</summary>
    public static ulong PeekToken(ReadOnlySpan<byte> frame) => RelayProtocol.ReadToken(frame[TokenOffset..]);

    /// <summary>Destination key bytes of a frame already known to be a Send. Borrowed from the frame.</summary>
    public static ReadOnlySpan<byte> PeekDestination(ReadOnlySpan<byte> frame) => frame.Slice(DestinationOffset, NodePublicKey.Length);

    public int Write(Span<byte> destination)
    {
        int length = RelayProtocol.SendOverhead + Payload.Length;
        Span<byte> frame = destination[..length];
        WriteOverhead(frame, Token, Destination);
        Payload.CopyTo(frame[RelayProtocol.SendOverhead..]);
        return length;
    }

    /// <summary>
    /// Writes the <see cref="RelayProtocol.SendOverhead"/> bytes in front of a payload the caller already put at
    /// <c>frame[SendOverhead..]</c> (headroom, STYLE rule 2: no copy of the payload).
    /// </summary>
    public static void WriteOverhead(Span<byte> frame, ulong token, NodePublicKey destination)
    {
        RelayProtocol.WriteHeader(frame, RelayFrameType.Send);
        RelayProtocol.WriteToken(frame[TokenOffset..], token);
        destination.AsSpan().CopyTo(frame[DestinationOffset..]);
    }
}

/// <summary>Recv: <c>header ‖ source key (32) ‖ payload</c>.</summary>
public readonly ref struct RecvFrame
{
    private const int SourceOffset = RelayProtocol.HeaderLength;

    public RecvFrame(NodePublicKey source, ReadOnlySpan<byte> payload)
    {
        Source = source;
        Payload = payload;
    }

    public NodePublicKey Source { get; }

    /// <summary>Borrowed from the frame it was read from.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    public static bool TryRead(ReadOnlySpan<byte> frame, out RecvFrame recv)
    {
        recv = default;
        if (frame.Length < RelayProtocol.RecvOverhead || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.Recv)
        {
            return false;
        }

        recv = new RecvFrame(new NodePublicKey(frame.Slice(SourceOffset, NodePublicKey.Length)), frame[RelayProtocol.RecvOverhead..]);
        return true;
    }

    public int Write(Span<byte> destination)
    {
        int length = RelayProtocol.RecvOverhead + Payload.Length;
        Span<byte> frame = destination[..length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.Recv);
        Source.AsSpan().CopyTo(frame[SourceOffset..]);
        Payload.CopyTo(frame[RelayProtocol.RecvOverhead..]);
        return length;
    }

    /// <summary>
    /// Turns a Send frame into the Recv frame the relay forwards, in place and without moving the payload: a
    /// Send's overhead is 8 bytes longer than a Recv's, so the Recv header and source key are written over the
    /// Send's token and destination key. Returns the Recv frame, <c>sendFrame[8..]</c> (borrowed from it).
    /// The caller has validated <paramref name="sendFrame"/> (<see cref="SendFrame.TryRead"/>).
    /// </summary>
    public static Span<byte> RewriteSendInPlace(Span<byte> sendFrame, scoped ReadOnlySpan<byte> sourceKey)
    {
        Span<byte> recv = sendFrame[(RelayProtocol.SendOverhead - RelayProtocol.RecvOverhead)..];
        RelayProtocol.WriteHeader(recv, RelayFrameType.Recv);
        sourceKey[..NodePublicKey.Length].CopyTo(recv[SourceOffset..]);
        return recv;
    }
}

/// <summary>
/// The frames that carry only a session token: <c>header ‖ session token (8)</c> = 12 bytes —
/// <see cref="RelayFrameType.Keepalive"/>, <see cref="RelayFrameType.KeepaliveAck"/> and <see cref="RelayFrameType.SessionUnknown"/>.
/// </summary>
public static class TokenFrame
{
    public const int Length = RelayProtocol.HeaderLength + RelayProtocol.TokenLength;

    public static bool IsTokenFrameType(RelayFrameType type) =>
        type is RelayFrameType.Keepalive or RelayFrameType.KeepaliveAck or RelayFrameType.SessionUnknown;

    /// <summary>Reads a token frame of type <paramref name="expected"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, RelayFrameType expected, out ulong token)
    {
        token = 0;
        if (!IsTokenFrameType(expected) || frame.Length != Length || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != expected)
        {
            return false;
        }

        token = RelayProtocol.ReadToken(frame[RelayProtocol.HeaderLength..]);
        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="type"/> is not a token frame type (a caller bug).</summary>
    public static int Write(Span<byte> destination, RelayFrameType type, ulong token)
    {
        if (!IsTokenFrameType(type))
        {
            throw new ArgumentException($"{type} is not a token-only relay frame", nameof(type));
        }

        Span<byte> frame = destination[..Length];
        RelayProtocol.WriteHeader(frame, type);
        RelayProtocol.WriteToken(frame[RelayProtocol.HeaderLength..], token);
        return Length;
    }
}

/// <summary>
/// UnknownPeer: <c>header ‖ session token (8) ‖ destination key (32)</c> = 44 bytes: the destination of a Send
/// is not connected to this relay (or not in the sender's network). The token shows the notice is for the
/// current session.
/// </summary>
public readonly struct UnknownPeerFrame(ulong token, NodePublicKey destination)
{
    public const int Length = RelayProtocol.HeaderLength + RelayProtocol.TokenLength + NodePublicKey.Length;
    private const int TokenOffset = RelayProtocol.HeaderLength;
    private const int DestinationOffset = TokenOffset + RelayProtocol.TokenLength;

    public ulong Token { get; } = token;

    public NodePublicKey Destination { get; } = destination;

    public static bool TryRead(ReadOnlySpan<byte> frame, out UnknownPeerFrame notice)
    {
        notice = default;
        if (frame.Length != Length || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.UnknownPeer)
        {
            return false;
        }

        notice = new UnknownPeerFrame(RelayProtocol.ReadToken(frame[TokenOffset..]), new NodePublicKey(frame.Slice(DestinationOffset, NodePublicKey.Length)));
        return true;
    }

    public int Write(Span<byte> destination)
    {
        Span<byte> frame = destination[..Length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.UnknownPeer);
        RelayProtocol.WriteToken(frame[TokenOffset..], Token);
        Destination.AsSpan().CopyTo(frame[DestinationOffset..]);
        return Length;
    }
}

/// <summary>
/// RevocationPush: <c>header ‖ session token (8) ‖ revocation</c>, the revocation being an encoded
/// <see cref="Revocation"/> (opaque here, at least one byte; the relay decodes and verifies it).
/// </summary>
public readonly ref struct RevocationPushFrame
{
    public const int FixedLength = RelayProtocol.HeaderLength + RelayProtocol.TokenLength;

    public RevocationPushFrame(ulong token, ReadOnlySpan<byte> revocation)
    {
        Token = token;
        Revocation = revocation;
    }

    public ulong Token { get; }

    /// <summary>The encoded revocation. Borrowed from the frame it was read from.</summary>
    public ReadOnlySpan<byte> Revocation { get; }

    public static bool TryRead(ReadOnlySpan<byte> frame, out RevocationPushFrame push)
    {
        push = default;
        if (frame.Length <= FixedLength || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.RevocationPush)
        {
            return false;
        }

        push = new RevocationPushFrame(RelayProtocol.ReadToken(frame[RelayProtocol.HeaderLength..]), frame[FixedLength..]);
        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> for an empty revocation.</summary>
    public int Write(Span<byte> destination)
    {
        if (Revocation.IsEmpty || Revocation.Length > RelayProtocol.MaxFrameLength - FixedLength)
        {
            throw new ArgumentException($"a pushed revocation is 1..{RelayProtocol.MaxFrameLength - FixedLength} bytes, got {Revocation.Length}", nameof(destination));
        }

        int length = FixedLength + Revocation.Length;
        Span<byte> frame = destination[..length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.RevocationPush);
        RelayProtocol.WriteToken(frame[RelayProtocol.HeaderLength..], Token);
        Revocation.CopyTo(frame[FixedLength..]);
        return length;
    }
}
