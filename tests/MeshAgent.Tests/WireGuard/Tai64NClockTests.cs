using System.Buffers.Binary;
using MeshAgent.Core.WireGuard;
using MeshAgent.Tests.Support;
using Xunit;

namespace MeshAgent.Tests.WireGuard;

public sealed class Tai64NClockTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Without_a_floor_the_stamp_is_the_whitened_wall_clock()
    {
        var time = new ManualTimeProvider(Start);
        var clock = new Tai64NClock(time, ReadOnlySpan<byte>.Empty);
        Assert.Equal(Tai64NTests.Stamp(Start), Next(clock));

        time.Advance(TimeSpan.FromSeconds(7.25));
        Assert.Equal(Tai64NTests.Stamp(Start + TimeSpan.FromSeconds(7.25)), Next(clock));
    }

    [Fact]
    public void Two_calls_in_the_same_whitened_slot_still_increase()
    {
        var time = new ManualTimeProvider(Start);
        var clock = new Tai64NClock(time, ReadOnlySpan<byte>.Empty);
        byte[] first = Next(clock);
        time.Advance(TimeSpan.FromMilliseconds(1)); // well inside one 16.8 ms slot
        byte[] second = Next(clock);

        Assert.True(Tai64N.IsAfter(second, first));
        Assert.Equal(OneStepAfter(first), second);
    }

    [Fact]
    public void Stamps_keep_increasing_when_the_wall_clock_goes_backwards()
    {
        var time = new ManualTimeProvider(Start);
        var clock = new Tai64NClock(time, ReadOnlySpan<byte>.Empty);
        byte[] previous = Next(clock);

        time.SetUtcNow(Start - TimeSpan.FromDays(400)); // RTC-less box booting with a stale date
        for (int i = 0; i < 200; i++)
        {
            byte[] stamp = Next(clock);
            Assert.True(Tai64N.IsAfter(stamp, previous), $"stamp {i} did not increase");
            Assert.Equal(OneStepAfter(previous), stamp);
            previous = stamp;
            time.Advance(TimeSpan.FromSeconds(5));
        }

        // Once the wall clock is ahead of the last stamp again, it is used as is.
        time.SetUtcNow(Start + TimeSpan.FromHours(1));
        Assert.Equal(Tai64NTests.Stamp(Start + TimeSpan.FromHours(1)), Next(clock));
    }

    [Fact]
    public void A_persisted_floor_ahead_of_the_wall_clock_is_exceeded_by_one_step()
    {
        byte[] floor = Tai64NTests.Stamp(Start + TimeSpan.FromDays(1));
        var time = new ManualTimeProvider(Start);
        var clock = new Tai64NClock(time, floor);

        byte[] stamp = Next(clock);
        Assert.True(Tai64N.IsAfter(stamp, floor));
        Assert.Equal(OneStepAfter(floor), stamp);
    }

    [Fact]
    public void A_floor_behind_the_wall_clock_does_not_hold_it_back()
    {
        byte[] floor = Tai64NTests.Stamp(Start - TimeSpan.FromMinutes(1));
        var clock = new Tai64NClock(new ManualTimeProvider(Start), floor);
        Assert.Equal(Tai64NTests.Stamp(Start), Next(clock));
    }

    [Theory]
    // floor nanoseconds -> expected (second offset, nanoseconds) of the next stamp
    [InlineData(0u, 0, 1u << 24)]
    [InlineData(5u, 0, 1u << 24)]                       // a non-whitened floor still gets a whitened successor
    [InlineData(58u << 24, 0, 59u << 24)]
    [InlineData(59u << 24, 1, 0u)]                      // 60 × 2^24 ns > 1 s: carry into the seconds
    [InlineData(999_999_999u, 1, 0u)]
    [InlineData(uint.MaxValue, 1, 0u)]                  // out-of-range nanoseconds in a corrupt floor
    public void Successor_of_the_floor_carries_into_the_seconds(uint floorNanoseconds, int secondOffset, uint expectedNanoseconds)
    {
        const ulong FloorSeconds = Tai64N.Base + 2_000_000_000; // year 2033, ahead of the fake clock
        byte[] floor = new byte[Tai64N.Size];
        BinaryPrimitives.WriteUInt64BigEndian(floor, FloorSeconds);
        BinaryPrimitives.WriteUInt32BigEndian(floor.AsSpan(8), floorNanoseconds);

        byte[] stamp = Next(new Tai64NClock(new ManualTimeProvider(Start), floor));

        Assert.Equal(FloorSeconds + (ulong)secondOffset, BinaryPrimitives.ReadUInt64BigEndian(stamp));
        Assert.Equal(expectedNanoseconds, BinaryPrimitives.ReadUInt32BigEndian(stamp.AsSpan(8)));
        Assert.True(Tai64N.IsAfter(stamp, floor));
    }

    [Fact]
    public void A_floor_at_the_end_of_time_cannot_be_exceeded()
    {
        byte[] floor = Convert.FromHexString("ffffffffffffffff" + "3b000000");
        var clock = new Tai64NClock(new ManualTimeProvider(Start), floor);
        var error = Assert.Throws<InvalidOperationException>(() => Next(clock));
        Assert.Contains("floor", error.Message);
    }

    [Fact]
    public void Stamp_to_persist_is_the_last_issued_and_seeds_the_next_run()
    {
        var time = new ManualTimeProvider(Start);
        var clock = new Tai64NClock(time, ReadOnlySpan<byte>.Empty);
        byte[] persisted = new byte[Tai64N.Size];
        Assert.False(clock.TryGetStampToPersist(persisted));

        byte[] last = [];
        for (int i = 0; i < 3; i++)
        {
            last = Next(clock);
        }

        Assert.True(clock.TryGetStampToPersist(persisted));
        Assert.Equal(last, persisted);

        // Restart on a machine whose clock is now an hour behind: still strictly greater.
        var restarted = new Tai64NClock(new ManualTimeProvider(Start - TimeSpan.FromHours(1)), persisted);
        Assert.True(Tai64N.IsAfter(Next(restarted), last));
    }

    [Fact]
    public void Random_clock_walks_always_give_strictly_increasing_stamps_never_below_the_wall_clock()
    {
        // Differential: each stamp must equal max(whitened wall clock, successor of the previous stamp).
        for (int seed = 0; seed < 20; seed++)
        {
            var random = new Random(seed);
            var time = new ManualTimeProvider(Start);
            byte[] previous = Tai64NTests.Stamp(Start + TimeSpan.FromSeconds(random.Next(-5, 5))); // the persisted floor
            var clock = new Tai64NClock(time, previous);

            for (int i = 0; i < 2000; i++)
            {
                switch (random.Next(4))
                {
                    case 0: time.Advance(TimeSpan.FromTicks(random.NextInt64(0, TimeSpan.TicksPerSecond))); break;
                    case 1: time.Advance(TimeSpan.FromMilliseconds(random.Next(0, 20))); break;
                    case 2: time.SetUtcNow(time.GetUtcNow() - TimeSpan.FromMilliseconds(random.Next(0, 1000))); break;
                    default: break; // same instant
                }

                byte[] wall = Tai64NTests.Stamp(time.GetUtcNow());
                byte[] stamp = Next(clock);
                Assert.True(Tai64N.IsAfter(stamp, previous), $"seed {seed} step {i}: not increasing");
                Assert.True(Tai64N.Compare(stamp, wall) >= 0, $"seed {seed} step {i}: below the wall clock");
                Assert.Equal(Tai64N.IsAfter(wall, previous) ? wall : OneStepAfter(previous), stamp);

                previous = stamp;
            }
        }
    }

    [Fact]
    public void Concurrent_callers_never_get_the_same_stamp()
    {
        var clock = new Tai64NClock(new ManualTimeProvider(Start), ReadOnlySpan<byte>.Empty); // frozen clock: every stamp is a successor
        const int Threads = 4, PerThread = 2000;
        var results = new string[Threads][];
        Parallel.For(0, Threads, t =>
        {
            var mine = new string[PerThread];
            byte[] previous = new byte[Tai64N.Size];
            for (int i = 0; i < PerThread; i++)
            {
                byte[] stamp = Next(clock);
                Assert.True(Tai64N.IsAfter(stamp, previous));
                previous = stamp;
                mine[i] = Convert.ToHexString(stamp);
            }

            results[t] = mine;
        });

        Assert.Equal(Threads * PerThread, results.SelectMany(r => r).Distinct().Count());
    }

    [Fact]
    public void Constructor_rejects_a_truncated_floor()
    {
        var error = Assert.Throws<ArgumentException>(() => new Tai64NClock(TimeProvider.System, new byte[5]));
        Assert.Contains("12", error.Message);
    }

    private static byte[] Next(Tai64NClock clock)
    {
        byte[] stamp = new byte[Tai64N.Size];
        clock.Next(stamp);
        return stamp;
    }

    // Independent model of "one whitened step later": add 2^24 ns to the 96-bit (seconds, ns)
    // value, carrying at 1e9 ns, then round the nanoseconds down to a multiple of 2^24.
    private static byte[] OneStepAfter(byte[] stamp)
    {
        ulong seconds = BinaryPrimitives.ReadUInt64BigEndian(stamp);
        ulong nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(stamp.AsSpan(8)) + (1UL << 24);
        if (nanoseconds >= 1_000_000_000)
        {
            seconds++;
            nanoseconds = 0;
        }

        byte[] next = new byte[Tai64N.Size];
        BinaryPrimitives.WriteUInt64BigEndian(next, seconds);
        BinaryPrimitives.WriteUInt32BigEndian(next.AsSpan(8), (uint)(nanoseconds / (1UL << 24) * (1UL << 24)));
        return next;
    }
}
