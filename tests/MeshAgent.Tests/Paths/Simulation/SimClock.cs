namespace MeshAgent.Tests.Paths.Simulation;

/// <summary>
/// Virtual time for the path simulation: a timestamp in <see cref="TimeSpan"/> ticks that moves
/// only when the event loop sets it. Nothing sleeps; managers are woken by the loop, so
/// <see cref="CreateTimer"/> is not supported. Single-threaded, like the simulation.
/// </summary>
internal sealed class SimClock : TimeProvider
{
    public long Ticks { get; set; }

    public TimeSpan Now => TimeSpan.FromTicks(Ticks);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Ticks;

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(Ticks);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        throw new NotSupportedException("the path simulation has no real timers; managers are woken by the event loop");
}
