using System.Buffers.Binary;

namespace MeshAgent.Core.WireGuard;

/// <summary>
/// TAI64N timestamps as WireGuard puts them (encrypted) in a handshake initiation; whitepaper
/// §5.4.2, wireguard-go tai64n/tai64n.go, format from https://cr.yp.to/libtai/tai64.html.
/// <code>
/// +-------------------------------------------+---------------------------+
/// | 0x400000000000000a + Unix seconds (BE u64)| nanoseconds (BE u32) with |
/// |                                           | the low 24 bits cleared   |
/// +-------------------------------------------+---------------------------+
///  0                                         8                          12
/// </code>
/// The responder keeps the greatest stamp seen per peer and drops an initiation whose stamp is
/// not strictly greater (replay protection), so only the ordering matters: a bytewise comparison
/// of the 12 bytes. Clearing the low 24 bits (≈16.8 ms resolution) is wireguard-go's "whitener":
/// it keeps the stamp from leaking a precise clock reading.
/// </summary>
public static class Tai64N
{
    public const int Size = 12;

    /// <summary>TAI64 label of the Unix epoch: 2^62 plus the 10 s TAI−UTC offset of 1970.</summary>
    public const ulong Base = 0x400000000000000a;

    /// <summary>Nanosecond bits cleared by the whitener.</summary>
    public const uint WhitenerMask = (1u << 24) - 1;

    /// <summary>The smallest step between two distinct whitened stamps within a second: 2^24 ns.</summary>
    public const uint WhitenedStepNanoseconds = 1u << 24;

    private const uint NanosecondsPerSecond = 1_000_000_000;
    private const long NanosecondsPerTick = 100;

    /// <summary>Writes the whitened stamp of <paramref name="time"/> into the first 12 bytes of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than 12 bytes (a caller bug).</exception>
    public static void Write(DateTimeOffset time, Span<byte> destination)
    {
        (ulong tai64Seconds, uint nanoseconds) = Whiten(time);
        WriteRaw(tai64Seconds, nanoseconds, destination);
    }

    /// <summary>Writes the whitened stamp of a Unix time in nanoseconds (negative = before 1970).</summary>
    /// <exception cref="ArgumentException">The destination is shorter than 12 bytes (a caller bug).</exception>
    public static void Write(long unixNanoseconds, Span<byte> destination)
    {
        // Floor division, so that nanoseconds stay in [0, 1e9) as Go's time.Unix()/Nanosecond() give.
        long seconds = Math.DivRem(unixNanoseconds, NanosecondsPerSecond, out long remainder);
        if (remainder < 0)
        {
            seconds--;
            remainder += NanosecondsPerSecond;
        }

        WriteWhitened(seconds, (uint)remainder, destination);
    }

    /// <summary>
    /// Orders two stamps: negative when <paramref name="a"/> is earlier, 0 when equal, positive when later.
    /// Any 12 bytes are a valid input (stamps come out of a decrypted, authenticated initiation).
    /// </summary>
    /// <exception cref="ArgumentException">Either span is not exactly 12 bytes (a caller bug).</exception>
    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        RequireSize(a, nameof(a));
        RequireSize(b, nameof(b));
        return a.SequenceCompareTo(b);
    }

    /// <summary>True when <paramref name="a"/> is strictly later than <paramref name="b"/>: the
    /// responder's "not a replayed initiation" test (wireguard-go <c>Timestamp.After</c>).</summary>
    /// <exception cref="ArgumentException">Either span is not exactly 12 bytes (a caller bug).</exception>
    public static bool IsAfter(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => Compare(a, b) > 0;

    /// <summary>Writes raw fields with no whitening; a stamp with seconds = TAI64 label, not Unix seconds.</summary>
    internal static void WriteRaw(ulong tai64Seconds, uint nanoseconds, Span<byte> destination)
    {
        RequireDestination(destination);
        BinaryPrimitives.WriteUInt64BigEndian(destination, tai64Seconds);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], nanoseconds);
    }

    /// <summary>Splits a 12-byte stamp into its TAI64 label and nanosecond field.</summary>
    internal static void ReadRaw(ReadOnlySpan<byte> stamp, out ulong tai64Seconds, out uint nanoseconds)
    {
        RequireSize(stamp, nameof(stamp));
        tai64Seconds = BinaryPrimitives.ReadUInt64BigEndian(stamp);
        nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(stamp[8..]);
    }

    /// <summary>The TAI64 label and whitened nanoseconds of <paramref name="time"/>.</summary>
    internal static (ulong Tai64Seconds, uint Nanoseconds) Whiten(DateTimeOffset time)
    {
        long utcTicks = time.UtcTicks; // ticks since 0001-01-01, never negative, so / and % floor
        long unixSeconds = utcTicks / TimeSpan.TicksPerSecond - DateTimeOffset.UnixEpoch.UtcTicks / TimeSpan.TicksPerSecond;
        uint nanoseconds = (uint)(utcTicks % TimeSpan.TicksPerSecond * NanosecondsPerTick);
        return Whiten(unixSeconds, nanoseconds);
    }

    /// <summary>The TAI64 label and whitened nanoseconds of a Unix time, as Go's uint64 arithmetic gives them.</summary>
    internal static (ulong Tai64Seconds, uint Nanoseconds) Whiten(long unixSeconds, uint nanoseconds) =>
        (unchecked(Base + (ulong)unixSeconds), nanoseconds & ~WhitenerMask);

    private static void WriteWhitened(long unixSeconds, uint nanoseconds, Span<byte> destination)
    {
        (ulong tai64Seconds, uint whitened) = Whiten(unixSeconds, nanoseconds);
        WriteRaw(tai64Seconds, whitened, destination);
    }

    private static void RequireDestination(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException(
                $"A TAI64N stamp needs {Size} bytes but the destination has {destination.Length}; pass a larger buffer.",
                nameof(destination));
        }
    }

    private static void RequireSize(ReadOnlySpan<byte> stamp, string name)
    {
        if (stamp.Length != Size)
        {
            throw new ArgumentException(
                $"A TAI64N stamp is exactly {Size} bytes but '{name}' has {stamp.Length}; slice the stamp out of its message first.",
                name);
        }
    }
}
