using System.Net;
using MeshAgent.Core.Net;

namespace MeshAgent.Tests.Paths.Simulation;

/// <summary>What travels through the simulated network: a frame of one node's session with its peer (the session stands in for WireGuard: only the peer can read it).</summary>
internal sealed record SimPayload(SimNode Sender, bool IsData, byte[] Frame);

/// <summary>
/// An emulated internet in virtual time for path-selection tests, shaped like the netns lab
/// (shared/lab/README.md): sites behind NATs (<see cref="SimNat"/>) or with public addresses, a
/// core that drops private addresses and can cut UDP between two sites, and relays that forward
/// by peer. One priority queue orders every event; the clock jumps between them, so minutes run in
/// milliseconds. Everything random (loss, jitter, NAT ports) comes from the seed: a run replays exactly.
/// <para>
/// Delays: a datagram spends its sender's uplink delay (site or public address) to reach the core
/// and the receiver's to arrive; each leg adds uniform jitter in [0, Jitter] and is lost with its
/// attachment's Loss. LAN delivery (two hosts behind one NAT) takes <see cref="LanLatency"/>. A
/// relayed datagram crosses the sender's uplink, the relay's own delay, and the receiver's uplink;
/// relays are reachable whatever the NATs (as a relay client keeps its relay connection) and are
/// not affected by cuts (the lab's <c>cut</c> is UDP between the two sites only).
/// </para>
/// </summary>
internal sealed class SimulatedNetwork
{
    public const int AgentPort = 41641;
    private static readonly UdpEndpoint StunServer = new(IPAddress.Parse("198.51.100.10"), 3478);

    private readonly PriorityQueue<Action, (long At, long Seq)> _events = new();
    private readonly List<SimNat> _nats = new();
    private readonly List<SimHost> _hosts = new();
    private readonly Dictionary<string, SimRelay> _relays = new();
    private readonly HashSet<(IPAddress, IPAddress)> _cuts = new();
    private readonly int _seed;
    private long _sequence;

    public SimulatedNetwork(int seed)
    {
        _seed = seed;
        Random = new Random(seed);
    }

    public SimClock Clock { get; } = new();

    public long Now => Clock.Ticks;

    /// <summary>Loss and jitter draws.</summary>
    public Random Random { get; }

    public TimeSpan LanLatency { get; set; } = TimeSpan.FromMilliseconds(0.3);

    public long DatagramsSent { get; private set; }

    public long DatagramsLost { get; private set; }

    public long DatagramsFiltered { get; private set; }

    public SimNat AddNat(string name, string publicAddress, SimMapping mapping, SimFiltering filtering, TimeSpan latency)
    {
        var nat = new SimNat(name, IPAddress.Parse(publicAddress), mapping, filtering, latency, unchecked(_seed * 31 + _nats.Count + 1));
        _nats.Add(nat);
        return nat;
    }

    /// <summary>A host behind <paramref name="nat"/> at a private address, or (nat null) a public host whose first attachment is <paramref name="address"/>.</summary>
    public SimHost AddHost(string name, string address, SimNat? nat, TimeSpan latency = default)
    {
        var host = new SimHost(this, name, IPAddress.Parse(address), nat, latency);
        _hosts.Add(host);
        return host;
    }

    public SimRelay AddRelay(string id, TimeSpan latency)
    {
        var relay = new SimRelay(id, latency);
        _relays.Add(id, relay);
        return relay;
    }

    public SimRelay Relay(string id) => _relays[id];

    /// <summary>The relay a relay path names.</summary>
    public SimRelay RelayFor(MeshAgent.Engine.Paths.PathAddress path) =>
        _relays.Values.FirstOrDefault(r => r.Address == path)
        ?? throw new InvalidOperationException($"no simulated relay for {path}");

    /// <summary>Drops UDP between the two hosts' public addresses from now on, both ways (lab: <c>cut a b</c>).</summary>
    public void Cut(SimHost a, SimHost b)
    {
        foreach (IPAddress x in a.PublicAddresses)
        {
            foreach (IPAddress y in b.PublicAddresses)
            {
                _cuts.Add((x, y));
                _cuts.Add((y, x));
            }
        }
    }

