using System.Buffers.Binary;

namespace MeshAgent.Engine.Membership;

// Bounded push-pull anti-entropy. memberlist's push-pull sends the whole member list both ways
// over TCP; at 10k members that is megabytes per exchange, and Consul saw thousands of
// concurrent ones exhaust memory. Ours compares hashes first and moves only what differs, with
// a byte cap per exchange and a bandwidth cap per node (GossipEngine.Sync.cs has the flow).

/// <summary>How an exchange ended, from the responder's side.</summary>
public enum SyncStatus : byte
{
    /// <summary>The bucket hashes matched: nothing was sent.</summary>
    InSync = 0,

    /// <summary>Everything that differed was sent (digests or records).</summary>
    Complete = 1,

    /// <summary>A bound was reached with differences left: a follow-up exchange should continue.</summary>
    Partial = 2,

    /// <summary>The responder is serving its maximum of exchanges or is out of sync bandwidth: try another time.</summary>
    Busy = 3,
}

/// <summary>
/// Opens an exchange with this node's bucket hashes: members are split into 2^level buckets by
/// the top <c>level</c> bits of their id, and a bucket's hash is the XOR of a 64-bit hash of (id,
/// incarnation, payload version, state) over its alive, suspect and revoked members. Equal hashes
/// mean equal buckets (up to 2^-64); only unequal ones are compared. A zero hash means "I have
/// nothing live here".
/// <code>
///  0: exchange (u32) | 4: level (u8, 0..7) | 5: 2^level bucket hashes (u64 each)
/// </code>
/// Level 7 (128 hashes, 1,029 bytes) is the most that fits a 1,200-byte frame.
/// Borrowed: the hashes are a view of the frame.
/// </summary>
public readonly ref struct SyncBeginMessage
{
    public const int FixedSize = 5;
    public const int MaxLevel = 7;

    private readonly ReadOnlySpan<byte> _hashes;

    private SyncBeginMessage(uint exchange, int level, ReadOnlySpan<byte> hashes)
    {
        Exchange = exchange;
        Level = level;
        _hashes = hashes;
    }

    public uint Exchange { get; }

    public int Level { get; }

    public int HashCount => _hashes.Length / 8;

    public ulong GetHash(int bucket) => BinaryPrimitives.ReadUInt64BigEndian(_hashes.Slice(bucket * 8, 8));

    public static int SizeFor(int level) => FixedSize + (8 << level);

    public static bool TryRead(ReadOnlySpan<byte> body, out SyncBeginMessage message)
    {
        message = default;
        if (body.Length < FixedSize)
        {
            return false;
        }

        int level = body[4];
        if (level > MaxLevel || body.Length != SizeFor(level))
        {
            return false;
        }

        message = new SyncBeginMessage(BinaryPrimitives.ReadUInt32BigEndian(body), level, body[FixedSize..]);
        return true;
    }

    /// <summary>Writes a begin; <paramref name="hashes"/> must hold 2^<paramref name="level"/> values.</summary>
    public static int Write(Span<byte> destination, uint exchange, int level, ReadOnlySpan<ulong> hashes)
    {
        if (level is < 0 or > MaxLevel || hashes.Length != 1 << level)
        {
            throw new ArgumentException($"a level-{level} begin carries {1 << level} hashes, got {hashes.Length}", nameof(hashes));
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, exchange);
        destination[4] = (byte)level;
        for (int i = 0; i < hashes.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination[(FixedSize + (i * 8))..], hashes[i]);
        }

        return SizeFor(level);
    }
}

/// <summary>One member in a digest page: enough to tell which side is newer without the payload.</summary>
public readonly record struct SyncDigestEntry(ulong Prefix, uint Incarnation, ulong PayloadVersion, MemberState State)
{
    public const int Size = 8 + 4 + 8 + 1;
}

