namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// Behaviour of a <see cref="NatSite"/>'s router, in the terms of RFC 4787 (mapping §4.1,
/// filtering §5, hairpinning §6). <see cref="NatRules"/> says which nftables rule gives which
/// behaviour. No type hairpins: a LAN host cannot reach another through the site's public
/// address, as on most home routers.
/// </summary>
public enum NatType
{
    /// <summary>
    /// Endpoint-independent, port-preserving mapping ("masquerade" keeps the source port unless
    /// the tuple is taken); address- and port-dependent filtering ("port-restricted cone").
    /// </summary>
    Cone,

    /// <summary>Address- and port-dependent mapping: a random port per flow ("masquerade fully-random"); address- and port-dependent filtering.</summary>
    Symmetric,

    /// <summary>As <see cref="Cone"/>, but outbound UDP is dropped (except to port 53): only TCP and ICMP leave.</summary>
    UdpBlocked,

    /// <summary>
    /// No translation for the hosts: each owns a public address 203.0.113.(10·index + k)/32 besides
    /// its LAN address, routed to it by the core and the site router, and unsolicited traffic to it
    /// is let in (endpoint-independent "filtering", i.e. none). Traffic from a LAN address is still
    /// masqueraded as for <see cref="Cone"/>.
    /// </summary>
    None,

    /// <summary>
    /// A <see cref="Cone"/> home router whose WAN is in carrier-grade NAT space (100.64.index.2/24,
    /// RFC 6598) behind a second <see cref="Cone"/> router, the CGN, that owns the public address:
    /// mapping endpoint-independent end to end, filtering address- and port-dependent at both.
    /// </summary>
    DoubleNat,

    /// <summary>
    /// Endpoint-independent, port-preserving mapping as <see cref="Cone"/>, and endpoint-independent
    /// filtering ("full cone"): once a host has sent from a port, anyone may send to its mapping.
    /// Not in the shared lab; here so tests can show what the filtering of the easy side changes.
    /// </summary>
    FullCone,
}
