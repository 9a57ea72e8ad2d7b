using MeshAgent.Core.WireGuard;
using Xunit;

namespace MeshAgent.Tests.WireGuard;

public sealed class ReplayWindowTests
{
    private const ulong Window = ReplayWindow.WindowSize;

    [Fact]
    public void Window_is_127_blocks_of_64()
    {
        Assert.Equal(8128UL, ReplayWindow.WindowSize);
        Assert.Equal(128, ReplayWindow.BlockCount);
    }

    [Fact]
    public void In_order_counters_are_accepted_once()
    {
        var window = new ReplayWindow();
        for (ulong counter = 0; counter < 20_000; counter++)
        {
            Assert.True(window.TryAccept(counter), $"counter {counter}");
            Assert.False(window.TryAccept(counter), $"duplicate {counter}");
        }
    }

    [Fact]
    public void Out_of_order_within_the_window_is_accepted_once()
    {
        var window = new ReplayWindow();
        Assert.True(window.TryAccept(10_000));
        Assert.True(window.TryAccept(9_999));
        Assert.True(window.TryAccept(5_000));
        Assert.True(window.TryAccept(10_000 - Window)); // exactly at the edge
        Assert.False(window.TryAccept(10_000 - Window - 1)); // one too old
        Assert.False(window.TryAccept(9_999));
        Assert.False(window.TryAccept(5_000));
        Assert.False(window.TryAccept(10_000 - Window));
        Assert.False(window.TryAccept(0));
    }

    [Theory]
    [InlineData(64UL * 200)]        // greatest at the start of a block
    [InlineData(64UL * 200 + 63)]   // greatest at the end of a block
    [InlineData(64UL * 200 + 17)]
    [InlineData(Window)]            // the edge is counter 0
    public void Edge_of_the_window_is_exactly_WindowSize_behind(ulong greatest)
    {
        var window = new ReplayWindow();
        Assert.True(window.TryAccept(greatest));
        if (greatest > Window)
        {
            Assert.False(window.TryAccept(greatest - Window - 1));
        }

        Assert.True(window.TryAccept(greatest - Window));
        Assert.False(window.TryAccept(greatest - Window));
        // Every counter between the edge and the greatest is still fresh.
        for (ulong counter = greatest - Window + 1; counter < greatest; counter++)
        {
            Assert.True(window.TryAccept(counter), $"counter {counter}");
        }
    }

    [Fact]
    public void A_jump_of_a_whole_ring_clears_stale_bits()
    {
        var window = new ReplayWindow();
        for (ulong counter = 0; counter < 8192; counter++)
        {
            Assert.True(window.TryAccept(counter));
        }

        // 16383 shares its ring slots with 8191; the old bits must not make fresh counters look replayed.
        ulong greatest = 8192 + 8191;
        Assert.True(window.TryAccept(greatest));
        for (ulong counter = greatest - Window; counter < greatest; counter++)
        {
            Assert.True(window.TryAccept(counter), $"counter {counter}");
        }

        Assert.False(window.TryAccept(8191)); // now too old
    }

    [Fact]
    public void A_huge_jump_leaves_only_the_new_counter_seen()
    {
        var window = new ReplayWindow();
        for (ulong counter = 0; counter < 300; counter++)
        {
            window.TryAccept(counter);
        }

        const ulong Far = 1UL << 50;
        Assert.True(window.TryAccept(Far));
        Assert.False(window.TryAccept(Far));
        Assert.False(window.TryAccept(299));
        Assert.True(window.TryAccept(Far - Window));
        Assert.True(window.TryAccept(Far - 1));
        Assert.True(window.TryAccept(Far - 300));
    }

    [Fact]
    public void A_small_jump_clears_only_the_skipped_blocks()
    {
        var window = new ReplayWindow();
        for (ulong counter = 0; counter < 128; counter++)
        {
            Assert.True(window.TryAccept(counter));
        }

        Assert.True(window.TryAccept(200));
        for (ulong counter = 128; counter < 200; counter++)
        {
            Assert.True(window.TryAccept(counter), $"counter {counter}");
        }

        for (ulong counter = 0; counter < 128; counter++)
        {
            Assert.False(window.TryAccept(counter), $"replayed {counter}");
        }
    }

    [Fact]
    public void Counters_at_or_above_the_limit_are_rejected_and_do_not_move_the_window()
    {
        var window = new ReplayWindow();
        Assert.False(window.TryAccept(WireGuardConstants.RejectAfterMessages));
        Assert.False(window.TryAccept(ulong.MaxValue));
        Assert.True(window.TryAccept(0)); // the window did not move to the rejected counter
        Assert.True(window.TryAccept(WireGuardConstants.RejectAfterMessages - 1));

        var limited = new ReplayWindow();
        Assert.False(limited.TryAccept(100, limit: 100));
        Assert.True(limited.TryAccept(99, limit: 100));
    }

    [Fact]
    public void Reset_forgets_everything()
    {
        var window = new ReplayWindow();
        Assert.True(window.TryAccept(50_000));
        window.Reset();
        Assert.True(window.TryAccept(0));
        Assert.True(window.TryAccept(50_000));
    }

    [Theory]
    [InlineData(1, 0UL)]
    [InlineData(2, 0UL)]
    [InlineData(3, 1UL << 40)]
    [InlineData(4, WireGuardConstants.RejectAfterMessages - 40_000_000)] // high bits set; jumps total ≈30M, so the limit is not crossed
    [InlineData(5, 0UL)]
    public void Matches_a_naive_set_and_max_model_on_random_sequences(int seed, ulong origin)
    {
        // Differential test (STYLE rule 9): the naive model accepts a counter iff it is below the
        // limit, not more than WindowSize behind the greatest accepted, and not in the seen set.
        var random = new Random(seed);
        var window = new ReplayWindow();
        var seen = new HashSet<ulong>();
        ulong greatest = 0;
        ulong next = origin;
        int accepted = 0, rejected = 0;

        for (int op = 0; op < 100_000; op++)
        {
            ulong counter = random.Next(100) switch
            {
                < 50 => next++,                                                      // in order
                < 75 => Behind(next, (ulong)random.Next(0, 9000)),                   // reordered, some too old
                < 85 => Behind(next, (ulong)random.Next(8100, 8200)),                // around the edge
                < 95 => next + (ulong)random.Next(0, 300),                           // small jump ahead
                < 98 => next += (ulong)random.Next(0, 20_000),                       // big jump
                _ => WireGuardConstants.RejectAfterMessages + (ulong)random.Next(0, 3),     // at/over the limit: rejected, window unmoved
            };

            bool expected = counter < WireGuardConstants.RejectAfterMessages
                && !(greatest > counter && greatest - counter > Window)
                && !seen.Contains(counter);
            if (expected)
            {
                seen.Add(counter);
                greatest = Math.Max(greatest, counter);
            }

            Assert.True(expected == window.TryAccept(counter), $"seed {seed} op {op} counter {counter} greatest {greatest}: expected {expected}");
            _ = expected ? accepted++ : rejected++;

            if (op % 10_000 == 0)
            {
                seen.RemoveWhere(c => greatest - c > Window); // too old for either to accept; keeps the model small
            }
        }

        // The generator must exercise both outcomes heavily, or the comparison proves little.
        Assert.True(accepted > 10_000 && rejected > 10_000, $"accepted {accepted}, rejected {rejected}");
    }

    private static ulong Behind(ulong counter, ulong distance) => counter > distance ? counter - distance : 0;
}
