using MeshAgent.Core.Net;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Paths;

namespace MeshAgent.Tests.Paths.Simulation;

/// <summary>
/// One agent in the simulation, as far as paths go: a <see cref="PathManager"/> towards its one
/// peer, carrying out the manager's actions on a <see cref="SimHost"/>. Control frames are encoded
/// and decoded with the real <see cref="PathFrame"/> codec; the "session" is the sender's identity
/// (only the peer's frames are accepted, as only the peer's would decrypt). Optionally sends data
/// to the peer at a fixed interval along the manager's current path, and records what happened
/// for the assertions: path switches, pings, data arrivals.
/// </summary>
internal sealed class SimNode : IPathActions
{
    private static readonly byte[] DataFrame = [0x45, 0, 0, 20];
    private readonly SimulatedNetwork _network;
    private readonly byte[] _buffer = new byte[PathFrame.CallMeMaybeMaxSize];
    private long _wakeAt = long.MaxValue;
    private long _lastTickAt = -1;
    private int _ticksAtSameTime;
    private TimeSpan _dataInterval;
    private bool _sendingData;

    public SimNode(SimulatedNetwork network, SimHost host, string name, NatMapping nat, PathConfig config, int seed)
    {
        _network = network;
        Host = host;
        Name = name;
        Nat = nat;
        byte[] key = new byte[MemberId.Size];
        new Random(seed ^ 0x5EED).NextBytes(key);
        Id = new MemberId(key);
        Manager = new PathManager(config, this, network.Clock, new Random(seed));
        host.OnReceive = Receive;
    }

    public string Name { get; }

    public SimHost Host { get; }

    public NatMapping Nat { get; }

    public MemberId Id { get; }

    public PathManager Manager { get; }

    public SimNode? Peer { get; set; }

    /// <summary>Every SwitchPath, with its virtual time.</summary>
    public List<(long At, PathAddress? Path)> Switches { get; } = new();

    /// <summary>Every ping sent, with its virtual time and path.</summary>
    public List<(long At, PathAddress Path)> PingsSent { get; } = new();

    public long? FirstDataReceivedAt { get; private set; }

    public long? FirstDirectDataReceivedAt { get; private set; }

    public long DataSent { get; private set; }

    public long DataWithoutPath { get; private set; }

    public long DataReceivedDirect { get; private set; }

    public long DataReceivedRelayed { get; private set; }

    /// <summary>Arrival times of the peer's data, for gap measurements.</summary>
    public List<long> DataArrivals { get; } = new();

    public long MaxProbeSocketsOpen { get; private set; }

    /// <summary>First time the manager switched to a direct path.</summary>
    public long? FirstDirectAt
    {
        get
        {
            foreach ((long at, PathAddress? path) in Switches)
            {
                if (path is { IsDirect: true })
                {
                    return at;
                }
            }

            return null;
        }
    }

    public void StartData(TimeSpan interval)
    {
        _dataInterval = interval;
        if (!_sendingData)
        {
            _sendingData = true;
            _network.Schedule(_network.Now, SendData);
        }
    }

    public void StopData() => _sendingData = false;

    /// <summary>Asks for a Tick at the manager's next wake time (if earlier than one already asked for).</summary>
    public void Wake()
    {
        TimeSpan? next = Manager.NextWakeAt;
        if (next is null)
        {
            return;
        }

        long at = Math.Max(next.Value.Ticks, _network.Now);
        if (at >= _wakeAt)
        {
            return;
        }

        _wakeAt = at;
        _network.Schedule(at, () =>
        {
            if (_wakeAt == at)
            {
                _wakeAt = long.MaxValue;
            }

            GuardAgainstSpin();
            Manager.Tick();
            Wake();
        });
    }

    public void SendPing(PathAddress path, PathTxId txid)
    {
        PingsSent.Add((_network.Now, path));
        int length = PathFrame.WritePing(_buffer, new PathPing(txid, (ulong)(_network.Now / 10)));
        Transmit(path, _buffer.AsSpan(0, length).ToArray(), isData: false);
    }

