using System.Buffers.Binary;

namespace MeshAgent.Engine.Membership;

// Membership state changes, disseminated by piggybacking (SWIM §4.4) and as anti-entropy records.
// Incarnations follow SWIM §4.2: only a member raises its own incarnation (to refute a suspicion
// or to publish a new payload); anyone may suspect or declare dead at the incarnation they saw.

/// <summary>Alive message options.</summary>
[Flags]
public enum AliveFlags : byte
{
    None = 0,

    /// <summary>
    /// The payload is left out because it has not changed since <see cref="AliveMessage.PayloadVersion"/>
    /// was published: a refutation only raises the incarnation, and sending a 300-byte certificate
    /// with every refutation would multiply the cost of each false suspicion. A node that holds an
    /// older version applies the liveness and fetches the payload by anti-entropy; a node that does
    /// not know the member ignores it.
    /// </summary>
    PayloadOmitted = 1,
}

/// <summary>
/// "Member is alive at this incarnation, with this payload". The payload travels in full when
/// it is new (a join, an update) so the alive validates on its own (the validation hook sees the
/// certificate) and a join needs no second round trip.
/// <code>
///  0: member id (32) | 32: incarnation (u32) | 36: payload version (u64) | 44: flags (u8)
/// 45: payload (rest; empty when flags has PayloadOmitted)
/// </code>
/// Borrowed: <see cref="Payload"/> is a view of the frame.
/// </summary>
public readonly ref struct AliveMessage
{
    public const int FixedSize = MemberId.Size + 4 + 8 + 1;

    public AliveMessage(MemberId member, uint incarnation, ulong payloadVersion, AliveFlags flags, ReadOnlySpan<byte> payload)
    {
        Member = member;
        Incarnation = incarnation;
        PayloadVersion = payloadVersion;
        Flags = flags;
        Payload = payload;
    }

    public MemberId Member { get; }

    public uint Incarnation { get; }

    public ulong PayloadVersion { get; }

    public AliveFlags Flags { get; }

    public bool PayloadOmitted => (Flags & AliveFlags.PayloadOmitted) != 0;

    public ReadOnlySpan<byte> Payload { get; }

    public int Size => FixedSize + Payload.Length;

    public static bool TryRead(ReadOnlySpan<byte> body, out AliveMessage message)
    {
        message = default;
        if (body.Length < FixedSize)
        {
            return false;
        }

        var flags = (AliveFlags)body[44];
        if ((flags & ~AliveFlags.PayloadOmitted) != 0 || ((flags & AliveFlags.PayloadOmitted) != 0 && body.Length != FixedSize))
        {
            return false;
        }

        message = new AliveMessage(
            new MemberId(body[..MemberId.Size]),
            BinaryPrimitives.ReadUInt32BigEndian(body[32..]),
            BinaryPrimitives.ReadUInt64BigEndian(body[36..]),
            flags,
            body[FixedSize..]);
        return true;
    }

    public int Write(Span<byte> destination)
    {
        Member.WriteTo(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[32..], Incarnation);
        BinaryPrimitives.WriteUInt64BigEndian(destination[36..], PayloadVersion);
        destination[44] = (byte)Flags;
        Payload.CopyTo(destination[FixedSize..]);
        return Size;
    }
}

/// <summary>
/// "<see cref="From"/> suspects <see cref="Member"/> at <see cref="Incarnation"/>". From counts
/// independent confirmations for Lifeguard's shrinking suspicion timeout.
/// <code>
///  0: member id (32) | 32: incarnation (u32) | 36: from member id (32)     = 68 bytes
/// </code>
/// </summary>
public readonly record struct SuspectMessage(MemberId Member, uint Incarnation, MemberId From)
{
    public const int Size = MemberId.Size + 4 + MemberId.Size;

    public static bool TryRead(ReadOnlySpan<byte> body, out SuspectMessage message)
    {
        bool ok = AccusationCodec.TryRead(body, out MemberId member, out uint incarnation, out MemberId from);
        message = new SuspectMessage(member, incarnation, from);
        return ok;
    }

    public int Write(Span<byte> destination) => AccusationCodec.Write(destination, Member, Incarnation, From);
}

