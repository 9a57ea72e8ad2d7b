using System.Net;
using MeshAgent.Core.Net;

namespace MeshAgent.Tests.Paths.Simulation;

/// <summary>RFC 4787 §4.1 mapping behaviour of a simulated NAT.</summary>
internal enum SimMapping
{
    /// <summary>One public port per inside endpoint, whatever the destination ("cone"; Linux masquerade).</summary>
    EndpointIndependent,

    /// <summary>A new random public port per (inside endpoint, destination) ("symmetric"; masquerade fully-random).</summary>
    EndpointDependent,
}

/// <summary>RFC 4787 §5 filtering behaviour of a simulated NAT.</summary>
internal enum SimFiltering
{
    /// <summary>Any source may use a live mapping ("full cone").</summary>
    EndpointIndependent,

    /// <summary>Only addresses the inside host has sent to ("restricted cone").</summary>
    AddressDependent,

    /// <summary>Only exact address:port pairs the inside host has sent to ("port-restricted"; what conntrack does, and what every lab NAT does).</summary>
    AddressAndPortDependent,
}

/// <summary>
/// A simulated NAT: mappings and filtering per RFC 4787, with Linux conntrack's idle timeout. Each
/// flow (inside endpoint ↔ remote endpoint) has its own idle timer refreshed by packets either way,
/// as a conntrack entry has; a mapping lives while any of its flows does (so an endpoint-independent
/// mapping is kept by traffic to any peer). <see cref="MappingTimeout"/> defaults to 30 s, Linux's
/// <c>nf_conntrack_udp_timeout</c> for unreplied flows (replied flows get 120 s there; using 30 s for
/// all is the harsher, common home-router case). Port preservation follows masquerade: an
/// endpoint-independent NAT keeps the inside port when it is free; an endpoint-dependent one picks a
/// random port in 1024–65535 per flow. No hairpinning unless <see cref="Hairpin"/> (the lab's routers do none).
/// </summary>
internal sealed class SimNat
{
    private readonly Dictionary<(UdpEndpoint Inside, UdpEndpoint Remote), Mapping> _byKey = new();
    private readonly Dictionary<ushort, Mapping> _byPort = new();
    private readonly Random _ports;

    public SimNat(string name, IPAddress publicAddress, SimMapping mapping, SimFiltering filtering, TimeSpan latency, int seed)
    {
        Name = name;
        PublicAddress = publicAddress;
        MappingBehavior = mapping;
        Filtering = filtering;
        Latency = latency;
        _ports = new Random(seed);
    }

    public string Name { get; }

    public IPAddress PublicAddress { get; }

    public SimMapping MappingBehavior { get; }

    public SimFiltering Filtering { get; }

    /// <summary>One-way delay between this site and the core.</summary>
    public TimeSpan Latency { get; set; }

    public TimeSpan Jitter { get; set; }

    /// <summary>Loss probability for each datagram crossing this site's uplink, either way.</summary>
    public double Loss { get; set; }

    public TimeSpan MappingTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool Hairpin { get; set; }

    public long MappingsCreated { get; private set; }

    public long InboundDropped { get; private set; }

    /// <summary>Outbound: the public source for a datagram from <paramref name="inside"/> to <paramref name="remote"/>; creates or refreshes the mapping and flow.</summary>
    public UdpEndpoint TranslateOut(UdpEndpoint inside, UdpEndpoint remote, long now)
    {
        var key = (inside, MappingBehavior == SimMapping.EndpointIndependent ? default : remote);
        if (!_byKey.TryGetValue(key, out Mapping? mapping) || !IsAlive(mapping, now))
        {
            if (mapping is not null)
            {
                Remove(mapping);
            }

            mapping = new Mapping(inside, AllocatePort(inside.Port, now));
            _byKey[key] = mapping;
            _byPort[mapping.Port] = mapping;
            MappingsCreated++;
        }

        mapping.Flows[remote] = now;
        return new UdpEndpoint(PublicAddress, mapping.Port);
    }

    /// <summary>Inbound: the inside endpoint for a datagram from <paramref name="remote"/> to our public <paramref name="port"/>, or false if no live mapping admits it.</summary>
    public bool TryTranslateIn(ushort port, UdpEndpoint remote, long now, out UdpEndpoint inside)
    {
        inside = default;
        if (!_byPort.TryGetValue(port, out Mapping? mapping) || !IsAlive(mapping, now))
        {
            InboundDropped++;
            return false;
        }

        bool admitted = Filtering switch
        {
            SimFiltering.EndpointIndependent => true,
            SimFiltering.AddressDependent => mapping.Flows.Any(f => f.Key.ToIPAddress().Equals(remote.ToIPAddress()) && now - f.Value < MappingTimeout.Ticks),
            _ => mapping.Flows.TryGetValue(remote, out long last) && now - last < MappingTimeout.Ticks,
        };
        if (!admitted)
        {
            InboundDropped++;
            return false;
        }

        mapping.Flows[remote] = now; // conntrack refreshes on replies too
        inside = mapping.Inside;
        return true;
    }

    /// <summary>Live mappings now (for assertions).</summary>
    public int LiveMappings(long now) => _byPort.Values.Count(m => IsAlive(m, now));

    /// <summary>Forgets every mapping (<c>conntrack -F</c>, a router reboot).</summary>
    public void Reset()
    {
        _byKey.Clear();
        _byPort.Clear();
    }

    private bool IsAlive(Mapping mapping, long now)
    {
        foreach (long last in mapping.Flows.Values)
        {
            if (now - last < MappingTimeout.Ticks)
            {
                return true;
            }
        }

        return false;
    }

    private void Remove(Mapping mapping)
    {
        _byPort.Remove(mapping.Port);
        foreach (var entry in _byKey.Where(e => ReferenceEquals(e.Value, mapping)).ToList())
        {
            _byKey.Remove(entry.Key);
        }
    }

    private ushort AllocatePort(int insidePort, long now)
    {
        if (MappingBehavior == SimMapping.EndpointIndependent && insidePort >= 1024 && IsFree((ushort)insidePort, now))
        {
            return (ushort)insidePort;
        }

        while (true)
        {
            var port = (ushort)_ports.Next(1024, 65536);
            if (IsFree(port, now))
            {
                return port;
            }
        }
    }

    /// <summary>Unused, or used by a mapping that has expired (conntrack reuses a tuple once its entry is gone).</summary>
    private bool IsFree(ushort port, long now)
    {
        if (!_byPort.TryGetValue(port, out Mapping? existing))
        {
            return true;
        }

        if (IsAlive(existing, now))
        {
            return false;
        }

        Remove(existing);
        return true;
    }

    private sealed class Mapping(UdpEndpoint inside, ushort port)
    {
        public UdpEndpoint Inside { get; } = inside;

        public ushort Port { get; } = port;

        public Dictionary<UdpEndpoint, long> Flows { get; } = new();
    }
}