    public void HealAll() => _cuts.Clear();

    /// <summary>What a STUN server sees for this socket (creates the NAT mapping, as a real Binding Request does).</summary>
    public UdpEndpoint StunMapping(SimHost host, int socket = 0)
    {
        UdpEndpoint local = host.LocalEndpoint(socket);
        return host.Nat is null ? local : host.Nat.TranslateOut(local, StunServer, Now);
    }

    public void Schedule(long at, Action action) => _events.Enqueue(action, (Math.Max(at, Now), _sequence++));

    /// <summary>Runs events until virtual time <paramref name="until"/> (ticks) or until <paramref name="stop"/> holds after an event.</summary>
    public void RunUntil(long until, Func<bool>? stop = null)
    {
        while (_events.TryPeek(out _, out (long At, long Seq) key) && key.At <= until)
        {
            Action action = _events.Dequeue();
            Clock.Ticks = Math.Max(Clock.Ticks, key.At);
            action();
            if (stop?.Invoke() == true)
            {
                return;
            }
        }

        Clock.Ticks = Math.Max(Clock.Ticks, until);
    }

    public void RunFor(TimeSpan duration, Func<bool>? stop = null) => RunUntil(Now + duration.Ticks, stop);

    /// <summary>Sends a datagram from <paramref name="from"/>'s socket to <paramref name="to"/>; see the class remarks for the route it takes.</summary>
    public void SendUdp(SimHost from, int socket, UdpEndpoint to, SimPayload payload)
    {
        DatagramsSent++;
        if (!from.HasSocket(socket))
        {
            return; // the socket was closed
        }

        UdpEndpoint local = from.LocalEndpoint(socket, from.ReplyAddress(to));
        IPAddress destination = to.ToIPAddress();

        // Same LAN: straight across the switch, no NAT.
        if (from.Nat is not null)
        {
            SimHost? neighbour = _hosts.FirstOrDefault(h => h.Nat == from.Nat && h.Address.Equals(destination));
            if (neighbour is not null)
            {
                Deliver(LanLatency, neighbour, to.Port, local, payload);
                return;
            }

            if (destination.Equals(from.Nat.PublicAddress))
            {
                if (!from.Nat.Hairpin)
                {
                    DatagramsFiltered++;
                    return;
                }

                UdpEndpoint translated = from.Nat.TranslateOut(local, to, Now);
                Schedule(Now + 2 * LanLatency.Ticks, () => ArriveAtNat(from.Nat, to.Port, translated, payload));
                return;
            }
        }

        if (IsPrivate(destination))
        {
            DatagramsFiltered++; // the core drops private destinations
            return;
        }

        UdpEndpoint source = from.Nat is null ? local : from.Nat.TranslateOut(local, to, Now);
        (TimeSpan uplink, TimeSpan jitter, double loss) = from.Uplink(local.ToIPAddress());
        if (Lost(loss))
        {
            return;
        }

        Schedule(Now + uplink.Ticks + Jitter(jitter), () => ArriveAtCore(source, to, payload));
    }

    /// <summary>Sends a datagram through a relay (or a peer relay) to <paramref name="to"/>.</summary>
    public void SendRelay(SimHost from, SimRelay relay, SimHost to, SimPayload payload, Action<SimRelay, SimPayload> deliver)
    {
        DatagramsSent++;
        (TimeSpan up, TimeSpan upJitter, double upLoss) = from.Uplink(null);
        (TimeSpan down, TimeSpan downJitter, double downLoss) = to.Uplink(null);
        if (relay.Down || Lost(upLoss) || Lost(downLoss))
        {
            return;
        }

        long delay = up.Ticks + Jitter(upJitter) + relay.Latency.Ticks + down.Ticks + Jitter(downJitter);
        Schedule(Now + delay, () => deliver(relay, payload));
    }

