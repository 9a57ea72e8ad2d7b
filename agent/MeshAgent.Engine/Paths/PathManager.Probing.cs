namespace MeshAgent.Engine.Paths;

/// <summary>Pings, discovery rounds and call-me-maybes.</summary>
public sealed partial class PathManager
{
    /// <summary>
    /// A discovery round. On the relay: ping every direct candidate, tell the peer to probe us
    /// (call-me-maybe over the relay), back off, and arm hard-NAT probing if this side is the hard
    /// one. On a direct path slower than GoodEnoughLatency: the same, looking for a better path.
    /// </summary>
    private void RunDiscovery(long now)
    {
        if (_best is null)
        {
            if (_candidates.Count == 0 && CurrentPath is null)
            {
                _nextDiscoveryAt = long.MaxValue; // nothing to probe, nowhere to send a call-me-maybe: wait for candidates
                return;
            }

            Counters.DiscoveryRounds++;
            ProbeAll(now);
            SendCallMeMaybe(probePorts: 0);
            _nextDiscoveryAt = now + _discoveryBackoff;
            _discoveryBackoff = Math.Min(_discoveryBackoff * 2, _config.MaxDiscoveryInterval.Ticks);
            ScheduleHardNat(now);
            return;
        }

        if (_best.MinRtt > _config.GoodEnoughLatency.Ticks)
        {
            Counters.DiscoveryRounds++;
            ProbeAll(now);
            SendCallMeMaybe(probePorts: 0);
        }
        else if (_localNat == NatMapping.None || _announceNat)
        {
            // Our NAT mapping changed, or we are public and repeat it (peers choose peer relays by it): one frame per UpgradeInterval.
            SendCallMeMaybe(probePorts: 0);
        }

        _nextDiscoveryAt = now + _config.UpgradeInterval.Ticks;
    }

    /// <summary>The peer asked us to probe: ping every candidate (but send no call-me-maybe back, or two peers would echo them forever).</summary>
    private void RunCallMeMaybeRound(long now)
    {
        _lastCallMeMaybeRoundAt = now;
        _deferredCallMeMaybeRoundAt = long.MaxValue;
        ProbeAll(now);
    }

    /// <summary>Candidates that appeared in the peer's record: on the relay, a full round now (backoff reset); on a direct path, ping just them (they may be better).</summary>
    private void ProbeNew(long now, List<CandidateState> added, bool relayAppeared)
    {
        if (_best is null && relayAppeared)
        {
            _discoveryBackoff = _config.DiscoveryInterval.Ticks;
            _nextDiscoveryAt = now; // a relay to send call-me-maybes over: worth a round now
            return;
        }

        if (added.Count == 0)
        {
            return;
        }

        if (_best is null)
        {
            _discoveryBackoff = _config.DiscoveryInterval.Ticks;
            _nextDiscoveryAt = now;
            return;
        }

        if (IsActive(now))
        {
            foreach (CandidateState state in added)
            {
                SendPing(state.Address, PingPurpose.Discovery, now);
            }
        }
    }

    /// <summary>Pings every direct candidate on the main socket except the current path (heartbeats cover it). Probe-socket candidates belong to hard-NAT probing.</summary>
    private void ProbeAll(long now)
    {
        foreach (CandidateState state in _candidates.Values)
        {
            if (state.Address.Socket == 0 && !ReferenceEquals(state, _best))
            {
                SendPing(state.Address, PingPurpose.Discovery, now);
            }
        }
    }

    private void SendCallMeMaybe(int probePorts)
    {
        PathAddress? path = CurrentPath;
        if (path is null || (_localCandidates.Count == 0 && probePorts == 0))
        {
            return; // nowhere to send it, or nothing to announce
        }

        Counters.CallMeMaybesSent++;
        _announceNat = false;
        _actions.SendCallMeMaybe(path.Value, new CallMeMaybe(_localCandidates, probePorts, _localNat));
    }

    /// <summary>A ping in answer to the peer's ping or data, within the per-second budget (token bucket, burst = 2 s worth).</summary>
    private void SendTriggeredPing(CandidateState state, long now)
    {
        double rate = _config.TriggeredPingsPerSecond;
        _triggerTokens = Math.Min(2.0 * rate, _triggerTokens + (now - _triggerTokensAt) * rate / TimeSpan.TicksPerSecond);
        _triggerTokensAt = now;
        if (_triggerTokens < 1.0)
        {
            Counters.TriggeredPingsSuppressed++;
            return;
        }

        _triggerTokens -= 1.0;
        Counters.TriggeredPings++;
        SendPing(state.Address, PingPurpose.Triggered, now);
    }

    private void SendPing(PathAddress to, PingPurpose purpose, long now)
    {
        if (_sentPings.Count >= MaxOutstandingPings)
        {
            return; // bounded: pings older than PingTimeout are pruned every second
        }

        PathTxId txid = PathTxId.NewRandom(_random);
        if (!_sentPings.TryAdd(txid, new SentPing(to, now, purpose)))
        {
            return; // a 96-bit collision: not worth a retry
        }

        if (_candidates.TryGetValue(to, out CandidateState? state))
        {
            state.LastPingAt = now;
        }

        Counters.PingsSent++;
        _actions.SendPing(to, txid);
    }
}
