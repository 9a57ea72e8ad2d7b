namespace MeshAgent.Engine.Membership;

/// <summary>
/// SWIM membership with Lifeguard and bounded anti-entropy, as a deterministic state machine.
/// <para>
/// The engine owns no thread, socket or timer. The host feeds it received frames
/// (<see cref="Receive"/>), calls <see cref="RunTimers"/> whenever <see cref="NextTimerAt"/> has
/// passed, and delivers what it sends through <see cref="IGossipTransport"/>. Time comes from the
/// injected <see cref="TimeProvider"/>'s monotonic timestamp and every random choice from the
/// injected <see cref="Random"/>, so a seeded simulation replays exactly. Not thread-safe: all
/// calls on one thread (the control-plane loop). After any call, re-read
/// <see cref="NextTimerAt"/>.
/// </para>
/// <para>The protocol, per node:</para>
/// <list type="number">
/// <item>Every ProbeInterval × (awareness + 1): ping the next member of a shuffled round-robin list
/// (GossipEngine.Probe.cs). No ack within ProbeTimeout × (awareness + 1) → ask IndirectChecks
/// random members to ping it (ping-req); they answer with its ack or a nack. No ack by the end of
/// the interval → suspect it.</item>
/// <item>A suspicion becomes a death after a timeout that starts long and shrinks as other members
/// confirm (Suspicion.cs) unless the member refutes by raising its incarnation; a suspected member
/// learns of it from gossip or from the suspicion piggybacked on the next ping to it (Lifeguard's
/// buddy system) (GossipEngine.State.cs).</item>
/// <item>Every state change is queued for RetransmitMult × ⌈log10(N+1)⌉ transmissions, piggybacked
/// on pings, acks and ping-reqs and sent every GossipInterval to GossipNodes random members
/// (BroadcastQueue.cs).</item>
/// <item>Every PushPullInterval: a bounded anti-entropy exchange with one random member
/// (GossipEngine.Sync.cs): bucket hashes, then digests of differing buckets only, then only the
/// records that differ, with byte and bandwidth caps.</item>
/// </list>
/// </summary>
public sealed partial class GossipEngine
{
    private readonly GossipConfig _config;
    private readonly IGossipTransport _transport;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Func<MemberId, ReadOnlyMemory<byte>, bool>? _validatePayload;
    private readonly Func<MemberId, ReadOnlyMemory<byte>, bool>? _validateRevocation;
    private readonly Action<MemberChange>? _memberChanged;
    private readonly MemberTable _table = new();
    private readonly MemberRecord _self;
    private readonly BroadcastQueue _broadcasts = new();
    private readonly Awareness _awareness;
    private readonly PriorityQueue<TimerEntry, long> _timers = new();
    private readonly byte[] _sendBuffer;
    private readonly byte[] _encodeBuffer;
    private readonly List<MemberRecord> _picked = new();
    private readonly long _timestampFrequency;
    private uint _nextSequence;
    private bool _started;
    private bool _leaving;
    private bool _stopped;

    /// <param name="config">Validated here; see <see cref="GossipConfig.Validate"/>.</param>
    /// <param name="self">This node's id (its node key).</param>
    /// <param name="selfPayload">This node's record (certificate + signed dynamic state).</param>
    /// <param name="incarnation">
    /// Starting incarnation. It must not go back across restarts, or members that saw a higher one
    /// ignore this node's alives until it refutes: persist it and add one, or use a clock (for
    /// example Unix seconds). Refutations raise it further.
    /// </param>
    /// <param name="transport">Where frames go; see <see cref="IGossipTransport.Send"/>.</param>
    /// <param name="time">Monotonic clock (only <see cref="TimeProvider.GetTimestamp"/> is used).</param>
    /// <param name="random">All random choices (probe order, gossip targets, stagger); seed it for a reproducible run.</param>
    /// <exception cref="ArgumentException">The configuration is invalid (all problems listed) or the payload is larger than <see cref="GossipConfig.MaxPayloadSize"/>.</exception>
    public GossipEngine(
        GossipConfig config,
        MemberId self,
        MemberPayload selfPayload,
        uint incarnation,
        IGossipTransport transport,
        TimeProvider time,
        Random random,
        GossipHooks? hooks = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(selfPayload);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(random);
        IReadOnlyList<string> errors = config.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid gossip configuration: " + string.Join("; ", errors), nameof(config));
        }

