namespace MeshAgent.Tests.Support;

/// <summary>
/// A clock that moves only when the test says so. <see cref="Advance"/> moves the wall clock
/// and the monotonic timestamp together, so <see cref="TimeProvider.GetElapsedTime(long, long)"/>
/// agrees with the difference of <see cref="GetUtcNow"/> readings. <see cref="SetUtcNow"/> steps
/// only the wall clock, as an NTP correction or a manual date change does on a real machine: a
/// step forward also advances the timestamp, a step backward leaves it where it is (a monotonic
/// clock never goes back). Timers are not simulated: <see cref="CreateTimer"/> throws rather than
/// silently running on real time. Thread-safe.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _utcNow;
    private long _timestamp;

    /// <summary>Starts at <paramref name="start"/>, or 2025-01-01T00:00:00Z when not given.</summary>
    public ManualTimeProvider(DateTimeOffset? start = null)
    {
        _utcNow = start ?? new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        _timestamp = 1_000_000; // arbitrary non-zero origin, as on a real machine
    }

    /// <summary>One timestamp tick is one <see cref="TimeSpan"/> tick (100 ns).</summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _utcNow;
        }
    }

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return _timestamp;
        }
    }

    /// <summary>Lets time pass: both clocks move by <paramref name="delta"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative; use <see cref="SetUtcNow"/> to move the wall clock back.</exception>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        lock (_gate)
        {
            _utcNow += delta;
            _timestamp += delta.Ticks;
        }
    }

    /// <summary>Steps the wall clock to <paramref name="value"/> (forward or backward); see the class remarks.</summary>
    public void SetUtcNow(DateTimeOffset value)
    {
        lock (_gate)
        {
            TimeSpan step = value - _utcNow;
            if (step > TimeSpan.Zero)
            {
                _timestamp += step.Ticks;
            }

            _utcNow = value;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        throw new NotSupportedException(
            "ManualTimeProvider does not simulate timers; drive the code under test by calling it after Advance(), or add timer support here.");
}
