namespace MeshAgent.Tests.Dns.Discovery;

/// <summary>
/// Simulated time with real timer semantics: <see cref="AdvanceTo"/> moves the clock to each due
/// timer in turn and fires it there, so a callback sees the exact instant it asked for. Single-threaded.
/// </summary>
internal sealed class SteppedTimeProvider : TimeProvider
{
    private static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly List<SteppedTimer> _timers = [];
    private long _ticks = 1_000_000;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Time since the provider was made (its origin is an arbitrary non-zero timestamp).</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(_ticks - 1_000_000);

    public override long GetTimestamp() => _ticks;

    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks(_ticks);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SteppedTimer(this, callback, state);
        _timers.Add(timer);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>When the next timer fires, or null when none is armed.</summary>
    public TimeSpan? NextDue
    {
        get
        {
            long next = _timers.Count == 0 ? long.MaxValue : _timers.Min(t => t.DueAt);
            return next == long.MaxValue ? null : TimeSpan.FromTicks(next - 1_000_000);
        }
    }

    /// <summary>Fires every timer due up to <paramref name="elapsed"/> (at its own instant), then sets the clock there.</summary>
    public void AdvanceTo(TimeSpan elapsed)
    {
        long target = elapsed.Ticks + 1_000_000;
        while (true)
        {
            SteppedTimer? next = _timers.Where(t => t.DueAt <= target).MinBy(t => t.DueAt);
            if (next is null)
            {
                break;
            }

            _ticks = Math.Max(_ticks, next.DueAt);
            next.Fire();
        }

        _ticks = Math.Max(_ticks, target);
    }

    public void Advance(TimeSpan delta) => AdvanceTo(Elapsed + delta);

    private sealed class SteppedTimer(SteppedTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private long _period;

        public long DueAt { get; private set; } = long.MaxValue;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            // As System.Threading.Timer: at most 0xFFFFFFFE ms, so a code path that would throw in production throws here too.
            ArgumentOutOfRangeException.ThrowIfGreaterThan(dueTime, TimeSpan.FromMilliseconds(0xFFFFFFFE));
            DueAt = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : owner._ticks + Math.Max(0, dueTime.Ticks);
            _period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            return true;
        }

        public void Fire()
        {
            DueAt = _period > 0 ? DueAt + _period : long.MaxValue;
            callback(state);
        }

        public void Dispose() => owner._timers.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
