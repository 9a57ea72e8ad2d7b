using System.Buffers.Binary;

namespace MeshAgent.Engine.Membership;

// SWIM failure-detector messages (SWIM §3.1; memberlist ping / indirectPingReq / ackResp /
// nackResp). The target of a direct ping is the session it travels in, so pings carry only the
// sequence number the ack echoes. Every TryRead accepts exactly its size and never throws.

/// <summary>
/// Direct probe. Body: <c>seq (u32)</c>. Answered with an <see cref="AckMessage"/> carrying the same sequence number.
/// </summary>
public readonly record struct PingMessage(uint Sequence)
{
    public const int Size = 4;

    public static bool TryRead(ReadOnlySpan<byte> body, out PingMessage message)
    {
        message = body.Length == Size ? new PingMessage(BinaryPrimitives.ReadUInt32BigEndian(body)) : default;
        return body.Length == Size;
    }

    public int Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Sequence);
        return Size;
    }
}

/// <summary>Answer to a ping, or an intermediary forwarding the target's answer to an indirect probe. Body: <c>seq (u32)</c>.</summary>
public readonly record struct AckMessage(uint Sequence)
{
    public const int Size = 4;

    public static bool TryRead(ReadOnlySpan<byte> body, out AckMessage message)
    {
        message = body.Length == Size ? new AckMessage(BinaryPrimitives.ReadUInt32BigEndian(body)) : default;
        return body.Length == Size;
    }

    public int Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Sequence);
        return Size;
    }
}

/// <summary>
/// Lifeguard's negative ack: an intermediary heard nothing from the target within 80 % of the
/// probe timeout. A prober that expected nacks and got none suspects its own link (awareness
/// rises) rather than the target's. Body: <c>seq (u32)</c> of the prober's ping-req.
/// </summary>
public readonly record struct NackMessage(uint Sequence)
{
    public const int Size = 4;

    public static bool TryRead(ReadOnlySpan<byte> body, out NackMessage message)
    {
        message = body.Length == Size ? new NackMessage(BinaryPrimitives.ReadUInt32BigEndian(body)) : default;
        return body.Length == Size;
    }

    public int Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Sequence);
        return Size;
    }
}

/// <summary>
/// Indirect probe request (SWIM ping-req): "ping <see cref="Target"/> for me; forward its ack
/// with my <see cref="Sequence"/>, or a nack if none comes within 80 % of
/// <see cref="TimeoutMilliseconds"/>".
/// <code>
///  0: seq (u32) | 4: timeout ms (u32) | 8: target member id (32)     = 40 bytes
/// </code>
/// </summary>
public readonly record struct PingReqMessage(uint Sequence, uint TimeoutMilliseconds, MemberId Target)
{
    public const int Size = 8 + MemberId.Size;

    public static bool TryRead(ReadOnlySpan<byte> body, out PingReqMessage message)
    {
        if (body.Length != Size)
        {
            message = default;
            return false;
        }

        message = new PingReqMessage(
            BinaryPrimitives.ReadUInt32BigEndian(body),
            BinaryPrimitives.ReadUInt32BigEndian(body[4..]),
            new MemberId(body.Slice(8, MemberId.Size)));
        return true;
    }

    public int Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Sequence);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], TimeoutMilliseconds);
        Target.WriteTo(destination[8..]);
        return Size;
    }
}
