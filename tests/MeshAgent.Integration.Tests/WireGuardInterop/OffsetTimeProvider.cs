namespace MeshAgent.Integration.Tests.WireGuardInterop;

/// <summary>
/// The system clock plus an adjustable offset: lets a test age our session past
/// REKEY_AFTER_TIME in an instant while wireguard-go runs on real time (it only needs our
/// timestamps to increase, which a forward jump keeps).
/// </summary>
internal sealed class OffsetTimeProvider : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan delta) => Interlocked.Add(ref _offsetTicks, delta.Ticks);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override long TimestampFrequency => System.TimestampFrequency;

    public override long GetTimestamp() =>
        System.GetTimestamp() + (long)(Interlocked.Read(ref _offsetTicks) * (System.TimestampFrequency / (double)TimeSpan.TicksPerSecond));
}