    private void ArriveAtCore(UdpEndpoint source, UdpEndpoint to, SimPayload payload)
    {
        IPAddress destination = to.ToIPAddress();
        if (_cuts.Contains((source.ToIPAddress(), destination)))
        {
            DatagramsFiltered++;
            return;
        }

        SimNat? nat = _nats.FirstOrDefault(n => n.PublicAddress.Equals(destination));
        if (nat is not null)
        {
            if (Lost(nat.Loss))
            {
                return;
            }

            Schedule(Now + nat.Latency.Ticks + Jitter(nat.Jitter), () => ArriveAtNat(nat, to.Port, source, payload));
            return;
        }

        SimHost? host = _hosts.FirstOrDefault(h => h.Nat is null && h.PublicAddresses.Contains(destination));
        if (host is null)
        {
            DatagramsFiltered++;
            return;
        }

        (TimeSpan downlink, TimeSpan jitter, double loss) = host.Uplink(destination);
        if (Lost(loss))
        {
            return;
        }

        Schedule(Now + downlink.Ticks + Jitter(jitter), () => host.Receive(to, source, payload));
    }

    private void ArriveAtNat(SimNat nat, ushort port, UdpEndpoint source, SimPayload payload)
    {
        if (!nat.TryTranslateIn(port, source, Now, out UdpEndpoint inside))
        {
            DatagramsFiltered++;
            return;
        }

        SimHost? host = _hosts.FirstOrDefault(h => h.Nat == nat && h.Address.Equals(inside.ToIPAddress()));
        if (host is null)
        {
            return;
        }

        Deliver(TimeSpan.Zero, host, inside.Port, source, payload);
    }

    private void Deliver(TimeSpan delay, SimHost host, ushort port, UdpEndpoint source, SimPayload payload)
    {
        var to = new UdpEndpoint(host.Address, port);
        Schedule(Now + delay.Ticks, () => host.Receive(to, source, payload));
    }

    private bool Lost(double loss)
    {
        if (loss > 0 && Random.NextDouble() < loss)
        {
            DatagramsLost++;
            return true;
        }

        return false;
    }

    private long Jitter(TimeSpan jitter) => jitter <= TimeSpan.Zero ? 0 : Random.NextInt64(jitter.Ticks + 1);

    private static bool IsPrivate(IPAddress address)
    {
        byte[] b = address.GetAddressBytes();
        return b.Length == 4 && (b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xC0) == 64));
    }
}

/// <summary>A relay in the simulation: a meshrelay, or a member relaying for others (then <see cref="Member"/> is set).</summary>
internal sealed class SimRelay(string id, TimeSpan latency)
{
    public string Id { get; } = id;

    /// <summary>Set for a peer relay: the relaying member.</summary>
    public MeshAgent.Engine.Membership.MemberId? Member { get; set; }

    public MeshAgent.Engine.Paths.PathAddress Address => Member is { } member
        ? MeshAgent.Engine.Paths.PathAddress.PeerRelay(member)
        : MeshAgent.Engine.Paths.PathAddress.Relay(Id);

    public TimeSpan Latency { get; set; } = latency;

    /// <summary>While true the relay forwards nothing.</summary>
    public bool Down { get; set; }
}

/// <summary>
/// A machine in the simulation: one private address behind a NAT, or one or more public addresses
/// (each its own attachment with delay, jitter and loss: a multi-homed server). Socket 0 is the
/// agent's socket on <see cref="SimulatedNetwork.AgentPort"/>; probe sockets 1..n get fresh ports.
/// </summary>
internal sealed class SimHost
{
    private readonly SimulatedNetwork _network;
    private readonly List<Attachment> _attachments = new();
    private readonly Dictionary<int, ushort> _sockets = new() { [0] = SimulatedNetwork.AgentPort };
    private readonly Dictionary<UdpEndpoint, IPAddress> _replyFrom = new();
    private ushort _nextPort = 20000;

