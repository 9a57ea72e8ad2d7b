using System.Buffers;
using MeshAgent.Engine.Membership;

namespace MeshAgent.Tests.Membership.Simulation;

/// <summary>
/// N gossip engines over a simulated network, in virtual time (memberlist's in-memory transport
/// and Serf's convergence simulator play the same role). One priority queue of struct events
/// orders frame deliveries and engine wake-ups; the clock jumps from event to event, so a minute
/// of a 1,000-node mesh runs in seconds and nothing sleeps.
/// <para>
/// Network model: each frame is lost independently with probability <see cref="LossRate"/>, else
/// delivered after a latency uniform in [<see cref="MinLatency"/>, <see cref="MaxLatency"/>].
/// A stopped node neither sends nor receives nor runs timers (kill -9). Bytes are counted per
/// node per virtual second, each frame plus <see cref="GossipConfig.WireOverheadBytes"/>
/// (IP/UDP/WireGuard headers): sent when handed to the network (lost or not), received when
/// delivered. Everything random comes from the seed, so a run replays exactly.
/// </para>
/// </summary>
internal sealed class GossipSimulation
{
    private readonly PriorityQueue<SimEvent, long> _events = new();
    private readonly Random _network;
    private readonly Random _ids;
    private readonly List<SimNode> _nodes = new();
    private readonly Dictionary<MemberId, int> _index = new();
    private readonly List<long[]> _sentPerSecond = new();
    private readonly List<long[]> _receivedPerSecond = new();
    private readonly int _seed;

    public GossipSimulation(int seed, GossipConfig config)
    {
        _seed = seed;
        Config = config;
        _network = new Random(seed);
        _ids = new Random(unchecked(seed * 7919 + 1));
    }

    public GossipConfig Config { get; }

    public VirtualClock Clock { get; } = new();

    public double LossRate { get; set; }

    public TimeSpan MinLatency { get; set; } = TimeSpan.FromMilliseconds(1);

