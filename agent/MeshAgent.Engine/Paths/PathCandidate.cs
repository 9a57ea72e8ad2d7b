using MeshAgent.Core.Net;
using MeshAgent.Engine.Membership;

namespace MeshAgent.Engine.Paths;

/// <summary>Where a candidate came from (DESIGN §5). Values 1–4 are wire format in <see cref="CallMeMaybe"/>.</summary>
public enum PathCandidateKind : byte
{
    /// <summary>An address of one of the peer's interfaces (LAN, or a public address it owns); also mDNS finds.</summary>
    Local = 1,

    /// <summary>The peer's public mapping as a STUN server saw it (server-reflexive, RFC 8489).</summary>
    Reflexive = 2,

    /// <summary>A port mapping the peer obtained from its router (UPnP IGD, NAT-PMP, PCP).</summary>
    Mapped = 3,

    /// <summary>The source address of a probe that reached us, learned at run time (peer-reflexive, RFC 8445 §7.3.1.3).</summary>
    PeerReflexive = 4,

    /// <summary>The peer's home <c>meshrelay</c>.</summary>
    Relay = 5,

    /// <summary>A member with a good public endpoint that relays for the mesh.</summary>
    PeerRelay = 6,
}

/// <summary>A way the peer may be reachable, and where we learned it.</summary>
public readonly record struct PathCandidate(PathCandidateKind Kind, PathAddress Address)
{
    public bool IsDirect => Address.IsDirect;

    public bool IsRelay => Kind is PathCandidateKind.Relay or PathCandidateKind.PeerRelay;

    public static PathCandidate Local(UdpEndpoint endpoint) => new(PathCandidateKind.Local, PathAddress.Direct(endpoint));

    public static PathCandidate Reflexive(UdpEndpoint endpoint) => new(PathCandidateKind.Reflexive, PathAddress.Direct(endpoint));

    public static PathCandidate Mapped(UdpEndpoint endpoint) => new(PathCandidateKind.Mapped, PathAddress.Direct(endpoint));

    public static PathCandidate PeerReflexive(UdpEndpoint endpoint) => new(PathCandidateKind.PeerReflexive, PathAddress.Direct(endpoint));

    public static PathCandidate Relay(string relayId) => new(PathCandidateKind.Relay, PathAddress.Relay(relayId));

    public static PathCandidate PeerRelay(MemberId member) => new(PathCandidateKind.PeerRelay, PathAddress.PeerRelay(member));

    public override string ToString() => $"{Kind} {Address}";
}
