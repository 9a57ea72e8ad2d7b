using MeshAgent.Engine.Membership;

namespace MeshAgent.Engine.Paths;

/// <summary>What a member's record and our measurements say about its fitness to relay for others.</summary>
/// <param name="Member">The member.</param>
/// <param name="Nat">Its published NAT mapping behaviour.</param>
/// <param name="HasPortMapping">It published a router port mapping (UPnP/NAT-PMP/PCP) candidate.</param>
/// <param name="Rtt">Our measured RTT to it, if any.</param>
public readonly record struct PeerRelayOffer(MemberId Member, NatMapping Nat, bool HasPortMapping, TimeSpan? Rtt);

/// <summary>
/// Picks members to relay between two peers when no meshrelay is configured (DESIGN §5: "peer relays
/// (any member with a good public endpoint)"). Fit: a public address (no NAT), or an easy NAT with a
/// port mapping: both accept unsolicited datagrams from either peer, which a relay must. Order:
/// lowest measured RTT first (unmeasured last), then public before mapped, then member id, so the
/// choice is deterministic.
/// </summary>
public static class PeerRelayChooser
{
    public static bool IsFit(PeerRelayOffer offer) =>
        offer.Nat == NatMapping.None || (offer.Nat == NatMapping.EndpointIndependent && offer.HasPortMapping);

    /// <summary>
    /// Up to <paramref name="max"/> <see cref="PathCandidateKind.PeerRelay"/> candidates for reaching
    /// <paramref name="peer"/>, best first, never this node or the peer itself. Pass the result to
    /// <see cref="PathManager.SetCandidates"/> after any meshrelay candidate (a meshrelay, when
    /// present, is preferred).
    /// </summary>
    public static IReadOnlyList<PathCandidate> Choose(IEnumerable<PeerRelayOffer> members, MemberId self, MemberId peer, int max = 2)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        return members
            .Where(m => m.Member != self && m.Member != peer && IsFit(m))
            .OrderBy(m => m.Rtt ?? TimeSpan.MaxValue)
            .ThenBy(m => m.Nat == NatMapping.None ? 0 : 1)
            .ThenBy(m => m.Member)
            .Take(max)
            .Select(m => PathCandidate.PeerRelay(m.Member))
            .ToArray();
    }
}
