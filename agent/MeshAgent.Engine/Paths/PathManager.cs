namespace MeshAgent.Engine.Paths;

/// <summary>
/// Chooses how this node reaches one peer: a direct UDP path when one answers, the relay until then
/// and whenever the direct path dies. A deterministic state machine after Tailscale's magicsock
/// endpoint (learned from, not copied): it owns no socket, thread or timer. The host feeds it
/// events (received pings and pongs, call-me-maybes, data activity), calls <see cref="Tick"/> when
/// <see cref="NextWakeAt"/> has passed (calling early is harmless), and carries out what it asks
/// through <see cref="IPathActions"/>. Time is the injected <see cref="TimeProvider"/>'s monotonic
/// timestamp and every random choice comes from the injected <see cref="Random"/>, so a seeded
/// simulation replays exactly. Not thread-safe: all calls on one thread (the control-plane loop).
/// <para>The rules (constants and their sources: <see cref="PathConfig"/>):</para>
/// <list type="number">
/// <item>Start: as soon as a relay is known the data plane uses it (<see cref="IPathActions.SwitchPath"/>),
/// while every direct candidate is pinged at once and a call-me-maybe listing our candidates goes to
/// the peer over the relay, so the peer probes us at the same moment: both NATs open.</item>
/// <item>The first pong from any direct candidate wins at once: direct always beats the relay. A
/// later candidate replaces a direct path only by the hysteresis rule (<see cref="PathConfig.SwitchRttRatio"/>),
/// confirmed by a second pong.</item>
/// <item>A received ping is answered with a pong to its source, which becomes a peer-reflexive
/// candidate and, unless already confirmed, is pinged back (that ping punches our side).</item>
/// <item>The direct path is trusted for <see cref="PathConfig.DirectPathTimeout"/> after each pong and kept
/// alive by heartbeats: every <see cref="PathConfig.ActiveHeartbeatInterval"/> while data flows,
/// every <see cref="PathConfig.IdleKeepaliveInterval"/> when idle, repeated after
/// <see cref="PathConfig.HeartbeatRetryInterval"/> when unanswered. A path is confirmed only by a
/// pong that came back over it. Trust lapses → another candidate confirmed within the timeout if
/// there is one (a NAT rebinding), else the relay, and a discovery round at once.</item>
/// <item>On the relay, discovery rounds repeat with backoff (<see cref="PathConfig.DiscoveryInterval"/>
/// doubling to <see cref="PathConfig.MaxDiscoveryInterval"/>) while the session is active; on a
/// slow direct path, every <see cref="PathConfig.UpgradeInterval"/>.</item>
/// <item>Hard NAT (<see cref="HardNat.RoleFor"/>): if a round found nothing, the hard side opens
/// <see cref="PathConfig.HardNatPorts"/> sockets, pings the easy side's public mapping from each
/// and tells it so in a call-me-maybe; the easy side then probes
/// <see cref="PathConfig.HardNatProbes"/> random ports of the hard side's address (PathManager.HardNat.cs).</item>
/// </list>
/// The manager treats its construction as the start of activity: create it when the peer is
/// needed, and <see cref="Stop"/> it when the peer has been idle long enough to forget.
/// </summary>
public sealed partial class PathManager
{
    private const int MaxOutstandingPings = 4096;

    private readonly PathConfig _config;
    private readonly IPathActions _actions;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly long _timestampFrequency;
    private readonly Dictionary<PathAddress, CandidateState> _candidates = new();
    private readonly Dictionary<PathTxId, SentPing> _sentPings = new();
    private readonly List<PathAddress> _relays = new();
    private readonly List<PathTxId> _expired = new();
    private readonly List<CandidateState> _scratch = new();
    private IReadOnlyList<PathCandidate> _localCandidates = [];
    private NatMapping _localNat;
    private NatMapping _peerNat;
    private bool _announceNat;

    private CandidateState? _best;
    private PathAddress? _published;
    private bool _publishedOnce;
    private long _lastActivityAt;
    private long _activeSince;
    private long _nextDiscoveryAt;
    private long _discoveryBackoff;
    private long _lastCallMeMaybeRoundAt = CandidateState.Never;
    private long _deferredCallMeMaybeRoundAt = long.MaxValue;
    private double _triggerTokens;
    private long _triggerTokensAt;
    private long _nextPruneAt;
    private bool _stopped;

