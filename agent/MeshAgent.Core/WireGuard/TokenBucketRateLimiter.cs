using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MeshAgent.Core.WireGuard;

/// <summary>
/// Per-source token bucket for handshake initiations under load, as wireguard-go
/// ratelimiter/ratelimiter.go and the kernel's ratelimiter.c: 20 initiations per second per
/// source, bursts of 5, an entry forgotten once idle for 1 s. It is applied after mac2 has
/// proved the source address (whitepaper §5.3), so entries are not spoofable.
/// <para>
/// Keys: the IPv4 address, or the first 64 bits of an IPv6 address (one bucket per /64, as the
/// kernel does, because one host usually owns a whole /64; wireguard-go keys the full address).
/// IPv4-mapped IPv6 addresses (from a dual-stack socket) count as their IPv4 address.
/// </para>
/// <para>
/// Bounded: at most <see cref="MaxEntries"/> sources are tracked (default
/// <see cref="DefaultMaxEntries"/> = 65,536, the kernel's largest table; about 44 bytes of
/// dictionary entry each, so a few MiB when full). When the table is full a new source is refused (not allowed) rather
/// than growing the table or evicting a well-behaved source; idle entries are swept at most once
/// per <see cref="GarbageCollectAfter"/>, lazily, from <see cref="Allow(ReadOnlySpan{byte})"/>.
/// </para>
/// Thread-safe: one internal lock, held for a dictionary lookup (or a sweep once a second).
/// </summary>
public sealed class TokenBucketRateLimiter
{
    public const int PacketsPerSecond = 20;
    public const int PacketsBurstable = 5;
    public const int DefaultMaxEntries = 1 << 16;

    /// <summary>An entry idle this long is forgotten (and its source starts with a full burst again).</summary>
    public static readonly TimeSpan GarbageCollectAfter = TimeSpan.FromSeconds(1);

    // Tokens are nanoseconds of credit, as in wireguard-go: one packet costs 1/20 s, the bucket
    // holds 5 packets' worth.
    private const long PacketCostNanoseconds = 1_000_000_000 / PacketsPerSecond;
    private const long MaxTokensNanoseconds = PacketCostNanoseconds * PacketsBurstable;

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<SourceKey, Bucket> _table = new();
    private long _lastSweepTimestamp;

    /// <param name="time">Monotonic clock (<see cref="TimeProvider.GetTimestamp"/>).</param>
    /// <param name="maxEntries">Bound on tracked sources; see the class remarks.</param>
    public TokenBucketRateLimiter(TimeProvider time, int maxEntries = DefaultMaxEntries)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        _time = time;
        MaxEntries = maxEntries;
        _lastSweepTimestamp = time.GetTimestamp();
    }

    public int MaxEntries { get; }

    /// <summary>Sources currently tracked (for metrics and tests).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _table.Count;
            }
        }
    }

    /// <summary>Convenience overload of <see cref="Allow(ReadOnlySpan{byte})"/>; allocates nothing.</summary>
    public bool Allow(IPAddress source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Span<byte> bytes = stackalloc byte[16];
        if (!source.TryWriteBytes(bytes, out int written))
        {
            throw new ArgumentException($"Address {source} could not be written as bytes.", nameof(source));
        }

        return Allow(bytes[..written]);
    }

    /// <summary>
    /// Charges one initiation to <paramref name="source"/> (4 bytes IPv4 or 16 bytes IPv6, network
    /// order) and returns whether it may be processed. A new source starts with a full burst; a
    /// refused initiation costs nothing.
    /// </summary>
    /// <exception cref="ArgumentException">The address is neither 4 nor 16 bytes (a caller bug).</exception>
    public bool Allow(ReadOnlySpan<byte> source)
    {
        SourceKey key = SourceKey.From(source);
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_time.GetElapsedTime(_lastSweepTimestamp, now) >= GarbageCollectAfter)
            {
                SweepLocked(now);
            }

            ref Bucket bucket = ref CollectionsMarshal.GetValueRefOrNullRef(_table, key);
            if (Unsafe.IsNullRef(ref bucket))
            {
                if (_table.Count >= MaxEntries)
                {
                    return false;
                }

                _table[key] = new Bucket(now, MaxTokensNanoseconds - PacketCostNanoseconds);
                return true;
            }

            long elapsed = ElapsedNanoseconds(bucket.LastTimestamp, now);
            bucket.LastTimestamp = now;
            bucket.Tokens = Math.Min(MaxTokensNanoseconds, bucket.Tokens + elapsed);

            // ">=" as the kernel: with a clock that does not move, exactly PacketsBurstable pass.
            // (wireguard-go compares with ">", relying on real time moving a few ns between calls.)
            if (bucket.Tokens >= PacketCostNanoseconds)
            {
                bucket.Tokens -= PacketCostNanoseconds;
                return true;
            }

            return false;
        }
    }

    /// <summary>Forgets every source idle for at least <see cref="GarbageCollectAfter"/> now,
    /// for a caller that wants memory back without waiting for the next <c>Allow</c>.</summary>
    public void CollectGarbage()
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            SweepLocked(now);
        }
    }

    private void SweepLocked(long now)
    {
        _lastSweepTimestamp = now;
        foreach (KeyValuePair<SourceKey, Bucket> entry in _table)
        {
            if (_time.GetElapsedTime(entry.Value.LastTimestamp, now) >= GarbageCollectAfter)
            {
                _table.Remove(entry.Key); // removal during enumeration is allowed for Dictionary (.NET Core 3.0+)
            }
        }
    }

    private long ElapsedNanoseconds(long fromTimestamp, long toTimestamp)
    {
        // Clamped: a bucket is full after 250 ms, so anything longer is the same.
        TimeSpan elapsed = _time.GetElapsedTime(fromTimestamp, toTimestamp);
        if (elapsed <= TimeSpan.Zero)
        {
            return 0;
        }

        return elapsed.Ticks >= MaxTokensNanoseconds / 100 ? MaxTokensNanoseconds : elapsed.Ticks * 100;
    }

    private struct Bucket(long lastTimestamp, long tokens)
    {
        public long LastTimestamp = lastTimestamp;
        public long Tokens = tokens;
    }

    private readonly record struct SourceKey(ulong Prefix, bool IsIPv6)
    {
        public static SourceKey From(ReadOnlySpan<byte> address)
        {
            if (address.Length == 4)
            {
                return new SourceKey(BinaryPrimitives.ReadUInt32BigEndian(address), IsIPv6: false);
            }

            if (address.Length == 16)
            {
                // ::ffff:a.b.c.d is an IPv4 source seen through a dual-stack socket.
                if (BinaryPrimitives.ReadUInt64BigEndian(address) == 0
                    && BinaryPrimitives.ReadUInt32BigEndian(address[8..]) == 0x0000_FFFF)
                {
                    return new SourceKey(BinaryPrimitives.ReadUInt32BigEndian(address[12..]), IsIPv6: false);
                }

                return new SourceKey(BinaryPrimitives.ReadUInt64BigEndian(address), IsIPv6: true);
            }

            throw new ArgumentException(
                $"A source address is 4 (IPv4) or 16 (IPv6) bytes but {address.Length} were given; pass SocketAddress/IPAddress bytes.",
                nameof(address));
        }
    }
}
