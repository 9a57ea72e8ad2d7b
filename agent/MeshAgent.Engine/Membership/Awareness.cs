namespace MeshAgent.Engine.Membership;

/// <summary>
/// Lifeguard's local health multiplier (LHM; Lifeguard §4.1, memberlist awareness.go). A node
/// that is itself slow — CPU starved, dropping packets — misses acks and would accuse healthy
/// members. The score rises when this node has evidence of its own trouble (a failed probe whose
/// helpers sent no nacks, having to refute a suspicion about itself) and falls with each direct
/// ack; probe interval and timeout are stretched by (score + 1), so an unhealthy node probes less
/// and waits longer before it accuses anyone.
/// </summary>
internal sealed class Awareness
{
    private readonly int _max;

    public Awareness(int max) => _max = max;

    /// <summary>0 (healthy) to max − 1.</summary>
    public int Score { get; private set; }

    public void ApplyDelta(int delta) => Score = Math.Clamp(Score + delta, 0, _max - 1);

    public long Scale(long ticks) => ticks * (Score + 1);
}
