namespace MeshAgent.Engine.Membership;

// Membership state rules (SWIM §4.2 with memberlist's refinements). For a member other than us:
//
//   message        applies when (r = our record)                                  result
//   alive(i, v)    unknown (payload valid), or i > r.i and v ≥ r.v, r not revoked  alive at i
//   suspect(i)     r alive and i ≥ r.i                                             suspect at i, timer
//                  r suspect and i ≥ r.i, new accuser                              confirmation, timer shrinks
//   dead(i)        r alive or suspect and i ≥ r.i                                  dead at i
//   left(i)        r not left and i ≥ r.i                                          left at i
//   revoked        valid proof                                                     revoked, final
//
// About us: suspect/dead/left at i ≥ our incarnation → refute with max(ours, i) + 1 (unless we
// are leaving); alive with i > ours (an older life of ours) → refute likewise.
// Every change is re-broadcast, except those learned by anti-entropy (see SyncRecordsMessage).
public sealed partial class GossipEngine
{
    private bool HandleAlive(ReadOnlySpan<byte> body, bool fromSync, OutboundSync? syncSource, long now)
    {
        if (!AliveMessage.TryRead(body, out AliveMessage alive))
        {
            return false;
        }

        CountSyncApply(ApplyAlive(alive, rebroadcast: !fromSync, body, now), fromSync, syncSource);
        return true;
    }

    private bool HandleSuspect(ReadOnlySpan<byte> body, bool fromSync, OutboundSync? syncSource, long now)
    {
        if (!SuspectMessage.TryRead(body, out SuspectMessage suspect))
        {
            return false;
        }

        CountSyncApply(ApplySuspect(suspect, rebroadcast: !fromSync, now), fromSync, syncSource);
        return true;
    }

    private bool HandleDead(ReadOnlySpan<byte> body, bool fromSync, OutboundSync? syncSource, long now)
    {
        if (!DeadMessage.TryRead(body, out DeadMessage dead))
        {
            return false;
        }

        // A death learned by anti-entropy is only a suspicion here: the member gets its chance
        // to refute (memberlist mergeState does the same).
        bool applied = fromSync
            ? ApplySuspect(new SuspectMessage(dead.Member, dead.Incarnation, dead.From), rebroadcast: false, now)
            : ApplyDead(dead, rebroadcast: true, now);
        CountSyncApply(applied, fromSync, syncSource);
        return true;
    }

    private bool HandleLeft(ReadOnlySpan<byte> body, bool fromSync, OutboundSync? syncSource, long now)
    {
        if (!LeftMessage.TryRead(body, out LeftMessage left))
        {
            return false;
        }

        CountSyncApply(ApplyLeft(left, rebroadcast: !fromSync, now), fromSync, syncSource);
        return true;
    }

    private bool HandleRevoked(ReadOnlySpan<byte> body, bool fromSync, OutboundSync? syncSource, long now)
    {
        if (!RevokedMessage.TryRead(body, out RevokedMessage revoked))
        {
            return false;
        }

        if (revoked.Proof.Length > _config.MaxPayloadSize)
        {
            Counters.Drop(GossipDropReason.TooLarge);
            return true;
        }

        bool applied = !(_table.TryGet(revoked.Member, out MemberRecord? record) && record.State == MemberState.Revoked)
            && ApplyRevocation(revoked.Member, revoked.Proof.ToArray(), broadcast: !fromSync, now);
        CountSyncApply(applied, fromSync, syncSource);
        return true;
    }

    private void CountSyncApply(bool applied, bool fromSync, OutboundSync? syncSource)
    {
        if (applied && fromSync)
        {
            Counters.SyncRecordsApplied++;
            if (syncSource is not null)
            {
                syncSource.Applied++;
            }
        }
    }

