namespace MeshAgent.Tests.Stun;

/// <summary>
/// A <see cref="TimeProvider"/> whose time moves only through <see cref="AdvanceTo"/>, with
/// timers (which <c>Support/ManualTimeProvider</c> deliberately lacks): <c>Task.Delay(t, clock)</c>
/// completes when the test advances past its due time. Timer callbacks run on the advancing thread,
/// outside the lock. Code under test that continues asynchronously after a timer fires (as
/// <c>StunClient</c> does) is awaited with <see cref="WaitForTimerAsync"/>, which polls in real time
/// until the code has armed its next timer. Thread-safe.
/// </summary>
internal sealed class TimerClock : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<ClockTimer> _timers = [];
    private long _now = 1_000_000; // ticks; arbitrary non-zero origin

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(GetTimestamp());

    /// <summary>Time since the clock was created.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(GetTimestamp() - 1_000_000);

    /// <summary>Due time (as <see cref="Elapsed"/>) of the earliest armed timer, or null.</summary>
    public TimeSpan? NextDue
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count == 0 ? null : TimeSpan.FromTicks(_timers.Min(t => t.Due) - 1_000_000);
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ClockTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves time to <paramref name="elapsed"/> (since creation), firing every timer due by then, in order.</summary>
    public void AdvanceTo(TimeSpan elapsed)
    {
        long target = 1_000_000 + elapsed.Ticks;
        while (true)
        {
            ClockTimer? due;
            lock (_gate)
            {
                if (target < _now)
                {
                    throw new InvalidOperationException($"the clock cannot go back from {Elapsed} to {elapsed}");
                }

                due = _timers.Where(t => t.Due <= target).MinBy(t => t.Due);
                if (due is null)
                {
                    _now = target;
                    return;
                }

                _now = Math.Max(_now, due.Due);
                _timers.Remove(due);
                if (due.Period > 0)
                {
                    due.Due += due.Period;
                    _timers.Add(due);
                }
            }

            due.Fire();
        }
    }

    /// <summary>Polls (real time, up to 10 s) until a timer is armed or <paramref name="done"/> completed; returns the next due time, or null when done.</summary>
    public async Task<TimeSpan?> WaitForTimerAsync(Task done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (done.IsCompleted)
            {
                return null;
            }

            if (NextDue is { } due)
            {
                // Several pieces of code may be re-arming after the last advance (two concurrent queries):
                // take the earliest due time only once it has stayed the same for a few milliseconds, so the
                // clock never jumps past a timer that was about to be armed.
                await Task.Delay(15);
                if (done.IsCompleted || NextDue == due)
                {
                    return done.IsCompleted ? null : due;
                }

                continue;
            }

            await Task.Delay(1);
        }

        throw new TimeoutException("the code under test neither armed a timer nor finished within 10 s of real time");
    }

    private sealed class ClockTimer(TimerClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long Due { get; set; }

        public long Period { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                Period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
                if (dueTime != Timeout.InfiniteTimeSpan)
                {
                    Due = clock._now + dueTime.Ticks;
                    clock._timers.Add(this);
                }
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
