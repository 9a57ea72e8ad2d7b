namespace MeshAgent.Engine.Paths;

/// <summary>
/// A node's NAT mapping behaviour as its netcheck found it (RFC 4787 §4.1 terms; RFC 5780 §4.3 test),
/// published in its member record so peers can plan traversal. Values are wire format.
/// </summary>
public enum NatMapping : byte
{
    /// <summary>Not measured (yet), or the result was inconclusive.</summary>
    Unknown = 0,

    /// <summary>The node owns a public address: what it binds is what others see.</summary>
    None = 1,

    /// <summary>"Easy" NAT: one public mapping per local socket whatever the destination (full, restricted or port-restricted cone).</summary>
    EndpointIndependent = 2,

    /// <summary>"Hard" NAT: a new public port for every destination (symmetric NAT); the STUN-learned port is useless to peers.</summary>
    EndpointDependent = 3,

    /// <summary>No UDP gets out at all: only a TCP relay works.</summary>
    UdpBlocked = 4,
}

/// <summary>This node's part in birthday-paradox probing towards one peer (Tailscale, "How NAT traversal works", "The benefits of birthdays").</summary>
public enum HardNatRole
{
    /// <summary>Plain probing is the best we can do: both easy, either side public, both hard, or unknown.</summary>
    None,

    /// <summary>We are behind the hard NAT: open many sockets and send from each towards the easy side's public mapping.</summary>
    OpenPorts,

    /// <summary>We are behind the easy NAT: once the hard side says its ports are open, probe random ports of its public address.</summary>
    Spray,
}

public static class HardNat
{
    /// <summary>
    /// Birthday probing helps exactly when one side is hard and the other easy but NATed. A public
    /// peer needs none (it answers the hard side's probe at the probe's real source, a peer-reflexive
    /// candidate; lab: none ↔ symmetric is direct). Two hard sides would need ~170,000 probes for
    /// even odds of success (every pair of random ports must meet), so they stay on the relay.
    /// </summary>
    public static HardNatRole RoleFor(NatMapping local, NatMapping peer) => (local, peer) switch
    {
        (NatMapping.EndpointDependent, NatMapping.EndpointIndependent) => HardNatRole.OpenPorts,
        (NatMapping.EndpointIndependent, NatMapping.EndpointDependent) => HardNatRole.Spray,
        _ => HardNatRole.None,
    };
}