    public TimeSpan MaxLatency { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Size of each node's payload (a certificate plus signed endpoints and routes is about this).</summary>
    public int PayloadSize { get; init; } = 256;

    public IReadOnlyList<SimNode> Nodes => _nodes;

    public long EventsProcessed { get; private set; }

    public long FramesLost { get; private set; }

    /// <summary>Every member change on every node, with the observing node's index and the virtual time.</summary>
    public event Action<int, MemberChange, long>? MemberChanged;

    public SimNode AddNode(uint incarnation = 1)
    {
        int index = _nodes.Count;
        byte[] key = new byte[MemberId.Size];
        _ids.NextBytes(key);
        var id = new MemberId(key);
        byte[] data = new byte[PayloadSize];
        _ids.NextBytes(data);
        var payload = new MemberPayload(1, data);
        var node = new SimNode(index, id, payload, CreateEngine(index, id, payload, incarnation, life: 0));
        _nodes.Add(node);
        _index.Add(id, index);
        return node;
    }

    /// <summary>
    /// The node's process starts again after a crash: a fresh engine with the same identity and
    /// payload, a higher incarnation (as a persisted one plus one would be), the membership it
    /// persisted (here: the other nodes as alive), announcing itself.
    /// </summary>
    public void Restart(SimNode node, uint incarnation)
    {
        node.Life++;
        node.Engine = CreateEngine(node.Index, node.Id, node.Payload, incarnation, node.Life);
        foreach (SimNode other in _nodes)
        {
            if (other != node)
            {
                node.Engine.ImportMember(other.Id, MemberState.Alive, 1, other.Payload);
            }
        }

        node.Down = false;
        node.WakeAt = long.MaxValue;
        Start(node, announce: true);
    }

    private GossipEngine CreateEngine(int index, MemberId id, MemberPayload payload, uint incarnation, int life)
    {
        var hooks = new GossipHooks { MemberChanged = change => MemberChanged?.Invoke(index, change, Clock.Ticks) };
        var random = new Random(unchecked(_seed + (index * 104729) + (life * 7)));
        return new GossipEngine(Config, id, payload, incarnation, new Transport(this, index), Clock, random, hooks);
    }

    /// <summary>Every node learns every other as alive, as a mesh that has run for a while has (shared payload objects keep 1,000 × 1,000 records affordable).</summary>
    public void ImportFullMembership()
    {
        foreach (SimNode node in _nodes)
        {
            foreach (SimNode other in _nodes)
            {
                if (other != node)
                {
                    node.Engine.ImportMember(other.Id, MemberState.Alive, other.Engine.Incarnation, other.Payload);
                }
            }
        }
    }

    public void Start(SimNode node, bool announce)
    {
        node.Engine.Start(announce);
        Reschedule(node);
    }

    public void StartAll(bool announce = false)
    {
        foreach (SimNode node in _nodes)
        {
            Start(node, announce);
        }
    }

    /// <summary>kill -9: the node vanishes from the network and its timers stop.</summary>
    public void Stop(SimNode node) => node.Down = true;

    /// <summary>Runs a call on a node's engine at the current virtual time, then re-arms its wake-up.</summary>
    public void Invoke(SimNode node, Action<GossipEngine> action)
    {
        action(node.Engine);
        Reschedule(node);
    }

    public void RunFor(TimeSpan duration, Func<bool>? until = null) => RunUntil(Clock.Ticks + duration.Ticks, until);

    /// <summary>Processes events up to <paramref name="endTicks"/>, or until <paramref name="until"/> holds (checked after every event: keep it O(1)).</summary>
    public void RunUntil(long endTicks, Func<bool>? until = null)
    {
        while (_events.TryPeek(out SimEvent next, out long time) && time <= endTicks)
        {
            _events.Dequeue();
            Clock.Ticks = time;
            EventsProcessed++;
            SimNode node = _nodes[next.Node];
            if (next.Data is null)
            {
                if (!node.Down && node.WakeAt == time)
                {
                    node.WakeAt = long.MaxValue;
                    node.Engine.RunTimers();
                    Reschedule(node);
                }
            }
            else
            {
                if (!node.Down)
                {
                    Count(_receivedPerSecond, next.Node, next.Length);
                    node.Engine.Receive(_nodes[next.From].Id, next.Data.AsSpan(0, next.Length));
                    Reschedule(node);
                }

                ArrayPool<byte>.Shared.Return(next.Data);
            }

            if (until is not null && until())
            {
                return;
            }
        }

        Clock.Ticks = Math.Max(Clock.Ticks, endTicks);
    }

    /// <summary>Bytes one node sent during virtual second <paramref name="second"/> (wire overhead included).</summary>
    public long SentInSecond(int node, int second) => second < _sentPerSecond.Count ? _sentPerSecond[second][node] : 0;

    public long ReceivedInSecond(int node, int second) => second < _receivedPerSecond.Count ? _receivedPerSecond[second][node] : 0;

    /// <summary>Mean and maximum over live nodes of bytes sent per second, over whole seconds [from, to).</summary>
    public ByteRate SentRate(int fromSecond, int toSecond, Func<SimNode, bool>? include = null)
    {
        double total = 0;
        long max = 0;
        int samples = 0;
        int maxNode = -1;
        for (int s = fromSecond; s < toSecond; s++)
        {
            foreach (SimNode node in _nodes)
            {
                if (node.Down || (include is not null && !include(node)))
                {
                    continue;
                }

                long sent = SentInSecond(node.Index, s);
                total += sent;
                samples++;
                if (sent > max)
                {
                    max = sent;
                    maxNode = node.Index;
                }
            }
        }

        return new ByteRate(samples == 0 ? 0 : total / samples, max, maxNode);
    }

    private void Reschedule(SimNode node)
    {
        TimeSpan? next = node.Engine.NextTimerAt;
        if (next is null || node.Down)
        {
            return;
        }

        long at = Math.Max(next.Value.Ticks, Clock.Ticks);
        if (at < node.WakeAt)
        {
            node.WakeAt = at;
            _events.Enqueue(new SimEvent(node.Index, 0, null, 0), at);
        }
    }

    private void Count(List<long[]> perSecond, int node, int frameLength)
    {
        int second = (int)(Clock.Ticks / TimeSpan.TicksPerSecond);
        while (perSecond.Count <= second)
        {
            perSecond.Add(new long[Math.Max(_nodes.Count, 1) + 16]);
        }

        long[] row = perSecond[second];
        if (node >= row.Length)
        {
            Array.Resize(ref row, _nodes.Count + 16);
            perSecond[second] = row;
        }

        row[node] += frameLength + GossipConfig.WireOverheadBytes;
    }

    private void Deliver(int from, MemberId to, ReadOnlySpan<byte> frame)
    {
        if (_nodes[from].Down)
        {
            return;
        }

        Count(_sentPerSecond, from, frame.Length);
        if (!_index.TryGetValue(to, out int target) || _network.NextDouble() < LossRate)
        {
            FramesLost++;
            return;
        }

        long latency = MinLatency.Ticks + _network.NextInt64(MaxLatency.Ticks - MinLatency.Ticks + 1);
        byte[] copy = ArrayPool<byte>.Shared.Rent(frame.Length);
        frame.CopyTo(copy);
        _events.Enqueue(new SimEvent(target, from, copy, frame.Length), Clock.Ticks + latency);
    }

    /// <summary>A wake-up when <see cref="Data"/> is null, else a frame from <see cref="From"/>.</summary>
    private readonly record struct SimEvent(int Node, int From, byte[]? Data, int Length);

    private sealed class Transport(GossipSimulation simulation, int index) : IGossipTransport
    {
        public void Send(MemberId to, ReadOnlySpan<byte> frame) => simulation.Deliver(index, to, frame);
    }
}

internal sealed class SimNode(int index, MemberId id, MemberPayload payload, GossipEngine engine)
{
    public int Index { get; } = index;

    public MemberId Id { get; } = id;

    public MemberPayload Payload { get; } = payload;

    public GossipEngine Engine { get; set; } = engine;

    /// <summary>How many times the node was restarted.</summary>
    public int Life { get; set; }

    public bool Down { get; set; }

    internal long WakeAt { get; set; } = long.MaxValue;
}

internal readonly record struct ByteRate(double Mean, long Max, int MaxNode);