        if (selfPayload.Data.Length > config.MaxPayloadSize)
        {
            throw new ArgumentException(
                $"this node's payload is {selfPayload.Data.Length} bytes, more than {nameof(GossipConfig.MaxPayloadSize)} = {config.MaxPayloadSize}; shorten it (fewer endpoints or routes) or raise the limit on every node",
                nameof(selfPayload));
        }

        _config = config;
        _transport = transport;
        _time = time;
        _random = random;
        _validatePayload = hooks?.ValidatePayload;
        _validateRevocation = hooks?.ValidateRevocation;
        _memberChanged = hooks?.MemberChanged;
        _awareness = new Awareness(config.AwarenessMaxMultiplier);
        _sendBuffer = new byte[config.MaxMessageSize];
        _encodeBuffer = new byte[config.MaxMessageSize];
        _syncBuffer = new byte[config.MaxMessageSize];
        _timestampFrequency = time.TimestampFrequency;
        long now = NowTicks();
        _self = _table.Add(self, MemberState.Alive, incarnation, selfPayload, now);
        _syncTokens = config.MaxSyncBytesPerExchange;
        _syncTokensAt = now;
    }

    public MemberId Self => _self.Id;

    public uint Incarnation => _self.Incarnation;

    public GossipConfig Config => _config;

    public GossipCounters Counters { get; } = new();

    /// <summary>Lifeguard awareness score, 0 (healthy) to AwarenessMaxMultiplier − 1.</summary>
    public int LocalHealthScore => _awareness.Score;

    /// <summary>All records held, tombstones and revocations included, this node included.</summary>
    public int MemberCount => _table.Count;

    /// <summary>Alive and suspect members, this node included (the N of the formulas).</summary>
    public int LiveMemberCount => _table.LiveCount;

    public int PendingBroadcasts => _broadcasts.Count;

    /// <summary>True once this node has been revoked: it stops sending and ignores everything.</summary>
    public bool IsRevoked => _self.State == MemberState.Revoked;

    public bool IsLeaving => _leaving;

    /// <summary>After <see cref="Leave"/>: the departure is still queued for retransmission. The host should keep running (answering and gossiping) until false, or a timeout.</summary>
    public bool LeavePending => _leaving && _broadcasts.Contains(_self.Id);

    /// <summary>Current time on the engine's clock (the injected timestamp as a <see cref="TimeSpan"/>).</summary>
    public TimeSpan Now => TimeSpan.FromTicks(NowTicks());

    /// <summary>When <see cref="RunTimers"/> next has work, on the <see cref="Now"/> clock; null when nothing is scheduled.</summary>
    public TimeSpan? NextTimerAt => !_stopped && _timers.TryPeek(out _, out long due) ? TimeSpan.FromTicks(due) : null;

    public bool TryGetMember(MemberId id, out MemberView view)
    {
        if (_table.TryGet(id, out MemberRecord? record))
        {
            view = View(record);
            return true;
        }

        view = default;
        return false;
    }

    /// <summary>A snapshot of every record (allocates; for status output, not for hot paths).</summary>
    public IReadOnlyList<MemberView> GetMembers()
    {
        var members = new MemberView[_table.Count];
        for (int i = 0; i < members.Length; i++)
        {
            members[i] = View(_table[i]);
        }

        return members;
    }

    /// <summary>
    /// Adds a record learned out of band (persisted state after a restart, or the membership a
    /// join response carried) without broadcasting it. Alive, dead and left only; a record we
    /// already hold is replaced only by a higher incarnation. False when the payload fails
    /// validation or is too large.
    /// </summary>
    public bool ImportMember(MemberId id, MemberState state, uint incarnation, MemberPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (state is not (MemberState.Alive or MemberState.Dead or MemberState.Left))
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "import alive, dead or left members; revocations go through ImportRevocation, suspicions are not persisted");
        }

        if (id == _self.Id || payload.Data.Length > _config.MaxPayloadSize || !IsValidPayload(id, payload.Data))
        {
            return false;
        }

        long now = NowTicks();
        if (_table.TryGet(id, out MemberRecord? record))
        {
            if (record.State == MemberState.Revoked || incarnation <= record.Incarnation)
            {
                return false;
            }

            _table.Update(record, state, incarnation, payload, now);
        }
        else
        {
            record = _table.Add(id, state, incarnation, payload, now);
        }

        if (state.IsLive())
        {
            AddToProbeList(record);
        }

        return true;
    }

    /// <summary>Stores a revocation learned out of band (persisted), without broadcasting it. False when the proof fails validation.</summary>
    public bool ImportRevocation(MemberId id, ReadOnlyMemory<byte> proof) => ApplyRevocation(id, proof.ToArray(), broadcast: false, NowTicks());

    /// <summary>
    /// Starts the timers, staggered randomly within their periods so nodes started together do
    /// not probe in lockstep. With <paramref name="announce"/>, this node's alive is queued for
    /// broadcast (a restart telling the mesh it is back); a node importing a membership that
    /// already lists it as alive can skip that.
    /// </summary>
    public void Start(bool announce = true)
    {
        if (_started)
        {
            throw new InvalidOperationException("the gossip engine is already started");
        }

        _started = true;
        long now = NowTicks();
        Schedule(TimerKind.ProbeTick, now + RandomTicks(_config.ProbeInterval.Ticks));
        Schedule(TimerKind.GossipTick, now + RandomTicks(_config.GossipInterval.Ticks));
        Schedule(TimerKind.SyncTick, now + RandomTicks(_config.PushPullInterval.Ticks));
        if (announce)
        {
            BroadcastSelfAlive(omitPayload: false);
        }
    }

    /// <summary>
    /// Joins through <paramref name="seeds"/> (members known from a join token or configuration):
    /// sends each a ping carrying this node's alive (they validate and broadcast it; retried every
    /// probe interval until a seed answers) and pulls the membership from the first by
    /// anti-entropy exchanges, one after the other until the views match (each bounded, see
    /// <see cref="IsCatchingUp"/>). Call after <see cref="Start"/>.
    /// </summary>
    public void Join(params MemberId[] seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        EnsureStarted();
        _joinSeeds.Clear();
        foreach (MemberId seed in seeds)
        {
            if (seed != _self.Id && !_joinSeeds.Contains(seed))
            {
                _joinSeeds.Add(seed);
            }
        }

        if (_joinSeeds.Count == 0)
        {
            throw new ArgumentException("join needs at least one seed other than this node", nameof(seeds));
        }

        long now = NowTicks();
        _joinAnswered = false;
        BroadcastSelfAlive(omitPayload: false);
        SendJoinPings();
        StartCatchUp(_joinSeeds[0], now);
    }

    /// <summary>
    /// Announces departure: raises the incarnation and queues "left". Others mark this node left,
    /// not dead. This node stops probing and syncing but keeps answering and gossiping; keep
    /// calling it while <see cref="LeavePending"/>, then stop.
    /// </summary>
    public void Leave()
    {
        EnsureStarted();
        if (_leaving || _stopped)
        {
            return;
        }

        _leaving = true;
        long now = NowTicks();
        MemberState previous = _self.State;
        _table.Update(_self, MemberState.Left, _self.Incarnation + 1, _self.Payload, now);
        var left = new LeftMessage(_self.Id, _self.Incarnation);
        Span<byte> body = stackalloc byte[LeftMessage.Size];
        left.Write(body);
        _broadcasts.Enqueue(_self.Id, GossipMessageType.Left, body);
        Notify(_self, previous, payloadChanged: false);
    }

    /// <summary>Publishes a new payload (new endpoints, routes…): raises the incarnation and broadcasts the alive.</summary>
    /// <exception cref="ArgumentException">The version is not newer than the current one, or the payload is too large.</exception>
    public void UpdatePayload(MemberPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Version <= _self.PayloadVersion)
        {
            throw new ArgumentException($"payload version {payload.Version} is not newer than the current {_self.PayloadVersion}; members would ignore it", nameof(payload));
        }

        if (payload.Data.Length > _config.MaxPayloadSize)
        {
            throw new ArgumentException($"payload is {payload.Data.Length} bytes, more than {nameof(GossipConfig.MaxPayloadSize)} = {_config.MaxPayloadSize}", nameof(payload));
        }

        if (_stopped || _leaving)
        {
            return;
        }

        _table.Update(_self, _self.State, _self.Incarnation + 1, payload, NowTicks());
        BroadcastSelfAlive(omitPayload: false);
        Notify(_self, _self.State, payloadChanged: true);
    }

    /// <summary>
    /// Revokes <paramref name="member"/> with <paramref name="proof"/> (a root-signed revocation,
    /// created by an admin): stored forever, broadcast, and enforced — the member is never alive
    /// again here. False when the proof fails the revocation hook.
    /// </summary>
    public bool Revoke(MemberId member, ReadOnlyMemory<byte> proof)
    {
        EnsureStarted();
        if (proof.Length > _config.MaxPayloadSize)
        {
            throw new ArgumentException($"revocation proof is {proof.Length} bytes, more than {nameof(GossipConfig.MaxPayloadSize)} = {_config.MaxPayloadSize}", nameof(proof));
        }

        return ApplyRevocation(member, proof.ToArray(), broadcast: true, NowTicks());
    }

    /// <summary>
    /// Handles one frame from <paramref name="from"/> (the authenticated session peer). Never
    /// throws on malformed input: bad frames and parts are counted in <see cref="Counters"/>.
    /// Borrowed: <paramref name="frame"/> is read during the call only.
    /// </summary>
    public void Receive(MemberId from, ReadOnlySpan<byte> frame)
    {
        if (_stopped || !_started)
        {
            return;
        }

        Counters.FramesReceived++;
        Counters.BytesReceived += frame.Length;
        if (_table.TryGet(from, out MemberRecord? sender) && sender.State == MemberState.Revoked)
        {
            Counters.Drop(GossipDropReason.RevokedSender);
            return;
        }

        if (!GossipFrameReader.TryCreate(frame, out GossipFrameReader reader))
        {
            Counters.Drop(GossipDropReason.Malformed);
            return;
        }

        if (!_joinAnswered && _joinSeeds.Contains(from))
        {
            _joinAnswered = true;
        }

        long now = NowTicks();
        OutboundSync? syncSource = null;
        bool fromSync = false;
        while (!_stopped && reader.TryReadPart(out GossipMessageType type, out ReadOnlySpan<byte> body))
        {
            bool wellFormed = type switch
            {
                GossipMessageType.Ping => HandlePing(from, body),
                GossipMessageType.PingReq => HandlePingReq(from, body, now),
                GossipMessageType.Ack => HandleAck(body),
                GossipMessageType.Nack => HandleNack(body),
                GossipMessageType.Alive => HandleAlive(body, fromSync, syncSource, now),
                GossipMessageType.Suspect => HandleSuspect(body, fromSync, syncSource, now),
                GossipMessageType.Dead => HandleDead(body, fromSync, syncSource, now),
                GossipMessageType.Left => HandleLeft(body, fromSync, syncSource, now),
                GossipMessageType.Revoked => HandleRevoked(body, fromSync, syncSource, now),
                GossipMessageType.SyncBegin => HandleSyncBegin(from, body, now),
                GossipMessageType.SyncDigest => HandleSyncDigest(from, body, now),
                GossipMessageType.SyncPull => HandleSyncPull(from, body, now),
                GossipMessageType.SyncDone => HandleSyncDone(from, body, now),
                GossipMessageType.SyncRecords => HandleSyncRecords(from, body, ref fromSync, ref syncSource),
                _ => HandleUnknown(),
            };
            if (!wellFormed)
            {
                Counters.Drop(GossipDropReason.Malformed);
            }
        }

        if (reader.IsMalformed)
        {
            Counters.Drop(GossipDropReason.Malformed);
        }
    }

    /// <summary>Runs every timer due by now. Call when <see cref="NextTimerAt"/> has passed (calling early is harmless).</summary>
    public void RunTimers()
    {
        long now = NowTicks();
        while (!_stopped && _timers.TryPeek(out TimerEntry timer, out long due) && due <= now)
        {
            _timers.Dequeue();
            switch (timer.Kind)
            {
                case TimerKind.ProbeTick:
                    OnProbeTick(now);
                    break;
                case TimerKind.ProbeTimeout:
                    OnProbeTimeout(timer.Sequence, now);
                    break;
                case TimerKind.GossipTick:
                    OnGossipTick(now);
                    break;
                case TimerKind.RelayNack:
                    OnRelayNack(timer.Sequence);
                    break;
                case TimerKind.RelayExpire:
                    _relays.Remove(timer.Sequence);
                    break;
                case TimerKind.SuspicionTimeout:
                    OnSuspicionTimeout(timer.Record!, timer.Suspicion!, now);
                    break;
                case TimerKind.SyncTick:
                    OnSyncTick(now);
                    break;
                case TimerKind.SyncFollowUp:
                    OnSyncFollowUp(timer.Sequence, now);
                    break;
                case TimerKind.SyncExpire:
                    OnSyncExpire(timer.Sequence, now);
                    break;
            }
        }
    }

    private static bool HandleUnknown() => true;

    private long NowTicks()
    {
        long timestamp = _time.GetTimestamp();
        return _timestampFrequency == TimeSpan.TicksPerSecond
            ? timestamp
            : (long)((Int128)timestamp * TimeSpan.TicksPerSecond / _timestampFrequency);
    }

    private long RandomTicks(long maxExclusive) => maxExclusive <= 1 ? 0 : _random.NextInt64(maxExclusive);

    private void EnsureStarted()
    {
        if (!_started)
        {
            throw new InvalidOperationException("call Start() on the gossip engine first");
        }
    }

    private void Schedule(TimerKind kind, long due, uint sequence = 0, MemberRecord? record = null, Suspicion? suspicion = null) =>
        _timers.Enqueue(new TimerEntry(kind, sequence, record, suspicion), due);

    private uint NextSequence() => ++_nextSequence;

    private void Send(MemberId to, ReadOnlySpan<byte> frame)
    {
        Counters.FramesSent++;
        Counters.BytesSent += frame.Length;
        _transport.Send(to, frame);
    }

    private int RetransmitLimit => _config.RetransmitLimit(_table.LiveCount);

    /// <summary>Appends queued broadcasts to a frame being built (SWIM piggybacking).</summary>
    private void Piggyback(ref GossipFrameWriter writer) => _broadcasts.Fill(ref writer, RetransmitLimit);

    private bool IsValidPayload(MemberId id, ReadOnlyMemory<byte> payload) => _validatePayload?.Invoke(id, payload) ?? true;

    private void Notify(MemberRecord record, MemberState? previous, bool payloadChanged)
    {
        if (previous == record.State && !payloadChanged)
        {
            return;
        }

        _memberChanged?.Invoke(new MemberChange(record.Id, previous, record.State, record.Incarnation, record.Payload, payloadChanged));
    }

    private static MemberView View(MemberRecord record) =>
        new(record.Id, record.State, record.Incarnation, record.Payload, TimeSpan.FromTicks(record.StateChangedAt));

    /// <summary>
    /// Up to <paramref name="count"/> distinct random live members other than this node and
    /// <paramref name="exclude"/> into <see cref="_picked"/>; with <paramref name="includeRecentlyDead"/>,
    /// members dead for less than GossipToTheDeadTime too (so a wrongly declared member hears of it
    /// and refutes). Samples with up to 3 × table size draws (memberlist kRandomNodes): exhaustive
    /// enough for small meshes, O(count) for large ones.
    /// </summary>
    private void PickRandomMembers(int count, MemberRecord? exclude, bool includeRecentlyDead, long now)
    {
        _picked.Clear();
        int n = _table.Count;
        for (int attempt = 0; attempt < 3 * n && _picked.Count < count; attempt++)
        {
            MemberRecord candidate = _table[_random.Next(n)];
            if (candidate == _self || candidate == exclude || _picked.Contains(candidate))
            {
                continue;
            }

            bool eligible = candidate.State.IsLive()
                || (includeRecentlyDead && candidate.State == MemberState.Dead && now - candidate.StateChangedAt < _config.GossipToTheDeadTime.Ticks);
            if (eligible)
            {
                _picked.Add(candidate);
            }
        }
    }

    private enum TimerKind : byte
    {
        ProbeTick,
        ProbeTimeout,
        GossipTick,
        RelayNack,
        RelayExpire,
        SuspicionTimeout,
        SyncTick,
        SyncFollowUp,
        SyncExpire,
    }

    private readonly record struct TimerEntry(TimerKind Kind, uint Sequence, MemberRecord? Record, Suspicion? Suspicion);
}
