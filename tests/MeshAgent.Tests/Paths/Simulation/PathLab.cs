using MeshAgent.Engine.Paths;

namespace MeshAgent.Tests.Paths.Simulation;

/// <summary>Site types of the netns lab (shared/lab/README.md, "NAT types").</summary>
internal enum SiteType
{
    /// <summary>The agent owns a public address.</summary>
    None,

    /// <summary>Endpoint-independent mapping, port-preserving, address- and port-dependent filtering (the lab's cone).</summary>
    Cone,

    /// <summary>Endpoint-dependent mapping (random port per flow), address- and port-dependent filtering.</summary>
    Symmetric,
}

/// <summary>
/// Builds simulated labs the way the netns lab lays them out: site i has public address
/// 203.0.113.(10·i) (its NAT) or 203.0.113.(10·i + 1) (a public agent), LAN 10.i.0.0/24, agent at
/// 10.i.0.10; one meshrelay "relay1". Wires two <see cref="SimNode"/>s to each other as the agent
/// would: each learns its own candidates (interface address + STUN mapping) and NAT type, and the
/// peer's candidates plus relays, as from the peer's gossiped member record.
/// </summary>
internal sealed class PathLab
{
    public PathLab(int seed, PathConfig? config = null)
    {
        Seed = seed;
        Network = new SimulatedNetwork(seed);
        Config = config ?? PathConfig.Default;
        Relay = Network.AddRelay("relay1", TimeSpan.FromMilliseconds(15));
    }

    public int Seed { get; }

    public SimulatedNetwork Network { get; }

    public PathConfig Config { get; }

    public SimRelay Relay { get; }

    public static NatMapping MappingOf(SiteType type) => type switch
    {
        SiteType.None => NatMapping.None,
        SiteType.Cone => NatMapping.EndpointIndependent,
        _ => NatMapping.EndpointDependent,
    };

    /// <summary>A site with one agent; <paramref name="latency"/> is the site's one-way delay to the core.</summary>
    public SimNode Site(string name, int index, SiteType type, TimeSpan latency)
    {
        SimHost host;
        if (type == SiteType.None)
        {
            host = Network.AddHost($"{name}-agent", $"203.0.113.{(10 * index) + 1}", nat: null, latency);
        }
        else
        {
            SimNat nat = Network.AddNat(
                name,
                $"203.0.113.{10 * index}",
                type == SiteType.Cone ? SimMapping.EndpointIndependent : SimMapping.EndpointDependent,
                SimFiltering.AddressAndPortDependent,
                latency);
            host = Network.AddHost($"{name}-agent", $"10.{index}.0.10", nat);
        }

        return new SimNode(Network, host, name, MappingOf(type), Config, Seed * 1000 + index);
    }

    /// <summary>Another agent behind an existing site's NAT (the lab's <c>agents=2</c>).</summary>
    public SimNode SecondAgent(SimNode first, string name, int hostNumber)
    {
        SimNat nat = first.Host.Nat ?? throw new InvalidOperationException($"{first.Name} is not behind a NAT");
        SimHost host = Network.AddHost($"{name}-agent", $"{string.Join('.', first.Host.Address.ToString().Split('.')[..3])}.{hostNumber}", nat);
        return new SimNode(Network, host, name, first.Nat, Config, Seed * 1000 + 100 + hostNumber);
    }

    /// <summary>This node's own candidates: its interface addresses, then its STUN mapping if different.</summary>
    public IReadOnlyList<PathCandidate> LocalCandidates(SimNode node)
    {
        var candidates = node.Host.Addresses.Select(a => PathCandidate.Local(node.Host.LocalEndpoint(0, a))).ToList();
        var reflexive = Network.StunMapping(node.Host);
        if (candidates.All(c => c.Address.Endpoint != reflexive))
        {
            candidates.Add(PathCandidate.Reflexive(reflexive));
        }

        return candidates;
    }

    /// <summary>
    /// Introduces the two nodes as gossip would, at the current virtual time: each gets its own
    /// candidates and NAT type, then the peer's candidates, NAT type and relays (the meshrelay
    /// unless <paramref name="relays"/> says otherwise). Both managers start at once.
    /// </summary>
    /// <param name="bKnowsA">False: b's view of a's record has no endpoints yet (a just joined), so b learns them only from a's call-me-maybe.</param>
    public void Connect(SimNode a, SimNode b, IReadOnlyList<PathCandidate>? relays = null, bool bKnowsA = true)
    {
        relays ??= [PathCandidate.Relay(Relay.Id)];
        a.Peer = b;
        b.Peer = a;
        IReadOnlyList<PathCandidate> aLocal = LocalCandidates(a);
        IReadOnlyList<PathCandidate> bLocal = LocalCandidates(b);
        a.Manager.SetLocalCandidates(aLocal, a.Nat);
        b.Manager.SetLocalCandidates(bLocal, b.Nat);
        a.Manager.SetCandidates([.. bLocal, .. relays], b.Nat);
        b.Manager.SetCandidates(bKnowsA ? [.. aLocal, .. relays] : relays, a.Nat);
        a.Wake();
        b.Wake();
    }

    public static double Seconds(long ticks) => ticks / (double)TimeSpan.TicksPerSecond;
}