/// <summary>"<see cref="From"/> declared <see cref="Member"/> dead at <see cref="Incarnation"/>" (its suspicion timed out). Same layout as <see cref="SuspectMessage"/>.</summary>
public readonly record struct DeadMessage(MemberId Member, uint Incarnation, MemberId From)
{
    public const int Size = SuspectMessage.Size;

    public static bool TryRead(ReadOnlySpan<byte> body, out DeadMessage message)
    {
        bool ok = AccusationCodec.TryRead(body, out MemberId member, out uint incarnation, out MemberId from);
        message = new DeadMessage(member, incarnation, from);
        return ok;
    }

    public int Write(Span<byte> destination) => AccusationCodec.Write(destination, Member, Incarnation, From);
}

/// <summary>
/// "<see cref="Member"/> left at <see cref="Incarnation"/>": its own announcement
/// (<c>meshagent leave</c>), relayed unchanged.
/// <code>
///  0: member id (32) | 32: incarnation (u32)     = 36 bytes
/// </code>
/// </summary>
public readonly record struct LeftMessage(MemberId Member, uint Incarnation)
{
    public const int Size = MemberId.Size + 4;

    public static bool TryRead(ReadOnlySpan<byte> body, out LeftMessage message)
    {
        if (body.Length != Size)
        {
            message = default;
            return false;
        }

        message = new LeftMessage(new MemberId(body[..MemberId.Size]), BinaryPrimitives.ReadUInt32BigEndian(body[32..]));
        return true;
    }

    public int Write(Span<byte> destination)
    {
        Member.WriteTo(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[32..], Incarnation);
        return Size;
    }
}

/// <summary>
/// "<see cref="Member"/> is revoked; here is the proof" (in MeshAgent a root-signed revocation
/// record, checked by the engine's revocation hook). Final and kept forever.
/// <code>
///  0: member id (32) | 32: proof (rest)
/// </code>
/// Borrowed: <see cref="Proof"/> is a view of the frame.
/// </summary>
public readonly ref struct RevokedMessage
{
    public const int FixedSize = MemberId.Size;

    public RevokedMessage(MemberId member, ReadOnlySpan<byte> proof)
    {
        Member = member;
        Proof = proof;
    }

    public MemberId Member { get; }

    public ReadOnlySpan<byte> Proof { get; }

    public int Size => FixedSize + Proof.Length;

    public static bool TryRead(ReadOnlySpan<byte> body, out RevokedMessage message)
    {
        if (body.Length < FixedSize)
        {
            message = default;
            return false;
        }

        message = new RevokedMessage(new MemberId(body[..MemberId.Size]), body[FixedSize..]);
        return true;
    }

    public int Write(Span<byte> destination)
    {
        Member.WriteTo(destination);
        Proof.CopyTo(destination[FixedSize..]);
        return Size;
    }
}

internal static class AccusationCodec
{
    public static bool TryRead(ReadOnlySpan<byte> body, out MemberId member, out uint incarnation, out MemberId from)
    {
        if (body.Length != SuspectMessage.Size)
        {
            member = default;
            incarnation = 0;
            from = default;
            return false;
        }

        member = new MemberId(body[..MemberId.Size]);
        incarnation = BinaryPrimitives.ReadUInt32BigEndian(body[32..]);
        from = new MemberId(body.Slice(36, MemberId.Size));
        return true;
    }

    public static int Write(Span<byte> destination, MemberId member, uint incarnation, MemberId from)
    {
        member.WriteTo(destination);
        BinaryPrimitives.WriteUInt32BigEndian(destination[32..], incarnation);
        from.WriteTo(destination[36..]);
        return SuspectMessage.Size;
    }
}
