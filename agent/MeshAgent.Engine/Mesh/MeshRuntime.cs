using System.Collections.Concurrent;
using System.Net;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Net;
using MeshAgent.Core.Trust;
using MeshAgent.Core.WireGuard;
using MeshAgent.Engine.DataPlane;
using MeshAgent.Engine.Membership;
using MemberRecord = MeshAgent.Core.Trust.MemberRecord;
using MeshAgent.Engine.Routing;
using MeshAgent.Engine.State;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.Mesh;

/// <summary>
/// A node that is up in its network: TUN interface, UDP port, WireGuard device and data plane, gossip
/// engine, join service. Threads: the data plane's three, plus one control loop that owns everything
/// mutable here (the gossip engine is single-threaded by contract). Other threads reach it only through
/// <see cref="Post"/> and <see cref="InvokeAsync{T}"/>, so no lock guards membership state.
/// <code>
///   data plane (outside thread) ──control frame / join datagram (copied)──► work queue ──► loop
///   loop: gossip timers · member changes → WireGuard peers, cryptokey routes, kernel routes · persistence
/// </code>
/// </summary>
internal sealed partial class MeshRuntime : IDisposable
{
    private const int WorkQueueLimit = 4096;
    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PersistInterval = TimeSpan.FromSeconds(5);

    private readonly RuntimeSettings _settings;
    private readonly TextWriter _log;
    private readonly TimeProvider _time;
    private readonly string _interfaceName;
    private readonly List<IDisposable> _owned = [];
    private readonly BlockingCollection<Action> _work = new(new ConcurrentQueue<Action>(), WorkQueueLimit);
    private readonly Thread _loop;
    private readonly Action<NodeState> _persist;
    private readonly Action<string> _selfRemoved;
    private volatile bool _stopping;
    private long _workDropped;
    private long _lastHousekeeping;
    private long _lastPersist;
    private bool _dirty = true;

    private TunDevice _tun = null!;
    private UdpBatchSocket _udp = null!;
    private UdpOutsideSender _sender = null!;
    private WireGuardDevice _device = null!;
    private WireGuardDataPlane _dataPlane = null!;
    private GossipEngine _gossip = null!;

    private MeshRuntime(RuntimeSettings settings, string interfaceName, TextWriter log, TimeProvider time, Action<NodeState> persist, Action<string> selfRemoved)
    {
        _settings = settings;
        _interfaceName = interfaceName;
        _log = log;
        _time = time;
        _persist = persist;
        _selfRemoved = selfRemoved;
        _certificate = settings.Certificate;
        _rootKey = settings.RootKey;
        _recordVersion = settings.RecordVersion;
        _revocations = RevocationSet.Empty;
        foreach (Revocation revocation in settings.Revocations)
        {
            _revocations.TryAdd(revocation, settings.Root, out _revocations);
        }

        _loop = new Thread(Loop) { IsBackground = true, Name = "mesh-control" };
    }

    public int ListenPort { get; private set; }

    public MembershipCertificate Certificate => _certificate;

    public bool IsAdmin => _rootKey is not null;

    public RuntimeSettings Settings => _settings;

    /// <summary>Brings the node up. Failures throw with a message that says what failed and what to do; what was set up is torn down.</summary>
    public static MeshRuntime Start(RuntimeSettings settings, string interfaceName, int listenPort, TextWriter log, TimeProvider time, Action<NodeState> persist, Action<string> selfRemoved)
    {
        var runtime = new MeshRuntime(settings, interfaceName, log, time, persist, selfRemoved);
        try
        {
            runtime.StartCore(listenPort);
            return runtime;
        }
        catch
        {
            runtime.Dispose();
            throw;
        }
    }