/// <summary>
/// One page of the responder's members in an id-prefix range [<see cref="Low"/>, <see cref="High"/>]
/// (both inclusive), in ascending prefix order. The initiator compares with its own members in
/// the same range, pulls what is newer here and pushes what is newer there. A range with no
/// entries says "I have nothing here".
/// <code>
///  0: exchange (u32) | 4: low prefix (u64) | 12: high prefix (u64)
/// 20: entries, 21 bytes each: prefix (u64) | incarnation (u32) | payload version (u64) | state (u8)
/// </code>
/// TryRead checks that entries are in range, ascending, with known states. Borrowed view.
/// </summary>
public readonly ref struct SyncDigestMessage
{
    public const int FixedSize = 20;

    private readonly ReadOnlySpan<byte> _entries;

    private SyncDigestMessage(uint exchange, ulong low, ulong high, ReadOnlySpan<byte> entries)
    {
        Exchange = exchange;
        Low = low;
        High = high;
        _entries = entries;
    }

    public uint Exchange { get; }

    public ulong Low { get; }

    public ulong High { get; }

    public int Count => _entries.Length / SyncDigestEntry.Size;

    public static int EntriesThatFit(int bodyBytes) => Math.Max(0, (bodyBytes - FixedSize) / SyncDigestEntry.Size);

    public SyncDigestEntry GetEntry(int index) => ReadEntry(_entries.Slice(index * SyncDigestEntry.Size, SyncDigestEntry.Size));

    public static bool TryRead(ReadOnlySpan<byte> body, out SyncDigestMessage message)
    {
        message = default;
        if (body.Length < FixedSize || (body.Length - FixedSize) % SyncDigestEntry.Size != 0)
        {
            return false;
        }

        ulong low = BinaryPrimitives.ReadUInt64BigEndian(body[4..]);
        ulong high = BinaryPrimitives.ReadUInt64BigEndian(body[12..]);
        if (low > high)
        {
            return false;
        }

        ReadOnlySpan<byte> entries = body[FixedSize..];
        ulong previous = low;
        for (int offset = 0; offset < entries.Length; offset += SyncDigestEntry.Size)
        {
            ReadOnlySpan<byte> entry = entries.Slice(offset, SyncDigestEntry.Size);
            ulong prefix = BinaryPrimitives.ReadUInt64BigEndian(entry);
            if (prefix < previous || prefix > high || entry[20] > MemberStateExtensions.MaxWireValue)
            {
                return false;
            }

            previous = prefix;
        }

        message = new SyncDigestMessage(BinaryPrimitives.ReadUInt32BigEndian(body), low, high, entries);
        return true;
    }

    public static void WriteHeader(Span<byte> destination, uint exchange, ulong low, ulong high)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, exchange);
        BinaryPrimitives.WriteUInt64BigEndian(destination[4..], low);
        BinaryPrimitives.WriteUInt64BigEndian(destination[12..], high);
    }

    public static void WriteEntry(Span<byte> destination, in SyncDigestEntry entry)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, entry.Prefix);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], entry.Incarnation);
        BinaryPrimitives.WriteUInt64BigEndian(destination[12..], entry.PayloadVersion);
        destination[20] = (byte)entry.State;
    }

    private static SyncDigestEntry ReadEntry(ReadOnlySpan<byte> entry) => new(
        BinaryPrimitives.ReadUInt64BigEndian(entry),
        BinaryPrimitives.ReadUInt32BigEndian(entry[8..]),
        BinaryPrimitives.ReadUInt64BigEndian(entry[12..]),
        (MemberState)entry[20]);
}

/// <summary>
/// The initiator asks for the full records of these id prefixes (seen newer in a digest page).
/// <code>
///  0: exchange (u32) | 4: prefixes (u64 each, at least one)
/// </code>
/// Borrowed view.
/// </summary>
public readonly ref struct SyncPullMessage
{
    public const int FixedSize = 4;

    private readonly ReadOnlySpan<byte> _prefixes;

    private SyncPullMessage(uint exchange, ReadOnlySpan<byte> prefixes)
    {
        Exchange = exchange;
        _prefixes = prefixes;
    }

    public uint Exchange { get; }

    public int Count => _prefixes.Length / 8;

    public ulong GetPrefix(int index) => BinaryPrimitives.ReadUInt64BigEndian(_prefixes.Slice(index * 8, 8));

    public static bool TryRead(ReadOnlySpan<byte> body, out SyncPullMessage message)
    {
        if (body.Length < FixedSize + 8 || (body.Length - FixedSize) % 8 != 0)
        {
            message = default;
            return false;
        }

        message = new SyncPullMessage(BinaryPrimitives.ReadUInt32BigEndian(body), body[FixedSize..]);
        return true;
    }

    public static void WriteHeader(Span<byte> destination, uint exchange) => BinaryPrimitives.WriteUInt32BigEndian(destination, exchange);

    public static void WritePrefix(Span<byte> destination, int index, ulong prefix) =>
        BinaryPrimitives.WriteUInt64BigEndian(destination[(FixedSize + (index * 8))..], prefix);
}

/// <summary>
/// The responder's last word in an exchange.
/// <code>
///  0: exchange (u32) | 4: status (u8)     = 5 bytes
/// </code>
/// </summary>
public readonly record struct SyncDoneMessage(uint Exchange, SyncStatus Status)
{
    public const int Size = 5;

    public static bool TryRead(ReadOnlySpan<byte> body, out SyncDoneMessage message)
    {
        if (body.Length != Size || body[4] > (byte)SyncStatus.Busy)
        {
            message = default;
            return false;
        }

        message = new SyncDoneMessage(BinaryPrimitives.ReadUInt32BigEndian(body), (SyncStatus)body[4]);
        return true;
    }

    public int Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Exchange);
        destination[4] = (byte)Status;
        return Size;
    }
}

/// <summary>
/// Marks the rest of the frame as anti-entropy records of <see cref="Exchange"/>: alive, suspect,
/// dead, left and revoked parts that are applied but not re-broadcast (a node repairing its view
/// must not start a broadcast storm), and a dead record is taken as a suspicion (memberlist
/// <c>mergeState</c>: a member gets the chance to refute a death it may never have heard of).
/// Body: <c>exchange (u32)</c>.
/// </summary>
public readonly record struct SyncRecordsMessage(uint Exchange)
{
    public const int Size = 4;

    public static bool TryRead(ReadOnlySpan<byte> body, out SyncRecordsMessage message)
    {
        message = body.Length == Size ? new SyncRecordsMessage(BinaryPrimitives.ReadUInt32BigEndian(body)) : default;
        return body.Length == Size;
    }

    public int Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Exchange);
        return Size;
    }
}
