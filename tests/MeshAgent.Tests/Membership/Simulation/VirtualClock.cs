namespace MeshAgent.Tests.Membership.Simulation;

/// <summary>
/// Simulated time for the gossip simulation: a timestamp in <see cref="TimeSpan"/> ticks that
/// moves only when the event loop sets it. Nothing sleeps; timers are the engines' own
/// (driven through <c>RunTimers</c>), so <see cref="CreateTimer"/> is not supported.
/// Single-threaded, like the simulation.
/// </summary>
internal sealed class VirtualClock : TimeProvider
{
    public long Ticks { get; set; }

    public TimeSpan Now => TimeSpan.FromTicks(Ticks);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Ticks;

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(Ticks);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        throw new NotSupportedException("the gossip simulation has no real timers; engines are woken by the event loop");
}
