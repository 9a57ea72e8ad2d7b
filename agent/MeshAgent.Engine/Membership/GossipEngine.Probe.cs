namespace MeshAgent.Engine.Membership;

// Failure detection (SWIM §3, Lifeguard §4.1) and gossip rounds.
//
//   t0                      t0 + timeout               t0 + interval (next tick)
//   | ping(seq) ----------->|                          |
//   |  ack? done (awareness −1)                        |
//   |                       | no ack: ping-req(seq, target) to k members, and a second direct ping
//   |                       |   each helper pings the target; forwards its ack, or a nack at 80 %
//   |                       |                          | still no ack: suspect the target;
//   |                       |                          | awareness + (missing nacks, or 1 with no helpers)
//
// Times are scaled by (awareness + 1). Only one probe is in flight; the next tick ends it.
public sealed partial class GossipEngine
{
    private readonly ProbeState _probe = new();
    private readonly List<MemberRecord> _probeList = new();
    private readonly Dictionary<uint, Relay> _relays = new();
    private readonly List<MemberId> _joinSeeds = new();
    private int _probeIndex;
    private bool _joinAnswered;

    private void OnProbeTick(long now)
    {
        FinishProbe(now);
        if (!_leaving)
        {
            if (_joinSeeds.Count > 0 && !_joinAnswered)
            {
                SendJoinPings();
            }

            StartProbe(now);
        }

        Schedule(TimerKind.ProbeTick, now + _awareness.Scale(_config.ProbeInterval.Ticks));
    }

    private void StartProbe(long now)
    {
        MemberRecord? target = NextProbeTarget(now);
        if (target is null)
        {
            return;
        }

        uint sequence = NextSequence();
        _probe.Active = true;
        _probe.Sequence = sequence;
        _probe.Target = target;
        _probe.Acked = false;
        _probe.Indirect = false;
        _probe.ExpectedNacks = 0;
        _probe.Nacks = 0;

        var writer = new GossipFrameWriter(_sendBuffer);
        writer.TryAppend(GossipMessageType.Ping, PingMessage.Size, out Span<byte> body);
        new PingMessage(sequence).Write(body);
        if (target.State == MemberState.Suspect)
        {
            // Lifeguard's buddy system: tell a suspect directly, so it refutes at once instead
            // of waiting for the suspicion to reach it by gossip.
            writer.TryAppend(GossipMessageType.Suspect, SuspectMessage.Size, out body);
            new SuspectMessage(target.Id, target.Incarnation, _self.Id).Write(body);
        }

        Piggyback(ref writer);
        Send(target.Id, writer.Written);
        Counters.ProbesSent++;
        Schedule(TimerKind.ProbeTimeout, now + _awareness.Scale(_config.ProbeTimeout.Ticks), sequence);
    }

    private void OnProbeTimeout(uint sequence, long now)
    {
        if (!_probe.Active || _probe.Sequence != sequence || _probe.Acked)
        {
            return;
        }

        MemberRecord target = _probe.Target!;
        _probe.Indirect = true;
        PickRandomMembers(_config.IndirectChecks, exclude: target, includeRecentlyDead: false, now);
        long timeout = _awareness.Scale(_config.ProbeTimeout.Ticks);
        uint timeoutMs = (uint)Math.Min(uint.MaxValue, timeout / TimeSpan.TicksPerMillisecond);
        foreach (MemberRecord helper in _picked)
        {
            var writer = new GossipFrameWriter(_sendBuffer);
            writer.TryAppend(GossipMessageType.PingReq, PingReqMessage.Size, out Span<byte> body);
            new PingReqMessage(sequence, timeoutMs, target.Id).Write(body);
            Piggyback(ref writer);
            Send(helper.Id, writer.Written);
            Counters.IndirectProbes++;
        }

        _probe.ExpectedNacks = _picked.Count;

        // memberlist also tries the target over TCP at this point; our only channel is the
        // session, so ping it directly once more. A lossy link (5 %) otherwise fails a probe
        // whenever the first ping or its ack and all k relayed paths are lost, and every false
        // suspicion costs a mesh-wide suspect and refute broadcast.
        var again = new GossipFrameWriter(_sendBuffer);
        again.TryAppend(GossipMessageType.Ping, PingMessage.Size, out Span<byte> pingBody);
        new PingMessage(sequence).Write(pingBody);
        Piggyback(ref again);
        Send(target.Id, again.Written);
    }

