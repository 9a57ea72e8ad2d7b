using System.Diagnostics.CodeAnalysis;

namespace MeshAgent.Engine.Membership;

/// <summary>One member as this node sees it. Mutated only through <see cref="MemberTable"/> (which keeps the digest hashes in step) and by the engine for suspicion and probe bookkeeping.</summary>
internal sealed class MemberRecord
{
    public MemberRecord(MemberId id) => Id = id;

    public MemberId Id { get; }

    public MemberState State { get; set; }

    public uint Incarnation { get; set; }

    /// <summary>Null only for a revoked member never seen alive.</summary>
    public MemberPayload? Payload { get; set; }

    /// <summary>Set once revoked, kept forever, re-sent by anti-entropy.</summary>
    public byte[]? RevocationProof { get; set; }

    /// <summary>Engine ticks of the last state change.</summary>
    public long StateChangedAt { get; set; }

    /// <summary>Present exactly while <see cref="State"/> is suspect.</summary>
    public Suspicion? Suspicion { get; set; }

    public bool InProbeList { get; set; }

    public ulong PayloadVersion => Payload?.Version ?? 0;

    /// <summary>This record's term in its bucket's XOR (0 when not synced).</summary>
    internal ulong DigestHash { get; set; }

    /// <summary>Position in <see cref="MemberTable"/>'s dense list; −1 once removed.</summary>
    internal int Index { get; set; } = -1;
}

/// <summary>
/// The member records plus the structures anti-entropy needs: 256 fine buckets by the top byte of
/// the id, each kept sorted by id, and each with the XOR of its synced records' digest hashes.
/// XOR makes every update O(1) (remove the old term, add the new) and lets a peer ask at any
/// coarser level: the hash of a level-L bucket is the XOR of the 2^(8−L) fine buckets under it.
/// </summary>
internal sealed class MemberTable
{
    public const int FineBits = 8;
    public const int FineBuckets = 1 << FineBits;

    private static readonly Comparer<MemberRecord> ById = Comparer<MemberRecord>.Create((a, b) => a.Id.CompareTo(b.Id));

    private readonly Dictionary<MemberId, MemberRecord> _byId = new();
    private readonly List<MemberRecord> _all = new();
    private readonly List<MemberRecord>[] _buckets = new List<MemberRecord>[FineBuckets];
    private readonly ulong[] _bucketHashes = new ulong[FineBuckets];

    public MemberTable()
    {
        for (int i = 0; i < FineBuckets; i++)
        {
            _buckets[i] = new List<MemberRecord>();
        }
    }

    public int Count => _all.Count;

    /// <summary>Alive and suspect members, this node included: the N of the log(N) formulas.</summary>
    public int LiveCount { get; private set; }

    /// <summary>Dense access for random choice; order is arbitrary.</summary>
    public MemberRecord this[int index] => _all[index];

    public bool TryGet(MemberId id, [MaybeNullWhen(false)] out MemberRecord record) => _byId.TryGetValue(id, out record);

    public MemberRecord Add(MemberId id, MemberState state, uint incarnation, MemberPayload? payload, long now)
    {
        var record = new MemberRecord(id)
        {
            State = state,
            Incarnation = incarnation,
            Payload = payload,
            StateChangedAt = now,
            Index = _all.Count,
        };
        _byId.Add(id, record);
        _all.Add(record);
        List<MemberRecord> bucket = _buckets[FineBucket(id.Prefix)];
        int at = bucket.BinarySearch(record, ById);
        bucket.Insert(at < 0 ? ~at : at, record);
        Account(record, +1);
        return record;
    }

    /// <summary>Changes liveness, incarnation or payload; the state-change time moves only when the state does. Leaving suspect drops the suspicion.</summary>
    public void Update(MemberRecord record, MemberState state, uint incarnation, MemberPayload? payload, long now)
    {
        Account(record, -1);
        if (record.State != state)
        {
            record.StateChangedAt = now;
            if (state != MemberState.Suspect)
            {
                record.Suspicion = null;
            }
        }

        record.State = state;
        record.Incarnation = incarnation;
        record.Payload = payload;
        Account(record, +1);
    }

    public void Remove(MemberRecord record)
    {
        Account(record, -1);
        _byId.Remove(record.Id);
        int last = _all.Count - 1;
        MemberRecord moved = _all[last];
        _all[record.Index] = moved;
        moved.Index = record.Index;
        _all.RemoveAt(last);
        record.Index = -1;
        List<MemberRecord> bucket = _buckets[FineBucket(record.Id.Prefix)];
        int at = bucket.BinarySearch(record, ById);
        if (at >= 0)
        {
            bucket.RemoveAt(at);
        }
    }

    /// <summary>The 2^<paramref name="level"/> bucket hashes a peer compares against.</summary>
    public void CoarseHashes(int level, Span<ulong> destination)
    {
        destination[..(1 << level)].Clear();
        int shift = FineBits - level;
        for (int fine = 0; fine < FineBuckets; fine++)
        {
            destination[fine >> shift] ^= _bucketHashes[fine];
        }
    }

    /// <summary>Id-prefix range [low, high] of bucket <paramref name="bucket"/> at <paramref name="level"/>.</summary>
    public static (ulong Low, ulong High) BucketRange(int level, int bucket)
    {
        if (level == 0)
        {
            return (0, ulong.MaxValue);
        }

        int shift = 64 - level;
        ulong low = (ulong)bucket << shift;
        return (low, low + ((1UL << shift) - 1));
    }

    /// <summary>Appends the records whose prefix is in [low, high], ascending by id.</summary>
    public void CollectRange(ulong low, ulong high, List<MemberRecord> into)
    {
        for (int fine = FineBucket(low); fine <= FineBucket(high); fine++)
        {
            foreach (MemberRecord record in _buckets[fine])
            {
                ulong prefix = record.Id.Prefix;
                if (prefix >= low && prefix <= high)
                {
                    into.Add(record);
                }
            }
        }
    }

    public MemberRecord? FindByPrefix(ulong prefix)
    {
        foreach (MemberRecord record in _buckets[FineBucket(prefix)])
        {
            if (record.Id.Prefix == prefix)
            {
                return record;
            }
        }

        return null;
    }

    /// <summary>The digest term of one member state; identical on every node.</summary>
    public static ulong DigestHash(MemberId id, MemberState state, uint incarnation, ulong payloadVersion)
    {
        if (state == MemberState.Revoked)
        {
            incarnation = 0;
            payloadVersion = 0;
        }

        ulong h = id.StableHash(0x6D657368_676F7373UL);
        h = Mix64.Combine(h, ((ulong)incarnation << 8) | (byte)state);
        h = Mix64.Combine(h, payloadVersion);
        // Never 0: a zero bucket hash means "nothing here" to a responder.
        return h == 0 ? 1 : h;
    }

    private static int FineBucket(ulong prefix) => (int)(prefix >> (64 - FineBits));

    private void Account(MemberRecord record, int sign)
    {
        if (sign > 0)
        {
            record.DigestHash = record.State.IsSynced()
                ? DigestHash(record.Id, record.State, record.Incarnation, record.PayloadVersion)
                : 0;
        }

        _bucketHashes[FineBucket(record.Id.Prefix)] ^= record.DigestHash;
        if (record.State.IsLive())
        {
            LiveCount += sign;
        }
    }
}
