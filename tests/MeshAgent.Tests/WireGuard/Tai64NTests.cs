using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.WireGuard;
using Xunit;
using static MeshAgent.Tests.WireGuard.WireGuardGens;

namespace MeshAgent.Tests.WireGuard;

public sealed class Tai64NTests
{
    [Fact]
    public void Unix_epoch_is_the_tai64_label_2_pow_62_plus_10()
    {
        // https://cr.yp.to/libtai/tai64.html: label 2^62 + 10 is 1970-01-01 00:00:10 TAI = 00:00:00 UTC.
        Span<byte> stamp = stackalloc byte[Tai64N.Size];
        Tai64N.Write(DateTimeOffset.UnixEpoch, stamp);
        Assert.Equal(Convert.FromHexString("400000000000000a00000000"), stamp.ToArray());
    }

    [Fact]
    public void Known_instant_encodes_big_endian_with_whitened_nanoseconds()
    {
        // 2025-01-01T00:00:00.5Z = Unix 1735689600 s + 500,000,000 ns (0x1DCD6500); whitened 0x1D000000.
        Span<byte> stamp = stackalloc byte[Tai64N.Size];
        Tai64N.Write(new DateTimeOffset(2025, 1, 1, 0, 0, 0, 500, TimeSpan.Zero), stamp);
        Assert.Equal(Convert.FromHexString("40000000677485" + "8a" + "1d000000"), stamp.ToArray());
    }

    [Fact]
    public void Before_1970_wraps_like_go_uint64_arithmetic()
    {
        // One nanosecond before the epoch: seconds −1 (label 2^62 + 9), nanoseconds 999,999,999 whitened.
        Span<byte> stamp = stackalloc byte[Tai64N.Size];
        Tai64N.Write(-1L, stamp);
        Assert.Equal(Convert.FromHexString("4000000000000009" + "3b000000"), stamp.ToArray());
    }

    [Fact]
    public void Whitener_hides_the_low_24_bits_of_nanoseconds()
    {
        // Same idea as wireguard-go's TestMonotonic: within one 2^24 ns slot stamps are equal,
        // one nanosecond past the slot they are greater.
        long slotStart = 1_735_689_600L * 1_000_000_000 + 3 * (1L << 24);
        byte[] start = Stamp(slotStart);
        byte[] sameSlot = Stamp(slotStart + (1L << 24) - 1);
        byte[] nextSlot = Stamp(slotStart + (1L << 24));

        Assert.Equal(0, Tai64N.Compare(start, sameSlot));
        Assert.False(Tai64N.IsAfter(sameSlot, start));
        Assert.True(Tai64N.IsAfter(nextSlot, start));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(nextSlot.AsSpan(8)) & Tai64N.WhitenerMask);
    }

    [Fact]
    public void DateTimeOffset_and_unix_nanosecond_overloads_agree()
    {
        // Instants whose Unix nanoseconds fit a long: 1678..2262, ±9e16 ticks around the epoch.
        const long Span = 90_000_000_000_000_000;
        Gen<long> ticks =
            from hi in Gen.Choose(0, int.MaxValue)
            from lo in Gen.Choose(0, int.MaxValue)
            select DateTimeOffset.UnixEpoch.UtcTicks - Span + (((long)hi << 31) | (uint)lo) % (2 * Span);
        Check.One(PropertyConfig(1000), Prop.ForAll(Arb.From(ticks), (long utcTicks) =>
        {
            var time = new DateTimeOffset(utcTicks, TimeSpan.Zero);
            long unixNanos = (utcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
            Assert.Equal(Stamp(time), Stamp(unixNanos));
        }));
    }

    [Fact]
    public void Compare_orders_like_time_at_whitened_resolution()
    {
        // Independent model: an instant's whitened value is floor(unix ns / 1e9) seconds and
        // floor((ns mod 1e9) / 2^24) slots; stamps must order exactly as (seconds, slot) pairs.
        Gen<long> unixNanos =
            from hi in Gen.Choose(-1000, 1000)
            from mid in Gen.Choose(0, 1_000_000_000)
            from near in Gen.Choose(0, 3)
            select near == 0 ? mid : hi * 1_000_000_000_000L + mid; // many near-equal pairs
        Check.One(PropertyConfig(2000), Prop.ForAll(Arb.From(unixNanos), Arb.From(unixNanos), (long a, long b) =>
        {
            int expected = Model(a).CompareTo(Model(b));
            int actual = Tai64N.Compare(Stamp(a), Stamp(b));
            Assert.Equal(Math.Sign(expected), Math.Sign(actual));
            Assert.Equal(expected > 0, Tai64N.IsAfter(Stamp(a), Stamp(b)));
        }));

        static (long Seconds, long Slot) Model(long unixNanos)
        {
            long withinSecond = ((unixNanos % 1_000_000_000) + 1_000_000_000) % 1_000_000_000;
            return ((unixNanos - withinSecond) / 1_000_000_000, withinSecond >> 24);
        }
    }

    [Fact]
    public void IsAfter_is_strict()
    {
        byte[] stamp = Stamp(123_456_789_000_000_000);
        Assert.False(Tai64N.IsAfter(stamp, stamp));
        Assert.Equal(0, Tai64N.Compare(stamp, (byte[])stamp.Clone()));
    }

    [Fact]
    public void Compare_rejects_spans_that_are_not_12_bytes()
    {
        var error = Assert.Throws<ArgumentException>(() => Tai64N.Compare(new byte[11], new byte[12]));
        Assert.Contains("12", error.Message);
        Assert.Throws<ArgumentException>(() => Tai64N.IsAfter(new byte[12], new byte[13]));
        Assert.Throws<ArgumentException>(() => Tai64N.Write(0L, new byte[11]));
    }

    internal static byte[] Stamp(long unixNanoseconds)
    {
        byte[] stamp = new byte[Tai64N.Size];
        Tai64N.Write(unixNanoseconds, stamp);
        return stamp;
    }

    internal static byte[] Stamp(DateTimeOffset time)
    {
        byte[] stamp = new byte[Tai64N.Size];
        Tai64N.Write(time, stamp);
        return stamp;
    }
}