    private void FinishProbe(long now)
    {
        if (!_probe.Active)
        {
            return;
        }

        _probe.Active = false;
        if (_probe.Acked)
        {
            return;
        }

        Counters.ProbesFailed++;
        // Lifeguard: helpers that answered with nacks prove our own link works, so the failure is
        // the target's; helpers that stayed silent point at us. With no helpers, any failure
        // counts against us a little.
        int delta = _probe.ExpectedNacks > 0 ? Math.Max(0, _probe.ExpectedNacks - _probe.Nacks) : 1;
        _awareness.ApplyDelta(delta);
        MemberRecord target = _probe.Target!;
        _probe.Target = null;
        if (target.Index >= 0 && target.State.IsLive())
        {
            ApplySuspect(new SuspectMessage(target.Id, target.Incarnation, _self.Id), rebroadcast: true, now);
        }
    }

    private MemberRecord? NextProbeTarget(long now)
    {
        for (int checkedCount = 0; checkedCount <= _probeList.Count; checkedCount++)
        {
            if (_probeIndex >= _probeList.Count)
            {
                ResetProbeList(now);
                _probeIndex = 0;
                if (_probeList.Count == 0)
                {
                    return null;
                }
            }

            MemberRecord candidate = _probeList[_probeIndex++];
            if (candidate != _self && candidate.Index >= 0 && candidate.State.IsLive())
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// At the end of each pass over the probe list: drop members no longer probed, reap dead and
    /// left records past their retention, and reshuffle (a fixed order would let one member's
    /// failure go unnoticed for up to a full pass by everyone at once; a fresh shuffle keeps
    /// the expected detection time at about one interval).
    /// </summary>
    private void ResetProbeList(long now)
    {
        foreach (MemberRecord record in _probeList)
        {
            record.InProbeList = false;
        }

        _probeList.Clear();
        long retention = _config.DeadMemberRetention.Ticks;
        for (int i = _table.Count - 1; i >= 0; i--)
        {
            MemberRecord record = _table[i];
            if (record.State is MemberState.Dead or MemberState.Left && record != _self && now - record.StateChangedAt > retention)
            {
                _table.Remove(record);
            }
        }

        for (int i = 0; i < _table.Count; i++)
        {
            MemberRecord record = _table[i];
            if (record != _self && record.State.IsLive())
            {
                record.InProbeList = true;
                _probeList.Add(record);
            }
        }

        for (int i = _probeList.Count - 1; i > 0; i--)
        {
            int j = _random.Next(i + 1);
            (_probeList[i], _probeList[j]) = (_probeList[j], _probeList[i]);
        }
    }

    /// <summary>A new (or revived) member goes to a random place in the list, as memberlist does, so joins are probed soon on average.</summary>
    private void AddToProbeList(MemberRecord record)
    {
        if (record.InProbeList || record == _self)
        {
            return;
        }

        record.InProbeList = true;
        _probeList.Add(record);
        int last = _probeList.Count - 1;
        int at = _random.Next(_probeList.Count);
        (_probeList[last], _probeList[at]) = (_probeList[at], _probeList[last]);
    }

    private bool HandlePing(MemberId from, ReadOnlySpan<byte> body)
    {
        if (!PingMessage.TryRead(body, out PingMessage ping))
        {
            return false;
        }

        var writer = new GossipFrameWriter(_sendBuffer);
        writer.TryAppend(GossipMessageType.Ack, AckMessage.Size, out Span<byte> ackBody);
        new AckMessage(ping.Sequence).Write(ackBody);
        Piggyback(ref writer);
        Send(from, writer.Written);
        return true;
    }

    private bool HandleAck(ReadOnlySpan<byte> body)
    {
        if (!AckMessage.TryRead(body, out AckMessage ack))
        {
            return false;
        }

        if (_probe.Active && _probe.Sequence == ack.Sequence)
        {
            if (!_probe.Acked)
            {
                _probe.Acked = true;
                if (!_probe.Indirect)
                {
                    _awareness.ApplyDelta(-1);
                }
            }
        }
        else if (_relays.Remove(ack.Sequence, out Relay relay))
        {
            var writer = new GossipFrameWriter(_sendBuffer);
            writer.TryAppend(GossipMessageType.Ack, AckMessage.Size, out Span<byte> ackBody);
            new AckMessage(relay.OriginSequence).Write(ackBody);
            Piggyback(ref writer);
            Send(relay.Origin, writer.Written);
        }

        return true;
    }

    private bool HandleNack(ReadOnlySpan<byte> body)
    {
        if (!NackMessage.TryRead(body, out NackMessage nack))
        {
            return false;
        }

        if (_probe.Active && _probe.Sequence == nack.Sequence)
        {
            _probe.Nacks++;
            Counters.NacksReceived++;
        }

        return true;
    }

    private bool HandlePingReq(MemberId from, ReadOnlySpan<byte> body, long now)
    {
        if (!PingReqMessage.TryRead(body, out PingReqMessage request))
        {
            return false;
        }

        if (request.Target == _self.Id)
        {
            // Asked to probe ourselves: we are evidently alive.
            var ackWriter = new GossipFrameWriter(_sendBuffer);
            ackWriter.TryAppend(GossipMessageType.Ack, AckMessage.Size, out Span<byte> ackBody);
            new AckMessage(request.Sequence).Write(ackBody);
            Send(from, ackWriter.Written);
            return true;
        }

        if (_relays.Count >= _config.MaxPendingRelays
            || (_table.TryGet(request.Target, out MemberRecord? target) && target.State == MemberState.Revoked))
        {
            Counters.Drop(GossipDropReason.RelayLimit);
            return true;
        }

        uint sequence = NextSequence();
        _relays[sequence] = new Relay(from, request.Sequence);
        var writer = new GossipFrameWriter(_sendBuffer);
        writer.TryAppend(GossipMessageType.Ping, PingMessage.Size, out Span<byte> pingBody);
        new PingMessage(sequence).Write(pingBody);
        Piggyback(ref writer);
        Send(request.Target, writer.Written);

        // The prober's timeout, bounded so a bogus value cannot pin a relay slot for long.
        long timeout = Math.Clamp(request.TimeoutMilliseconds * TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerMillisecond, _config.ProbeInterval.Ticks * _config.AwarenessMaxMultiplier);
        Schedule(TimerKind.RelayNack, now + (timeout * 4 / 5), sequence);
        Schedule(TimerKind.RelayExpire, now + timeout, sequence);
        return true;
    }

    private void OnRelayNack(uint sequence)
    {
        if (!_relays.TryGetValue(sequence, out Relay relay))
        {
            return;
        }

        var writer = new GossipFrameWriter(_sendBuffer);
        writer.TryAppend(GossipMessageType.Nack, NackMessage.Size, out Span<byte> body);
        new NackMessage(relay.OriginSequence).Write(body);
        Piggyback(ref writer);
        Send(relay.Origin, writer.Written);
    }

    private void OnGossipTick(long now)
    {
        Schedule(TimerKind.GossipTick, now + _config.GossipInterval.Ticks);
        if (_broadcasts.Count == 0)
        {
            return;
        }

        PickRandomMembers(_config.GossipNodes, exclude: null, includeRecentlyDead: true, now);
        foreach (MemberRecord target in _picked)
        {
            var writer = new GossipFrameWriter(_sendBuffer);
            if (_broadcasts.Fill(ref writer, RetransmitLimit) == 0)
            {
                break;
            }

            Send(target.Id, writer.Written);
        }
    }

    private void SendJoinPings()
    {
        foreach (MemberId seed in _joinSeeds)
        {
            var writer = new GossipFrameWriter(_sendBuffer);
            writer.TryAppend(GossipMessageType.Ping, PingMessage.Size, out Span<byte> body);
            new PingMessage(NextSequence()).Write(body);
            AppendSelfAlive(ref writer);
            Piggyback(ref writer);
            Send(seed, writer.Written);
        }
    }

    private sealed class ProbeState
    {
        public bool Active;
        public uint Sequence;
        public MemberRecord? Target;
        public bool Acked;
        public bool Indirect;
        public int ExpectedNacks;
        public int Nacks;
    }

    private readonly record struct Relay(MemberId Origin, uint OriginSequence);
}
