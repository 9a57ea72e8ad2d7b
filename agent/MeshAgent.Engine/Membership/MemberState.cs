namespace MeshAgent.Engine.Membership;

/// <summary>
/// A member's liveness as one node sees it (SWIM §4.2; memberlist <c>NodeStateType</c>). The
/// numeric values go on the wire in anti-entropy digests. At equal incarnation the later state in
/// this order wins (alive &lt; suspect &lt; dead &lt; left), which is how a suspicion overrides an
/// old alive and only the member itself, by raising its incarnation, can undo it.
/// <see cref="Revoked"/> is outside that order: it beats everything and is final.
/// </summary>
public enum MemberState : byte
{
    /// <summary>Answering probes (or not yet found otherwise).</summary>
    Alive = 0,

    /// <summary>Missed a probe; dead unless it refutes within the suspicion timeout.</summary>
    Suspect = 1,

    /// <summary>Did not refute a suspicion in time. Undone only by an alive with a higher incarnation (a restart or a late refutation).</summary>
    Dead = 2,

    /// <summary>Announced its own departure (<c>meshagent leave</c>). Like dead, but intentional: no alarm, and it may rejoin with a higher incarnation.</summary>
    Left = 3,

    /// <summary>Revoked by the network's root key. Final: never alive again, whatever it sends.</summary>
    Revoked = 4,
}

internal static class MemberStateExtensions
{
    public const byte MaxWireValue = (byte)MemberState.Revoked;

    /// <summary>States that anti-entropy reconciles. Dead and left members are tombstones: kept locally (to reject stale alives) but not pushed to nodes that never knew them.</summary>
    public static bool IsSynced(this MemberState state) => state is MemberState.Alive or MemberState.Suspect or MemberState.Revoked;

    /// <summary>Counted in N for the log(N) formulas, probed and gossiped to.</summary>
    public static bool IsLive(this MemberState state) => state is MemberState.Alive or MemberState.Suspect;
}