    /// <param name="body">The received alive body, re-broadcast as is.</param>
    private bool ApplyAlive(in AliveMessage alive, bool rebroadcast, ReadOnlySpan<byte> body, long now)
    {
        if (alive.Payload.Length > _config.MaxPayloadSize)
        {
            Counters.Drop(GossipDropReason.TooLarge);
            return false;
        }

        if (alive.Member == _self.Id)
        {
            if (!_leaving && !IsRevoked && alive.Incarnation > _self.Incarnation)
            {
                Refute(alive.Incarnation, now, penalize: false);
            }

            return false;
        }

        if (!_table.TryGet(alive.Member, out MemberRecord? record))
        {
            if (alive.PayloadOmitted)
            {
                // A refutation about a member we never saw: nothing to validate, so nothing to
                // add. Anti-entropy will bring its full record.
                Counters.Drop(GossipDropReason.PayloadUnknown);
                return false;
            }

            var fresh = new MemberPayload(alive.PayloadVersion, alive.Payload.ToArray());
            if (!IsValidPayload(alive.Member, fresh.Data))
            {
                Counters.Drop(GossipDropReason.InvalidPayload);
                return false;
            }

            record = _table.Add(alive.Member, MemberState.Alive, alive.Incarnation, fresh, now);
            AddToProbeList(record);
            if (rebroadcast)
            {
                _broadcasts.Enqueue(alive.Member, GossipMessageType.Alive, body);
            }

            Notify(record, previous: null, payloadChanged: false);
            return true;
        }

        if (record.State == MemberState.Revoked)
        {
            return false;
        }

        // A newer life (higher incarnation) revives; a newer payload at the same incarnation (a
        // payload fetched after its omitted-payload refutation) only refreshes the payload.
        bool newerLife = alive.Incarnation > record.Incarnation;
        bool newerPayload = !alive.PayloadOmitted && alive.PayloadVersion > record.PayloadVersion;
        if (!newerLife && !(newerPayload && alive.Incarnation == record.Incarnation))
        {
            return false;
        }

        if (alive.PayloadVersion < record.PayloadVersion)
        {
            Counters.Drop(GossipDropReason.StalePayload);
            return false;
        }

        MemberPayload? payload = record.Payload;
        if (newerPayload)
        {
            payload = new MemberPayload(alive.PayloadVersion, alive.Payload.ToArray());
            if (!IsValidPayload(alive.Member, payload.Data))
            {
                Counters.Drop(GossipDropReason.InvalidPayload);
                return false;
            }
        }

        MemberState previous = record.State;
        MemberState state = newerLife ? MemberState.Alive : previous;
        _table.Update(record, state, alive.Incarnation, payload, now);
        if (state == MemberState.Alive)
        {
            AddToProbeList(record);
        }

        if (rebroadcast)
        {
            _broadcasts.Enqueue(alive.Member, GossipMessageType.Alive, body);
        }

        Notify(record, previous, newerPayload);
        return true;
    }

    private bool ApplySuspect(in SuspectMessage suspect, bool rebroadcast, long now)
    {
        if (suspect.Member == _self.Id)
        {
            if (!_leaving && !IsRevoked && suspect.Incarnation >= _self.Incarnation)
            {
                Refute(suspect.Incarnation, now, penalize: true);
            }

            return false;
        }

        if (!_table.TryGet(suspect.Member, out MemberRecord? record) || suspect.Incarnation < record.Incarnation)
        {
            return false;
        }

        if (record.State == MemberState.Suspect)
        {
            if (suspect.Incarnation > record.Incarnation)
            {
                _table.Update(record, MemberState.Suspect, suspect.Incarnation, record.Payload, now);
            }

            Suspicion suspicion = record.Suspicion!;
            if (!suspicion.Confirm(suspect.From))
            {
                return false;
            }

            Schedule(TimerKind.SuspicionTimeout, suspicion.Deadline, record: record, suspicion: suspicion);
            if (rebroadcast)
            {
                EnqueueAccusation(GossipMessageType.Suspect, suspect.Member, suspect.Incarnation, suspect.From);
            }

            return true;
        }

        if (record.State != MemberState.Alive)
        {
            return false;
        }

        int n = _table.LiveCount;
        long min = _config.SuspicionMinTimeout(n).Ticks;
        long max = _config.SuspicionMaxTimeout(n).Ticks;
        _table.Update(record, MemberState.Suspect, suspect.Incarnation, record.Payload, now);
        var fresh = new Suspicion(suspect.From, _config.SuspicionConfirmations(n), now, min, max);
        record.Suspicion = fresh;
        Schedule(TimerKind.SuspicionTimeout, fresh.Deadline, record: record, suspicion: fresh);
        Counters.Suspicions++;
        if (rebroadcast)
        {
            EnqueueAccusation(GossipMessageType.Suspect, suspect.Member, suspect.Incarnation, suspect.From);
        }

        Notify(record, MemberState.Alive, payloadChanged: false);
        return true;
    }

    private void OnSuspicionTimeout(MemberRecord record, Suspicion suspicion, long now)
    {
        // A stale entry: the member refuted, died otherwise, or a confirmation moved the deadline
        // (the earlier entry fires first; later ones find the suspicion gone).
        if (record.Index < 0 || record.Suspicion != suspicion || record.State != MemberState.Suspect || now < suspicion.Deadline)
        {
            return;
        }

        Counters.DeathsDeclared++;
        ApplyDead(new DeadMessage(record.Id, record.Incarnation, _self.Id), rebroadcast: true, now);
    }