    public void SendPong(PathAddress path, PathTxId txid)
    {
        int length = PathFrame.WritePong(_buffer, new PathPong(txid, path.IsDirect ? path.Endpoint : default));
        Transmit(path, _buffer.AsSpan(0, length).ToArray(), isData: false);
    }

    public void SendCallMeMaybe(PathAddress path, CallMeMaybe message)
    {
        int length = PathFrame.WriteCallMeMaybe(_buffer, message);
        Transmit(path, _buffer.AsSpan(0, length).ToArray(), isData: false);
    }

    public void SwitchPath(PathAddress? path) => Switches.Add((_network.Now, path));

    public int OpenProbeSockets(int count)
    {
        int opened = Host.OpenProbeSockets(count);
        MaxProbeSocketsOpen = Math.Max(MaxProbeSocketsOpen, Host.ProbeSocketsOpen);
        return opened;
    }

    public void CloseProbeSockets(int keepSocket) => Host.CloseProbeSockets(keepSocket);

    private void SendData()
    {
        if (!_sendingData)
        {
            return;
        }

        PathAddress? path = Manager.CurrentPath;
        if (path is null)
        {
            DataWithoutPath++;
        }
        else
        {
            DataSent++;
            Transmit(path.Value, DataFrame, isData: true);
        }

        Manager.OnDataSent();
        Wake();
        _network.Schedule(_network.Now + _dataInterval.Ticks, SendData);
    }

    private void Transmit(PathAddress path, byte[] frame, bool isData)
    {
        var payload = new SimPayload(this, isData, frame);
        if (path.IsDirect)
        {
            _network.SendUdp(Host, path.Socket, path.Endpoint, payload);
            return;
        }

        SimNode peer = Peer ?? throw new InvalidOperationException($"{Name} has no peer to relay to");
        _network.SendRelay(Host, _network.RelayFor(path), peer.Host, payload, peer.ReceiveRelayed);
    }

    private void Receive(int socket, UdpEndpoint source, SimPayload payload)
    {
        if (payload.Sender != Peer)
        {
            return; // another session: would not decrypt
        }

        Handle(PathAddress.Direct(source, socket), payload);
    }

    private void ReceiveRelayed(SimRelay relay, SimPayload payload) => Handle(relay.Address, payload);

    private void Handle(PathAddress from, SimPayload payload)
    {
        if (payload.IsData)
        {
            FirstDataReceivedAt ??= _network.Now;
            DataArrivals.Add(_network.Now);
            if (from.IsDirect)
            {
                FirstDirectDataReceivedAt ??= _network.Now;
                DataReceivedDirect++;
            }
            else
            {
                DataReceivedRelayed++;
            }

            Manager.OnDataReceived(from);
        }
        else
        {
            ReadOnlySpan<byte> frame = payload.Frame;
            if (!PathFrame.TryReadType(frame, out PathMessageType type))
            {
                throw new InvalidOperationException($"{Name}: undecodable path frame {Convert.ToHexString(frame)}");
            }

            switch (type)
            {
                case PathMessageType.Ping when PathFrame.TryReadPing(frame, out PathPing ping):
                    Manager.OnPingReceived(ping.TxId, from);
                    break;
                case PathMessageType.Pong when PathFrame.TryReadPong(frame, out PathPong pong):
                    Manager.OnPong(pong.TxId, from);
                    break;
                case PathMessageType.CallMeMaybe when PathFrame.TryReadCallMeMaybe(frame, out CallMeMaybe? message):
                    Manager.OnCallMeMaybe(message!);
                    break;
                default:
                    throw new InvalidOperationException($"{Name}: malformed {type} frame {Convert.ToHexString(frame)}");
            }
        }

        Wake();
    }

    private void GuardAgainstSpin()
    {
        if (_network.Now == _lastTickAt)
        {
            if (++_ticksAtSameTime > 10_000)
            {
                throw new InvalidOperationException($"{Name}: the manager asked to be woken at {_network.Clock.Now} over 10,000 times without time moving (NextWakeAt not advancing)");
            }
        }
        else
        {
            _lastTickAt = _network.Now;
            _ticksAtSameTime = 0;
        }
    }
}