    /// <param name="config">Validated here; see <see cref="PathConfig.Validate"/>.</param>
    /// <param name="actions">What the manager asks of its host; see <see cref="IPathActions"/>.</param>
    /// <param name="time">Monotonic clock (only <see cref="TimeProvider.GetTimestamp"/> is used).</param>
    /// <param name="random">Transaction ids and hard-NAT probe ports; seed it for a reproducible run.</param>
    /// <exception cref="ArgumentException">The configuration is invalid (all problems listed).</exception>
    public PathManager(PathConfig config, IPathActions actions, TimeProvider time, Random random)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(random);
        IReadOnlyList<string> errors = config.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid path configuration: " + string.Join("; ", errors), nameof(config));
        }

        _config = config;
        _actions = actions;
        _time = time;
        _random = random;
        _timestampFrequency = time.TimestampFrequency;
        long now = NowTicks();
        _lastActivityAt = now;
        _activeSince = now;
        _nextDiscoveryAt = now;
        _discoveryBackoff = config.DiscoveryInterval.Ticks;
        _triggerTokens = 2.0 * config.TriggeredPingsPerSecond;
        _triggerTokensAt = now;
        _nextPruneAt = now;
    }

    public PathConfig Config => _config;

    public PathCounters Counters { get; } = new();

    /// <summary>What the data plane uses now (as last given to <see cref="IPathActions.SwitchPath"/>): the confirmed direct path, else the preferred relay, else none.</summary>
    public PathAddress? CurrentPath => _best?.Address ?? PreferredRelay;

    /// <summary>True while a confirmed direct path is in use.</summary>
    public bool IsDirect => _best is not null;

    /// <summary>Smoothed RTT of the current direct path; null on the relay (relays are not probed).</summary>
    public TimeSpan? CurrentRtt => _best is null ? null : TimeSpan.FromTicks(_best.SmoothedRtt);

    public HardNatRole HardNatRole => HardNat.RoleFor(_localNat, _peerNat);

    /// <summary>The peer's NAT mapping as its record or its latest call-me-maybe said (Unknown until one did).</summary>
    public NatMapping PeerNat => _peerNat;

    /// <summary>
    /// When <see cref="Tick"/> next has work, on the clock's monotonic scale as a <see cref="TimeSpan"/>
    /// (ticks of 100 ns); null when nothing is scheduled (an idle session on the relay: only an event
    /// can give it work) or when stopped. Re-read after every call.
    /// </summary>
    public TimeSpan? NextWakeAt
    {
        get
        {
            long next = _stopped ? long.MaxValue : ComputeNextWake(NowTicks());
            return next == long.MaxValue ? null : TimeSpan.FromTicks(next);
        }
    }

    /// <summary>The direct candidates known now, for status output and tests. Allocates.</summary>
    public IReadOnlyList<CandidateView> Candidates
    {
        get
        {
            var views = new List<CandidateView>(_candidates.Count);
            foreach (CandidateState state in _candidates.Values)
            {
                views.Add(new CandidateView(
                    state.Kind,
                    state.Address,
                    state.SampleCount == 0 ? null : TimeSpan.FromTicks(state.MinRtt),
                    state.SampleCount == 0 ? null : TimeSpan.FromTicks(state.SmoothedRtt),
                    state.SampleCount));
            }

            return views;
        }
    }

    private PathAddress? PreferredRelay => _relays.Count > 0 ? _relays[0] : null;

    /// <summary>
    /// Our own direct candidates (sent in call-me-maybes, at most <see cref="PathFrame.CallMeMaybeMaxCandidates"/>,
    /// most preferred first) and our NAT's mapping behaviour from netcheck. A change of candidates is
    /// a network change: a discovery round follows at once.
    /// </summary>
    /// <exception cref="ArgumentException">A candidate is a relay: we announce direct endpoints only.</exception>
    public void SetLocalCandidates(IReadOnlyList<PathCandidate> candidates, NatMapping localNat)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        foreach (PathCandidate candidate in candidates)
        {
            if (!candidate.IsDirect || candidate.IsRelay)
            {
                throw new ArgumentException($"local candidates are this node's direct endpoints; {candidate} is not one", nameof(candidates));
            }
        }

        bool natChanged = localNat != _localNat;
        bool changed = !candidates.SequenceEqual(_localCandidates) || natChanged; // the peer must hear of either
        _localCandidates = candidates.Take(PathFrame.CallMeMaybeMaxCandidates).ToArray();
        _localNat = localNat;
        _announceNat |= natChanged; // on a good direct path the next round says it anyway (peers pick peer relays by it)
        if (changed)
        {
            long now = NowTicks();
            _discoveryBackoff = _config.DiscoveryInterval.Ticks;
            _nextDiscoveryAt = Math.Min(_nextDiscoveryAt, now);
        }

        Run();
    }

    /// <summary>
    /// The peer's candidates as its signed member record (and mDNS) give them, relays included, most
    /// preferred first, and the NAT mapping behaviour it published. Replaces the previous set (peer-
    /// reflexive and call-me-maybe candidates are kept). The preferred relay is the first
    /// <see cref="PathCandidateKind.Relay"/>, else the first <see cref="PathCandidateKind.PeerRelay"/>
    /// (a member relays only where no meshrelay is configured). New direct candidates are probed at once.
    /// </summary>
    /// <exception cref="ArgumentException">A candidate's kind does not match its address (e.g. a Relay kind with a direct address).</exception>
    public void SetCandidates(IReadOnlyList<PathCandidate> candidates, NatMapping peerNat)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        foreach (PathCandidate candidate in candidates)
        {
            bool consistent = candidate.Kind switch
            {
                PathCandidateKind.Relay => candidate.Address.Kind == PathKind.Relay,
                PathCandidateKind.PeerRelay => candidate.Address.Kind == PathKind.PeerRelay,
                PathCandidateKind.Local or PathCandidateKind.Reflexive or PathCandidateKind.Mapped or PathCandidateKind.PeerReflexive
                    => candidate.Address.IsDirect && candidate.Address.Socket == 0,
                _ => false,
            };
            if (!consistent)
            {
                throw new ArgumentException($"candidate {candidate}: kind {candidate.Kind} does not match its address (use the PathCandidate factory methods)", nameof(candidates));
            }
        }

        long now = NowTicks();
        bool hadRelay = _relays.Count > 0;
        if (peerNat != NatMapping.Unknown)
        {
            _peerNat = peerNat; // Unknown keeps what the peer's call-me-maybe said
        }

        _relays.Clear();
        _relays.AddRange(candidates.Where(c => c.Kind == PathCandidateKind.Relay).Select(c => c.Address).Distinct());
        _relays.AddRange(candidates.Where(c => c.Kind == PathCandidateKind.PeerRelay).Select(c => c.Address).Distinct());

        foreach (CandidateState state in _candidates.Values)
        {
            state.GossipKind = 0;
        }

        _scratch.Clear();
        foreach (PathCandidate candidate in candidates)
        {
            if (!candidate.IsDirect)
            {
                continue;
            }

            CandidateState? state = GetOrAdd(candidate.Address, out bool added);
            if (state is null)
            {
                continue;
            }

            if (state.GossipKind == 0 || candidate.Kind < state.GossipKind)
            {
                state.GossipKind = candidate.Kind;
            }

            if (added)
            {
                _scratch.Add(state);
            }
        }

        RemoveSourceless(now);
        ProbeNew(now, _scratch, relayAppeared: !hadRelay && _relays.Count > 0);
        Run();
    }

    /// <summary>The peer's call-me-maybe (a control frame from its session, by any path): merge its candidates, probe them all now, and if it opened hard-NAT probe ports, start probing them.</summary>
    public void OnCallMeMaybe(CallMeMaybe message)
    {
        ArgumentNullException.ThrowIfNull(message);
        long now = NowTicks();
        Counters.CallMeMaybesReceived++;
        if (message.Nat != NatMapping.Unknown)
        {
            _peerNat = message.Nat; // the peer's own measurement is fresher than what its record said
            if (_best is null)
            {
                ScheduleHardNat(now); // we may have just learned that we are the hard side of a birthday pair
            }
        }

        foreach (CandidateState state in _candidates.Values)
        {
            state.AnnouncedKind = 0;
        }

        foreach (PathCandidate candidate in message.Candidates)
        {
            if (!candidate.IsDirect || candidate.IsRelay)
            {
                continue;
            }

            CandidateState? state = GetOrAdd(PathAddress.Direct(candidate.Address.Endpoint), out _);
            if (state is not null && (state.AnnouncedKind == 0 || candidate.Kind < state.AnnouncedKind))
            {
                state.AnnouncedKind = candidate.Kind;
            }
        }

        RemoveSourceless(now);
        if (message.ProbePorts > 0)
        {
            StartSpray(now, message.ProbePorts);
        }

        if (now - _lastCallMeMaybeRoundAt >= _config.CallMeMaybeMinSpacing.Ticks)
        {
            RunCallMeMaybeRound(now);
        }
        else
        {
            _deferredCallMeMaybeRoundAt = _lastCallMeMaybeRoundAt + _config.CallMeMaybeMinSpacing.Ticks;
        }

        Run();
    }

    /// <summary>
    /// The peer pinged us; <paramref name="from"/> is where the datagram came from (for a direct
    /// path: its source endpoint and the local socket that received it). Answers with a pong there;
    /// a direct source becomes a peer-reflexive candidate and, unless already confirmed, is pinged back.
    /// </summary>
    public void OnPingReceived(PathTxId txid, PathAddress from)
    {
        long now = NowTicks();
        Counters.PingsReceived++;
        _actions.SendPong(from, txid);
        if (from.IsDirect)
        {
            CandidateState? state = Learn(from, now);
            if (state is not null && !state.ConfirmedWithin(now, _config.DirectPathTimeout.Ticks))
            {
                SendTriggeredPing(state, now);
            }
        }

        Run();
    }

    /// <summary>
    /// A pong arrived; <paramref name="from"/> is where it came from. The path credited is the one the
    /// matching ping went out on (its endpoint is what works for sending, whatever source address the
    /// reply shows after NAT), and only if the pong came back over it: a direct path is confirmed by a
    /// direct pong on the same local socket, never by one that took the relay (that proves one
    /// direction only). Unknown, late or misrouted pongs are counted and ignored.
    /// </summary>
    public void OnPong(PathTxId txid, PathAddress from)
    {
        long now = NowTicks();
        if (!_sentPings.TryGetValue(txid, out SentPing sent)
            || (sent.To.IsDirect && (!from.IsDirect || from.Socket != sent.To.Socket)))
        {
            Counters.PongsUnknown++;
            Run();
            return;
        }

        _sentPings.Remove(txid);

        if (now - sent.At > _config.PingTimeout.Ticks)
        {
            Counters.PongsLate++;
            Run();
            return;
        }

        Counters.PongsReceived++;
        if (sent.To.IsDirect)
        {
            CandidateState? state = _candidates.GetValueOrDefault(sent.To) ?? Learn(sent.To, now);
            if (state is not null)
            {
                state.LastPongAt = now;
                state.AddSample(now - sent.At);
                Consider(state, now);
            }
        }

        Run();
    }

    /// <summary>
    /// The data plane received session data from the peer along <paramref name="from"/>. Call it when
    /// the data plane reports activity (per batch or per tick, not per packet). Marks the session
    /// active; data from a direct endpoint we are not using is a hint that the peer reaches us there,
    /// so that endpoint is pinged; data over the relay while we are direct means the peer lost the
    /// direct path, so the path is checked at once.
    /// </summary>
    public void OnDataReceived(PathAddress from)
    {
        long now = NowTicks();
        NoteActivity(now);
        if (from.IsDirect)
        {
            if (_best is null || from != _best.Address)
            {
                CandidateState? state = Learn(from, now);
                if (state is not null && !state.ConfirmedWithin(now, _config.DirectPathTimeout.Ticks))
                {
                    SendTriggeredPing(state, now);
                }
            }
        }
        else if (_best is not null && now - _best.LastPingAt >= _config.HeartbeatRetryInterval.Ticks)
        {
            SendPing(_best.Address, PingPurpose.Heartbeat, now);
        }

        Run();
    }

    /// <summary>The data plane sent session data to the peer (report per batch or per tick, not per packet). Marks the session active.</summary>
    public void OnDataSent()
    {
        NoteActivity(NowTicks());
        Run();
    }

    /// <summary>Runs whatever is due: path expiry, heartbeats, discovery, hard-NAT probing. Call when <see cref="NextWakeAt"/> has passed.</summary>
    public void Tick() => Run();

    /// <summary>Stops for good: closes any probe sockets; later calls do nothing.</summary>
    public void Stop()
    {
        if (_stopped)
        {
            return;
        }

        StopHardNat(keepSocket: 0, succeeded: false);
        if (_best is { Address.Socket: > 0 })
        {
            _actions.CloseProbeSockets(0);
        }

        _stopped = true;
    }

    private void Run()
    {
        if (_stopped)
        {
            return;
        }

        long now = NowTicks();
        if (_best is not null && now >= TrustDeadline(now))
        {
            LoseBest(now);
        }

        if (now >= _nextPruneAt)
        {
            Prune(now);
            _nextPruneAt = now + TimeSpan.TicksPerSecond;
        }

        if (_best is not null && now >= HeartbeatDue(now))
        {
            SendPing(_best.Address, PingPurpose.Heartbeat, now);
        }

        if (now >= _deferredCallMeMaybeRoundAt)
        {
            RunCallMeMaybeRound(now);
        }

        if (_nextDiscoveryAt == long.MaxValue && (_candidates.Count > 0 || CurrentPath is not null))
        {
            _nextDiscoveryAt = now; // the first candidate or relay arrived (by any route)
        }

        if (IsActive(now) && now >= _nextDiscoveryAt)
        {
            RunDiscovery(now);
        }

        RunHardNat(now);
        Publish();
    }

    private long ComputeNextWake(long now)
    {
        long next = HasPrunable() ? _nextPruneAt : long.MaxValue;
        if (_best is not null)
        {
            next = Math.Min(next, Math.Min(TrustDeadline(now), HeartbeatDue(now)));
        }

        if (IsActive(now))
        {
            next = Math.Min(next, _nextDiscoveryAt);
        }

        next = Math.Min(next, _deferredCallMeMaybeRoundAt);
        next = Math.Min(next, NextHardNatWake());
        return next;
    }

    /// <summary>Outstanding pings or learned candidates that will need forgetting; without them an idle manager needs no wake-ups.</summary>
    private bool HasPrunable()
    {
        if (_sentPings.Count > 0)
        {
            return true;
        }

        foreach (CandidateState state in _candidates.Values)
        {
            if (state.Learned && !ReferenceEquals(state, _best))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsActive(long now) => now - _lastActivityAt < _config.SessionActiveTimeout.Ticks;

    private void NoteActivity(long now)
    {
        if (!IsActive(now))
        {
            _activeSince = now;
        }

        _lastActivityAt = now;
    }

    /// <summary>
    /// When the current direct path stops being trusted. Active: its last pong plus
    /// DirectPathTimeout, but never before DirectPathTimeout after activity resumed (an idle path's
    /// last pong may be 20 s old; it gets one timeout to answer). Idle: a keepalive interval more.
    /// </summary>
    private long TrustDeadline(long now)
    {
        long timeout = _config.DirectPathTimeout.Ticks;
        return IsActive(now)
            ? Math.Max(_best!.LastPongAt, _activeSince) + timeout
            : _best!.LastPongAt + _config.IdleKeepaliveInterval.Ticks + timeout;
    }

    /// <summary>The next heartbeat: an interval after the last ping if that was answered, a retry interval after it if not.</summary>
    private long HeartbeatDue(long now)
    {
        CandidateState best = _best!;
        bool answered = best.LastPongAt >= best.LastPingAt;
        long interval = !answered ? _config.HeartbeatRetryInterval.Ticks
            : IsActive(now) ? _config.ActiveHeartbeatInterval.Ticks
            : _config.IdleKeepaliveInterval.Ticks;
        return best.LastPingAt + interval;
    }

    private void Consider(CandidateState state, long now)
    {
        if (_best is null)
        {
            SetBest(state, now); // first pong wins: any direct path beats the relay
            return;
        }

        if (ReferenceEquals(state, _best))
        {
            return;
        }

        if (!PathPreference.IsBetter(state.Kind, state.MinRtt, _best.Kind, _best.MinRtt, _config.SwitchRttRatio))
        {
            return;
        }

        if (state.SampleCount >= 2)
        {
            SetBest(state, now);
        }
        else
        {
            SendPing(state.Address, PingPurpose.Confirm, now); // one lucky sample is not enough: ask again
        }
    }

    private void SetBest(CandidateState state, long now)
    {
        CandidateState? previous = _best;
        _best = state;
        _discoveryBackoff = _config.DiscoveryInterval.Ticks;
        _nextDiscoveryAt = now + _config.UpgradeInterval.Ticks;
        if (_hardNat != HardNatPhase.Idle || _sprayActive)
        {
            StopHardNat(keepSocket: state.Address.Socket, succeeded: true);
        }
        else if (previous is { Address.Socket: > 0 } && previous.Address.Socket != state.Address.Socket)
        {
            _actions.CloseProbeSockets(state.Address.Socket);
            RemoveProbeSocketCandidates(except: state.Address.Socket);
        }
    }

    private void LoseBest(long now)
    {
        CandidateState lost = _best!;
        _best = null;
        Counters.DirectPathsLost++;
        if (lost.Address.Socket > 0)
        {
            _actions.CloseProbeSockets(0);
            RemoveProbeSocketCandidates(except: 0);
        }

        // Another candidate answered recently (a NAT rebinding gave the peer a new source, a second
        // interface): use it rather than the relay.
        CandidateState? next = null;
        foreach (CandidateState state in _candidates.Values)
        {
            if (!ReferenceEquals(state, lost) && state.SampleCount > 0 && state.ConfirmedWithin(now, _config.DirectPathTimeout.Ticks)
                && (next is null || PathPreference.IsBetter(state.Kind, state.MinRtt, next.Kind, next.MinRtt, 1.0)))
            {
                next = state;
            }
        }

        if (next is not null)
        {
            SetBest(next, now);
            return;
        }

        // Look again at once, then back off: the path may come back (a healed link, a NAT rebinding).
        _discoveryBackoff = _config.DiscoveryInterval.Ticks;
        _nextDiscoveryAt = now;
    }

    private void Publish()
    {
        PathAddress? current = CurrentPath;
        if (_publishedOnce && current == _published)
        {
            return;
        }

        if (!_publishedOnce && current is null)
        {
            return; // nothing to say yet
        }

        _published = current;
        _publishedOnce = true;
        Counters.PathSwitches++;
        _actions.SwitchPath(current);
    }

    private CandidateState? GetOrAdd(PathAddress address, out bool added)
    {
        added = false;
        if (_candidates.TryGetValue(address, out CandidateState? state))
        {
            return state;
        }

        if (_candidates.Count >= _config.MaxCandidates)
        {
            Counters.CandidatesDropped++;
            return null;
        }

        state = new CandidateState(address, _config.RttSamples);
        _candidates.Add(address, state);
        added = true;
        return state;
    }

    private CandidateState? Learn(PathAddress address, long now)
    {
        CandidateState? state = GetOrAdd(address, out _);
        if (state is not null)
        {
            state.Learned = true;
            state.LastHeardAt = now;
        }

        return state;
    }

    private void RemoveSourceless(long now)
    {
        List<PathAddress>? remove = null;
        foreach (CandidateState state in _candidates.Values)
        {
            if (state.Learned && now - state.LastHeardAt >= _config.PeerReflexiveLifetime.Ticks && now - state.LastPongAt >= _config.PeerReflexiveLifetime.Ticks)
            {
                state.Learned = false;
            }

            if (!state.HasSource && !ReferenceEquals(state, _best))
            {
                (remove ??= new()).Add(state.Address);
            }
        }

        if (remove is not null)
        {
            foreach (PathAddress address in remove)
            {
                _candidates.Remove(address);
            }
        }
    }

    private void RemoveProbeSocketCandidates(int except)
    {
        List<PathAddress>? remove = null;
        foreach (PathAddress address in _candidates.Keys)
        {
            if (address.Socket > 0 && address.Socket != except)
            {
                (remove ??= new()).Add(address);
            }
        }

        if (remove is not null)
        {
            foreach (PathAddress address in remove)
            {
                _candidates.Remove(address);
            }
        }
    }

    private void Prune(long now)
    {
        _expired.Clear();
        long timeout = _config.PingTimeout.Ticks;
        foreach ((PathTxId txid, SentPing sent) in _sentPings)
        {
            if (now - sent.At > timeout)
            {
                _expired.Add(txid);
            }
        }

        foreach (PathTxId txid in _expired)
        {
            _sentPings.Remove(txid);
        }

        RemoveSourceless(now);
    }

    private long NowTicks()
    {
        long timestamp = _time.GetTimestamp();
        return _timestampFrequency == TimeSpan.TicksPerSecond
            ? timestamp
            : (long)((Int128)timestamp * TimeSpan.TicksPerSecond / _timestampFrequency);
    }

    private enum PingPurpose
    {
        Discovery,
        Heartbeat,
        Confirm,
        Triggered,
        HardNat,
    }

    private readonly record struct SentPing(PathAddress To, long At, PingPurpose Purpose);
}

/// <summary>One direct candidate as <see cref="PathManager.Candidates"/> shows it.</summary>
public readonly record struct CandidateView(PathCandidateKind Kind, PathAddress Address, TimeSpan? MinRtt, TimeSpan? SmoothedRtt, int Pongs);