    private bool ApplyDead(in DeadMessage dead, bool rebroadcast, long now)
    {
        if (dead.Member == _self.Id)
        {
            if (!_leaving && !IsRevoked && dead.Incarnation >= _self.Incarnation)
            {
                Refute(dead.Incarnation, now, penalize: true);
            }

            return false;
        }

        if (!_table.TryGet(dead.Member, out MemberRecord? record)
            || dead.Incarnation < record.Incarnation
            || !record.State.IsLive())
        {
            return false;
        }

        MemberState previous = record.State;
        _table.Update(record, MemberState.Dead, dead.Incarnation, record.Payload, now);
        if (rebroadcast)
        {
            EnqueueAccusation(GossipMessageType.Dead, dead.Member, dead.Incarnation, dead.From);
        }

        Notify(record, previous, payloadChanged: false);
        return true;
    }

    private bool ApplyLeft(in LeftMessage left, bool rebroadcast, long now)
    {
        if (left.Member == _self.Id)
        {
            if (!_leaving && !IsRevoked && left.Incarnation >= _self.Incarnation)
            {
                Refute(left.Incarnation, now, penalize: false);
            }

            return false;
        }

        if (!_table.TryGet(left.Member, out MemberRecord? record)
            || left.Incarnation < record.Incarnation
            || record.State is MemberState.Left or MemberState.Revoked)
        {
            return false;
        }

        MemberState previous = record.State;
        _table.Update(record, MemberState.Left, left.Incarnation, record.Payload, now);
        if (rebroadcast)
        {
            Span<byte> body = stackalloc byte[LeftMessage.Size];
            left.Write(body);
            _broadcasts.Enqueue(left.Member, GossipMessageType.Left, body);
        }

        Notify(record, previous, payloadChanged: false);
        return true;
    }

    /// <summary>Revocation is final: stored forever, and no later message of any kind changes it.</summary>
    private bool ApplyRevocation(MemberId member, byte[] proof, bool broadcast, long now)
    {
        if (_table.TryGet(member, out MemberRecord? record) && record.State == MemberState.Revoked)
        {
            return false;
        }

        if (!(_validateRevocation?.Invoke(member, proof) ?? true))
        {
            Counters.Drop(GossipDropReason.InvalidRevocation);
            return false;
        }

        MemberState? previous = record?.State;
        if (record is null)
        {
            record = _table.Add(member, MemberState.Revoked, 0, null, now);
        }
        else
        {
            _table.Update(record, MemberState.Revoked, record.Incarnation, record.Payload, now);
        }

        record.RevocationProof = proof;
        if (broadcast)
        {
            var revoked = new RevokedMessage(member, proof);
            Span<byte> body = _encodeBuffer.AsSpan(0, revoked.Size);
            revoked.Write(body);
            _broadcasts.Enqueue(member, GossipMessageType.Revoked, body);
        }

        Notify(record, previous, payloadChanged: false);
        if (record == _self)
        {
            // A revoked node has no business in the mesh: no session will accept it anyway.
            _stopped = true;
        }

        return true;
    }

    /// <summary>SWIM refutation: only we raise our incarnation, above the accusation's.</summary>
    private void Refute(uint accused, long now, bool penalize)
    {
        uint incarnation = Math.Max(_self.Incarnation, accused) + 1;
        _table.Update(_self, _self.State, incarnation, _self.Payload, now);
        BroadcastSelfAlive(omitPayload: true);
        Counters.Refutations++;
        if (penalize)
        {
            // Lifeguard: being suspected is evidence that we answer too slowly.
            _awareness.ApplyDelta(1);
        }
    }

    private void BroadcastSelfAlive(bool omitPayload)
    {
        MemberPayload payload = _self.Payload!;
        var alive = omitPayload
            ? new AliveMessage(_self.Id, _self.Incarnation, payload.Version, AliveFlags.PayloadOmitted, [])
            : new AliveMessage(_self.Id, _self.Incarnation, payload.Version, AliveFlags.None, payload.Data.Span);
        Span<byte> body = _encodeBuffer.AsSpan(0, alive.Size);
        alive.Write(body);
        _broadcasts.Enqueue(_self.Id, GossipMessageType.Alive, body);
    }

    private void AppendSelfAlive(ref GossipFrameWriter writer)
    {
        MemberPayload payload = _self.Payload!;
        var alive = new AliveMessage(_self.Id, _self.Incarnation, payload.Version, AliveFlags.None, payload.Data.Span);
        if (writer.TryAppend(GossipMessageType.Alive, alive.Size, out Span<byte> body))
        {
            alive.Write(body);
        }
    }

    private void EnqueueAccusation(GossipMessageType type, MemberId member, uint incarnation, MemberId from)
    {
        Span<byte> body = stackalloc byte[SuspectMessage.Size];
        AccusationCodec.Write(body, member, incarnation, from);
        _broadcasts.Enqueue(member, type, body);
    }
}