    private void StartCore(int listenPort)
    {
        int mtu = WireGuardConstants.DefaultMtu;
        _tun = TunDevice.Create(_interfaceName, new TunOptions { VirtioHeader = true, Offloads = TunOffloads.Tcp });
        _owned.Add(_tun);
        using (Netlink netlink = Netlink.Open())
        {
            netlink.SetMtu(_interfaceName, mtu);
            netlink.AddAddress(_interfaceName, _certificate.OverlayIPv4, 32);
            netlink.AddAddress(_interfaceName, _certificate.OverlayIPv6, 128);
            netlink.SetLinkUp(_interfaceName);
        }

        _udp = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = new IPEndPoint(IPAddress.IPv6Any, listenPort) });
        _owned.Add(_udp);
        ListenPort = _udp.LocalEndPoint.Port;
        _sender = new UdpOutsideSender(_udp);
        _owned.Add(_sender);
        _device = new WireGuardDevice(new WireGuardDeviceOptions
        {
            PrivateKey = _settings.Identity.WireGuardPrivateKey.AsSpan().ToArray(),
            TimestampStore = _settings.State.OpenTimestampFloor(),
            Time = _time,
        }, _sender);
        _owned.Add(_device);

        _dataPlane = new WireGuardDataPlane(_device, _tun, _udp, mtu)
        {
            ControlFrames = OnControlFrame,
            ForeignDatagrams = OnForeignDatagram,
        };
        _owned.Insert(0, _dataPlane);
        StartNat();

        _localEndpoints = LocalEndpoints.Discover(ListenPort, _interfaceName, _settings.IPv4Network, _settings.IPv6Prefix);
        MemberRecord self = CreateSelfRecord();
        uint incarnation = Math.Max(_settings.Incarnation + 1, (uint)Math.Min(uint.MaxValue - 1, _time.GetUtcNow().ToUnixTimeSeconds()));
        _gossip = new GossipEngine(GossipConfig.Lan, SelfId, new MemberPayload(self.Version, self.Encode()), incarnation,
            new Transport(this), _time, new Random(), new GossipHooks
            {
                ValidatePayload = ValidatePayload,
                ValidateRevocation = ValidateRevocation,
                MemberChanged = OnMemberChanged,
            });
        _selfRecord = self;

        foreach (UsedTokenRecord used in _settings.UsedTokens)
        {
            _settings.Invitations.ApplyUsedRecord(used);
        }

        foreach (Revocation revocation in _revocations.Revocations)
        {
            _gossip.ImportRevocation(new MemberId(revocation.NodeKey.AsSpan()), revocation.Encode());
        }

        foreach (SnapshotMember member in _settings.Members)
        {
            if (MemberRecord.TryDecode(member.Record, out MemberRecord? record, out _) && record.NodeKey != _settings.Identity.PublicKey)
            {
                _gossip.ImportMember(new MemberId(record.NodeKey.AsSpan()), member.Alive ? MemberState.Alive : MemberState.Dead, member.Incarnation,
                    new MemberPayload(record.Version, record.Encode()));
            }
        }

        // Imports do not report changes: give every known member its peer and routes now.
        foreach (MemberView view in _gossip.GetMembers())
        {
            if (view.Member != SelfId)
            {
                OnMemberChanged(new MemberChange(view.Member, null, view.State, view.Incarnation, view.Payload, true));
            }
        }

        _dataPlane.Start();
        _gossip.Start();
        IReadOnlyList<MemberId> seeds = _settings.Seeds.Where(s => s != SelfId).ToList();
        if (seeds.Count > 0)
        {
            _gossip.Join([.. seeds]);
        }

        _loop.Start();
        StartDiscovery();
        _log.WriteLine($"meshagent: {_interfaceName} is up in network '{_settings.NetworkName}' as '{_certificate.Name}' {_certificate.OverlayIPv4} {_certificate.OverlayIPv6}, UDP port {ListenPort}, {_gossip.MemberCount - 1} known member(s){(IsAdmin ? ", admin" : "")}");
    }

    private MemberId SelfId => new(_settings.Identity.PublicKey.AsSpan());

    // ------------------------------------------------------------------ the control loop

    /// <summary>Runs <paramref name="action"/> on the control loop. Never blocks; drops (counted) when the queue is full.</summary>
    public void Post(Action action)
    {
        if (_stopping || !_work.TryAdd(action))
        {
            Interlocked.Increment(ref _workDropped);
        }
    }

    /// <summary>Runs <paramref name="function"/> on the control loop and returns its result (or exception).</summary>
    public Task<T> InvokeAsync<T>(Func<T> function)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_stopping || !_work.TryAdd(() =>
            {
                try
                {
                    completion.SetResult(function());
                }
                catch (Exception e)
                {
                    completion.SetException(e);
                }
            }))
        {
            completion.SetException(new Control.MeshControlException(Control.ControlErrorKind.Local, "the node is shutting down or overloaded — try again in a moment"));
        }

        return completion.Task;
    }

    private void Loop()
    {
        while (!_stopping)
        {
            TimeSpan wait = TimeSpan.FromMilliseconds(100);
            if (_gossip.NextTimerAt is { } due)
            {
                TimeSpan until = due - _gossip.Now;
                wait = until < TimeSpan.Zero ? TimeSpan.Zero : until < wait ? until : wait;
            }

            try
            {
                if (_work.TryTake(out Action? action, wait))
                {
                    Run(action);
                    while (_work.TryTake(out action))
                    {
                        Run(action);
                    }
                }
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (_stopping)
            {
                return;
            }

            Run(_gossip.RunTimers);
            Run(TickPaths);
            long now = _time.GetTimestamp();
            if (_time.GetElapsedTime(_lastHousekeeping, now) >= HousekeepingInterval)
            {
                _lastHousekeeping = now;
                Run(Housekeeping);
            }

            if (_dirty && _time.GetElapsedTime(_lastPersist, now) >= PersistInterval)
            {
                _lastPersist = now;
                Run(PersistNow);
            }
        }
    }

    private void Run(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            // A bug in a handler must not stop membership: log it with its stack and go on.
            _log.WriteLine($"meshagent: internal error in the control loop (please report): {e}");
        }
    }

    private void Housekeeping()
    {
        SupervisePaths();
        RefreshPeerRelays();
        RotateEndpoints();
        ExpirePending();
        ExpireJoinSessions();
        RefreshLocalEndpoints();
        RefreshReflexive();
        SuperviseRelay();
        RetryRelayResolution();
        while (_dataPlane.Faults.TryDequeue(out Exception? fault))
        {
            _log.WriteLine($"meshagent: data plane fault (please report): {fault}");
        }
    }

    /// <summary>Writes the node's state now (on the loop).</summary>
    public void PersistNow()
    {
        _dirty = false;
        var members = new List<byte[]>();
        foreach (MemberView view in _gossip.GetMembers())
        {
            if (view.Member != SelfId && view.State is MemberState.Alive or MemberState.Suspect or MemberState.Dead && view.Payload is { Data.Length: > 0 } payload)
            {
                members.Add(payload.Data.ToArray());
            }
        }

        try
        {
            _persist(new NodeState
            {
                NetworkName = _settings.NetworkName,
                RootPublicKey = _settings.Root.AsSpan().ToArray(),
                IPv4Network = _settings.IPv4Network.ToString(),
                IPv6Prefix = _settings.IPv6Prefix.ToString(),
                Certificate = _certificate.Encode(),
                Incarnation = _gossip.Incarnation,
                RecordVersion = _recordVersion,
                Members = members,
                Revocations = _revocations.Revocations.Select(r => r.Encode()).ToList(),
                Relays = _settings.Relays,
                Left = _gossip.IsLeaving,
                Revoked = _gossip.IsRevoked,
            });
        }
        catch (Exception e) when (e is StateException or IOException or UnauthorizedAccessException)
        {
            _dirty = true;
            _log.WriteLine($"meshagent: warning: cannot save state in {_settings.State.Path} ({e.Message}); membership changes since the last save would be lost on restart — check the disk and permissions");
        }
    }

    /// <summary>Stops gossip and the data plane, removes the interface (its addresses and routes go with it).</summary>
    public void Dispose()
    {
        if (_loop.IsAlive)
        {
            // Save what we know before the loop stops (its last act).
            var saved = new ManualResetEventSlim();
            Post(() =>
            {
                PersistNow();
                saved.Set();
            });
            saved.Wait(TimeSpan.FromSeconds(3));
        }

        StopDiscovery();
        _stopping = true;
        if (_loop.IsAlive)
        {
            _loop.Join(TimeSpan.FromSeconds(5));
        }

        if (_dataPlane is not null)
        {
            _log.WriteLine($"meshagent: {_interfaceName}: {_dataPlane.Summary()}; {RelaySummary()}");
            _log.WriteLine($"meshagent: {_interfaceName}: {HandshakeSummary()}; {PathSummary()}");
        }

        foreach (IDisposable owned in _owned)
        {
            try
            {
                owned.Dispose();
            }
            catch (Exception e)
            {
                _log.WriteLine($"meshagent: cleanup of {owned.GetType().Name} failed: {e.Message}");
            }
        }

        _owned.Clear();
        foreach (JoinSession session in _joinSessions.Values)
        {
            session.Responder.Dispose();
        }

        _work.Dispose();
    }

    /// <summary>The gossip engine's frames go out as control frames inside the member's WireGuard session.</summary>
    private sealed class Transport(MeshRuntime runtime) : IGossipTransport
    {
        public void Send(MemberId to, ReadOnlySpan<byte> frame) => runtime.SendControl(to, ControlFrameType.Gossip, frame);
    }
}