    public SimHost(SimulatedNetwork network, string name, IPAddress address, SimNat? nat, TimeSpan latency)
    {
        _network = network;
        Name = name;
        Address = address;
        Nat = nat;
        if (nat is null)
        {
            _attachments.Add(new Attachment(address) { Latency = latency });
        }
    }

    public string Name { get; }

    /// <summary>The first (or only) address; private when behind a NAT.</summary>
    public IPAddress Address { get; }

    public SimNat? Nat { get; }

    /// <summary>Called for every datagram delivered to one of this host's sockets: (socket, source, payload).</summary>
    public Action<int, UdpEndpoint, SimPayload>? OnReceive { get; set; }

    public IEnumerable<IPAddress> PublicAddresses => Nat is null ? _attachments.Select(a => a.Address) : [Nat.PublicAddress];

    public int ProbeSocketsOpen => _sockets.Count - 1;

    /// <summary>Public host only: another address with its own path characteristics.</summary>
    public void AddAddress(string address, TimeSpan latency, TimeSpan jitter = default)
    {
        if (Nat is not null)
        {
            throw new InvalidOperationException($"{Name} is behind NAT {Nat.Name}; extra addresses are for public hosts");
        }

        _attachments.Add(new Attachment(IPAddress.Parse(address)) { Latency = latency, Jitter = jitter });
    }

    /// <summary>Delay, jitter and loss of a public host's attachment (first one when <paramref name="address"/> is null).</summary>
    public void SetAttachment(string? address, TimeSpan? latency = null, TimeSpan? jitter = null, double? loss = null)
    {
        Attachment a = address is null ? _attachments[0] : _attachments.First(x => x.Address.Equals(IPAddress.Parse(address)));
        a.Latency = latency ?? a.Latency;
        a.Jitter = jitter ?? a.Jitter;
        a.Loss = loss ?? a.Loss;
    }

    public IReadOnlyList<IPAddress> Addresses => Nat is null ? _attachments.Select(a => a.Address).ToList() : [Address];

    public bool HasSocket(int socket) => _sockets.ContainsKey(socket);

    public UdpEndpoint LocalEndpoint(int socket, IPAddress? address = null) => new(address ?? Address, _sockets[socket]);

    public int OpenProbeSockets(int count)
    {
        for (int i = 1; i <= count; i++)
        {
            _sockets[i] = _nextPort++;
        }

        return count;
    }

    public void CloseProbeSockets(int keep)
    {
        foreach (int socket in _sockets.Keys.Where(s => s != 0 && s != keep).ToList())
        {
            _sockets.Remove(socket);
        }
    }

    /// <summary>The uplink a datagram from (or to) <paramref name="address"/> crosses: the site's for a NATed host.</summary>
    internal (TimeSpan Latency, TimeSpan Jitter, double Loss) Uplink(IPAddress? address)
    {
        if (Nat is not null)
        {
            return (Nat.Latency, Nat.Jitter, Nat.Loss);
        }

        Attachment a = address is null ? _attachments[0] : _attachments.FirstOrDefault(x => x.Address.Equals(address)) ?? _attachments[0];
        return (a.Latency, a.Jitter, a.Loss);
    }

    /// <summary>A multi-homed host answers a remote from the address that remote last reached (as a server bound per address does); null: the first address.</summary>
    internal IPAddress? ReplyAddress(UdpEndpoint remote) => _replyFrom.GetValueOrDefault(remote);

    internal void Receive(UdpEndpoint to, UdpEndpoint source, SimPayload payload)
    {
        if (Nat is null && _attachments.Count > 1)
        {
            _replyFrom[source] = to.ToIPAddress();
        }

        foreach ((int socket, ushort port) in _sockets)
        {
            if (port == to.Port)
            {
                OnReceive?.Invoke(socket, source, payload);
                return;
            }
        }
    }

    private sealed class Attachment(IPAddress address)
    {
        public IPAddress Address { get; } = address;

        public TimeSpan Latency { get; set; }

        public TimeSpan Jitter { get; set; }

        public double Loss { get; set; }
    }
}
