using System.Net;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Net;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Paths;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Paths;

/// <summary>
/// Each rule of <see cref="PathManager"/> on its own, driven by hand with a manual clock and a
/// recording host: what goes out, when, and which path the data plane is told to use.
/// </summary>
public sealed class PathManagerRulesTests
{
    private static readonly PathAddress Relay = PathAddress.Relay("relay1");
    private static readonly UdpEndpoint PeerLan = Endpoint("10.2.0.10", 41641);
    private static readonly UdpEndpoint PeerPublic = Endpoint("203.0.113.20", 41641);
    private static readonly UdpEndpoint OurLan = Endpoint("10.1.0.10", 41641);
    private static readonly UdpEndpoint OurPublic = Endpoint("203.0.113.10", 41641);

    private readonly ManualTimeProvider _clock = new();
    private readonly RecordingActions _actions;

    public PathManagerRulesTests() => _actions = new RecordingActions(_clock);

    [Fact]
    public void Traffic_starts_on_the_relay_at_once_while_every_candidate_is_pinged_and_the_peer_is_called()
    {
        PathManager manager = Started();

        Assert.Equal([(TimeSpan.FromTicks(_clock.GetTimestamp()), (PathAddress?)Relay)], _actions.Switches);
        Assert.Equal(Relay, manager.CurrentPath);
        Assert.Equal(
            new[] { PathAddress.Direct(PeerLan), PathAddress.Direct(PeerPublic) }.OrderBy(p => p.ToString()),
            _actions.Pings.Select(p => p.Path).OrderBy(p => p.ToString()));
        (PathAddress via, CallMeMaybe message) = Assert.Single(_actions.CallMeMaybes);
        Assert.Equal(Relay, via);
        Assert.Equal([PathCandidate.Local(OurLan), PathCandidate.Reflexive(OurPublic)], message.Candidates);
        Assert.Equal(0, message.ProbePorts);
    }

    [Fact]
    public void The_first_pong_wins_and_a_similar_later_one_does_not_replace_it()
    {
        PathManager manager = Started();
        PathTxId toPublic = _actions.LastPingTo(PathAddress.Direct(PeerPublic));
        PathTxId toLan = _actions.LastPingTo(PathAddress.Direct(PeerLan));

        Advance(40);
        manager.OnPong(toPublic, PathAddress.Direct(PeerPublic));
        Assert.Equal(PathAddress.Direct(PeerPublic), manager.CurrentPath);
        Assert.Equal(PathAddress.Direct(PeerPublic), _actions.Switches[^1].Path);

        Advance(5); // the LAN path answers at 45 ms: similar, not a 2/3 improvement... but it is a LAN path
        manager.OnPong(toLan, PathAddress.Direct(PeerLan));
        Assert.Equal(PathAddress.Direct(PeerPublic), manager.CurrentPath); // LAN ties win, but 45 > 40 is no tie
        Assert.Equal(2, _actions.Switches.Count);
    }

    [Fact]
    public void Unknown_and_late_pongs_are_counted_and_ignored()
    {
        PathManager manager = Started();
        manager.OnPong(PathTxId.NewRandom(new Random(99)), PathAddress.Direct(PeerPublic));
        Assert.Equal(1, manager.Counters.PongsUnknown);

        PathTxId txid = _actions.LastPingTo(PathAddress.Direct(PeerPublic));
        Advance(5001);
        manager.OnPong(txid, PathAddress.Direct(PeerPublic));
        Assert.Equal(Relay, manager.CurrentPath);
        Assert.True(manager.Counters.PongsLate + manager.Counters.PongsUnknown == 2); // pruned or late: either way ignored
    }

    [Fact]
    public void A_pong_confirms_a_direct_path_only_when_it_comes_back_over_it()
    {
        PathManager manager = Started();
        PathAddress direct = PathAddress.Direct(PeerPublic);
        PathTxId txid = _actions.LastPingTo(direct);
        Advance(40);
        manager.OnPong(txid, Relay); // the peer answered over the relay: our direction works, its may not
        Assert.Equal(Relay, manager.CurrentPath);
        manager.OnPong(txid, PathAddress.Direct(Endpoint("203.0.113.20", 999), socket: 3)); // another local socket
        Assert.Equal(Relay, manager.CurrentPath);
        Assert.Equal(2, manager.Counters.PongsUnknown);

        manager.OnPong(txid, PathAddress.Direct(Endpoint("203.0.113.20", 999))); // a NAT-rewritten source is fine
        Assert.Equal(direct, manager.CurrentPath);
    }

    [Fact]
    public void Heartbeats_every_second_retry_after_half_a_second_and_the_relay_takes_over_2_s_after_the_last_pong()
    {
        PathManager manager = Started();
        TimeSpan start = _actions.Now;
        Advance(50);
        manager.OnPong(_actions.LastPingTo(PathAddress.Direct(PeerPublic)), PathAddress.Direct(PeerPublic));
        TimeSpan lastPong = _actions.Now;
        int before = _actions.Pings.Count;

        RunUntil(manager, lastPong + TimeSpan.FromSeconds(4));

        PathAddress direct = PathAddress.Direct(PeerPublic);
        TimeSpan[] heartbeats = _actions.Pings.Skip(before).Where(p => p.Path == direct && p.At < lastPong + TimeSpan.FromSeconds(2)).Select(p => p.At - start).ToArray();
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(2)], heartbeats);
        (TimeSpan at, PathAddress? path) = _actions.Switches[^1];
        Assert.Equal(Relay, path);
        Assert.Equal(lastPong + TimeSpan.FromSeconds(2), at);
        Assert.Equal(1, manager.Counters.DirectPathsLost);

        // ... and looks again at once: a discovery round and a call-me-maybe at the moment of loss.
        Assert.Contains(_actions.Pings, p => p.At == at && p.Path == PathAddress.Direct(PeerLan));
        Assert.Equal(2, _actions.CallMeMaybes.Count);
    }

    [Fact]
    public void Answered_heartbeats_keep_the_path_and_come_once_a_second()
    {
        PathManager manager = Started();
        PathAddress direct = PathAddress.Direct(PeerPublic);
        Advance(50);
        manager.OnPong(_actions.LastPingTo(direct), direct);
        int before = _actions.Pings.Count(p => p.Path == direct);
        for (int i = 0; i < 60; i++)
        {
            RunUntil(manager, _actions.Now + TimeSpan.FromSeconds(1) - TimeSpan.FromMilliseconds(50));
            Advance(50);
            manager.OnPong(_actions.LastPingTo(direct), direct);
            manager.OnDataSent();
        }

        Assert.Equal(direct, manager.CurrentPath);
        Assert.InRange(_actions.Pings.Count(p => p.Path == direct) - before, 59, 61);
        Assert.Equal(2, _actions.Switches.Count);
    }

    [Fact]
    public void Discovery_backs_off_5_10_20_30_30_seconds_on_the_relay()
    {
        PathManager manager = Started();
        TimeSpan start = _actions.Now;
        for (int second = 1; second <= 130; second++)
        {
            RunUntil(manager, start + TimeSpan.FromSeconds(second));
            manager.OnDataSent(); // stay active: data keeps flowing over the relay
        }

        TimeSpan[] rounds = _actions.Pings.Where(p => p.Path == PathAddress.Direct(PeerLan)).Select(p => p.At - start).ToArray();
        Assert.Equal(new[] { 0, 5, 15, 35, 65, 95, 125 }.Select(s => TimeSpan.FromSeconds(s)), rounds);
        Assert.Equal(7, _actions.CallMeMaybes.Count);
        Assert.Equal(7, manager.Counters.DiscoveryRounds);
    }

    [Fact]
    public void An_idle_session_stops_discovery()
    {
        PathManager manager = Started();
        TimeSpan start = _actions.Now;
        RunUntil(manager, start + TimeSpan.FromMinutes(10));

        // Active for 45 s after creation: rounds at 0, 5, 15, 35; nothing after, and nothing to wake up for.
        Assert.Equal(4, _actions.Pings.Count(p => p.Path == PathAddress.Direct(PeerLan)));
        Assert.Null(manager.NextWakeAt);
    }

    [Fact]
    public void An_idle_direct_path_is_pinged_every_20_s_and_must_answer_within_2_5_s_once_traffic_resumes()
    {
        PathManager manager = Started();
        PathAddress direct = PathAddress.Direct(PeerPublic);
        Advance(50);
        manager.OnPong(_actions.LastPingTo(direct), direct);

        // Answer every ping for two minutes without data: after 45 s the session is idle.
        TimeSpan end = _actions.Now + TimeSpan.FromMinutes(2);
        int answered = 0;
        while (_actions.Now < end)
        {
            int seen = _actions.Pings.Count;
            RunUntil(manager, manager.NextWakeAt!.Value);
            if (_actions.Pings.Count > seen && _actions.Pings[^1].Path == direct)
            {
                Advance(50);
                manager.OnPong(_actions.Pings[^1].TxId, direct);
                answered++;
            }
        }

        TimeSpan[] times = _actions.Pings.Where(p => p.Path == direct).Select(p => p.At).ToArray();
        TimeSpan[] gaps = times.Zip(times.Skip(1), (x, y) => y - x).ToArray();
        Assert.True(gaps[^1] == TimeSpan.FromSeconds(20), "gaps: " + string.Join(", ", gaps.Select(g => g.TotalSeconds)));
        Assert.True(gaps.Max() <= TimeSpan.FromSeconds(20));
        Assert.Equal(direct, manager.CurrentPath);
        Assert.True(answered > 5);

        // The path dies; 10 s later (before the next keepalive) traffic resumes: a heartbeat goes out at
        // once, and with no answer the relay takes over 2 s after the resumption.
        Advance(10_000);
        TimeSpan resumed = _actions.Now;
        int pingsBefore = _actions.Pings.Count;
        manager.OnDataSent();
        Assert.Equal(resumed, _actions.Pings.Skip(pingsBefore).First(p => p.Path == direct).At);
        RunUntil(manager, resumed + TimeSpan.FromSeconds(3));
        Assert.Equal((resumed + TimeSpan.FromSeconds(2), (PathAddress?)Relay), _actions.Switches[^1]);
    }

    [Fact]
    public void A_call_me_maybe_makes_us_probe_its_candidates_without_calling_back_and_rounds_are_spaced()
    {
        PathManager manager = new(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetLocalCandidates([PathCandidate.Reflexive(OurPublic)], NatMapping.EndpointIndependent);
        manager.SetCandidates([PathCandidate.Relay("relay1")], NatMapping.EndpointIndependent); // the peer's record has no endpoints yet
        int callsBefore = _actions.CallMeMaybes.Count;
        Advance(100);

        manager.OnCallMeMaybe(new CallMeMaybe([PathCandidate.Reflexive(PeerPublic)]));
        Assert.Single(_actions.Pings, p => p.Path == PathAddress.Direct(PeerPublic));
        Assert.Equal(callsBefore, _actions.CallMeMaybes.Count);
        Assert.Contains(manager.Candidates, c => c.Address == PathAddress.Direct(PeerPublic) && c.Kind == PathCandidateKind.Reflexive);

        Advance(200);
        manager.OnCallMeMaybe(new CallMeMaybe([PathCandidate.Reflexive(PeerPublic), PathCandidate.Local(PeerLan)]));
        Assert.Single(_actions.Pings, p => p.Path == PathAddress.Direct(PeerPublic)); // deferred: rounds ≥ 1 s apart
        RunUntil(manager, _actions.Now + TimeSpan.FromSeconds(1));
        Assert.Equal(2, _actions.Pings.Count(p => p.Path == PathAddress.Direct(PeerPublic)));
        Assert.Contains(_actions.Pings, p => p.Path == PathAddress.Direct(PeerLan));
    }

    [Fact]
    public void A_received_ping_is_answered_learned_and_pinged_back_unless_the_path_is_confirmed()
    {
        PathManager manager = Started();
        UdpEndpoint source = Endpoint("203.0.113.20", 3333); // the peer's real source: a peer-reflexive candidate
        PathTxId theirs = PathTxId.NewRandom(new Random(2));
        int before = _actions.Pings.Count;

        manager.OnPingReceived(theirs, PathAddress.Direct(source));
        Assert.Equal((PathAddress.Direct(source), theirs), _actions.Pongs[^1]);
        Assert.Contains(manager.Candidates, c => c.Address == PathAddress.Direct(source) && c.Kind == PathCandidateKind.PeerReflexive);
        Assert.Equal(PathAddress.Direct(source), _actions.Pings[^1].Path);
        Assert.Equal(before + 1, _actions.Pings.Count);

        Advance(30);
        manager.OnPong(_actions.Pings[^1].TxId, PathAddress.Direct(source));
        Assert.Equal(PathAddress.Direct(source), manager.CurrentPath);
        int now = _actions.Pings.Count;
        manager.OnPingReceived(PathTxId.NewRandom(new Random(3)), PathAddress.Direct(source));
        Assert.Equal(now, _actions.Pings.Count); // confirmed: pong only
        Assert.Equal(2, _actions.Pongs.Count);
    }

    [Fact]
    public void Triggered_pings_are_rate_limited()
    {
        PathManager manager = Started();
        var random = new Random(4);
        for (int port = 1; port <= 30; port++)
        {
            manager.OnPingReceived(PathTxId.NewRandom(random), PathAddress.Direct(Endpoint("203.0.113.20", 5000 + port)));
        }

        Assert.Equal(30, _actions.Pongs.Count); // every ping is answered
        Assert.Equal(20, manager.Counters.TriggeredPings); // burst: 2 s worth at 10/s
        Assert.Equal(10, manager.Counters.TriggeredPingsSuppressed);
    }

    [Fact]
    public void A_better_direct_path_needs_a_two_thirds_rtt_and_a_second_pong()
    {
        var manager = new PathManager(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetLocalCandidates([PathCandidate.Reflexive(OurPublic)], NatMapping.EndpointIndependent);
        PathCandidate slow = PathCandidate.Reflexive(PeerPublic);
        PathCandidate middle = PathCandidate.Reflexive(Endpoint("198.51.100.7", 41641));
        PathCandidate fast = PathCandidate.Local(PeerLan);
        manager.SetCandidates([slow, PathCandidate.Relay("relay1")], NatMapping.EndpointIndependent);
        Advance(90);
        manager.OnPong(_actions.LastPingTo(slow.Address), slow.Address);
        Assert.Equal(slow.Address, manager.CurrentPath);

        manager.SetCandidates([slow, middle, PathCandidate.Relay("relay1")], NatMapping.EndpointIndependent); // probed at once
        Advance(70);
        manager.OnPong(_actions.LastPingTo(middle.Address), middle.Address); // 70 ms: not below 2/3 × 90 = 60 ms
        Assert.Equal(slow.Address, manager.CurrentPath);
        Assert.Single(_actions.Pings, p => p.Path == middle.Address); // not even worth a confirmation

        manager.SetCandidates([slow, middle, fast, PathCandidate.Relay("relay1")], NatMapping.EndpointIndependent);
        Advance(20);
        manager.OnPong(_actions.LastPingTo(fast.Address), fast.Address); // 20 ms: better, but one sample
        Assert.Equal(slow.Address, manager.CurrentPath);
        Assert.Equal(2, _actions.Pings.Count(p => p.Path == fast.Address)); // confirmation asked at once
        Advance(20);
        manager.OnPong(_actions.LastPingTo(fast.Address), fast.Address);
        Assert.Equal(fast.Address, manager.CurrentPath);
        Assert.Equal([Relay, slow.Address, fast.Address], _actions.Switches.Select(x => x.Path!.Value));
    }

    [Fact]
    public void When_the_direct_path_dies_another_recently_confirmed_one_takes_over_instead_of_the_relay()
    {
        // The peer's NAT rebinds: its pings now come from a new source, which we confirm; the old path goes silent.
        PathManager manager = Started();
        PathAddress old = PathAddress.Direct(PeerPublic);
        PathAddress rebound = PathAddress.Direct(Endpoint("203.0.113.20", 50123));
        Advance(40);
        manager.OnPong(_actions.LastPingTo(old), old);
        Advance(1000);
        manager.OnPingReceived(PathTxId.NewRandom(new Random(99)), rebound);
        PathTxId back = _actions.LastPingTo(rebound); // unconfirmed source: pinged back
        Advance(50);
        manager.OnPong(back, rebound);
        Assert.Equal(old, manager.CurrentPath); // confirmed, but not better

        RunUntil(manager, _actions.Now + TimeSpan.FromSeconds(1)); // past the old path's trust, within the new one's
        Assert.Equal([Relay, old, rebound], _actions.Switches.Select(x => x.Path!.Value));
        Assert.Equal(TimeSpan.FromMilliseconds(40) + PathConfig.Default.DirectPathTimeout, _actions.Switches[^1].At - _actions.Switches[0].At);
        Assert.Equal(1, manager.Counters.DirectPathsLost);
    }

    [Fact]
    public void Data_over_the_relay_while_direct_checks_the_direct_path_at_once()
    {
        PathManager manager = Started();
        PathAddress direct = PathAddress.Direct(PeerPublic);
        Advance(40);
        manager.OnPong(_actions.LastPingTo(direct), direct);
        Advance(600);
        int before = _actions.Pings.Count;
        manager.OnDataReceived(Relay);
        Assert.Equal(direct, _actions.Pings.Skip(before).Single().Path);
        manager.OnDataReceived(Relay); // not again within the retry interval
        Assert.Equal(before + 1, _actions.Pings.Count);
    }

    [Fact]
    public void Data_from_an_unconfirmed_direct_endpoint_gets_it_probed()
    {
        PathManager manager = Started();
        UdpEndpoint roamed = Endpoint("198.51.100.77", 6000);
        int before = _actions.Pings.Count;
        manager.OnDataReceived(PathAddress.Direct(roamed));
        Assert.Equal(PathAddress.Direct(roamed), _actions.Pings.Skip(before).Single().Path);
    }

    [Fact]
    public void A_meshrelay_is_preferred_over_a_peer_relay_and_a_peer_relay_is_used_when_there_is_none()
    {
        MemberId member = new(new byte[32]);
        PathManager manager = new(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetCandidates([PathCandidate.Reflexive(PeerPublic), PathCandidate.PeerRelay(member)], NatMapping.EndpointIndependent);
        Assert.Equal(PathAddress.PeerRelay(member), manager.CurrentPath);
        manager.SetCandidates([PathCandidate.PeerRelay(member), PathCandidate.Reflexive(PeerPublic), PathCandidate.Relay("r2"), PathCandidate.Relay("r3")], NatMapping.EndpointIndependent);
        Assert.Equal(PathAddress.Relay("r2"), manager.CurrentPath);
        Assert.Equal([PathAddress.PeerRelay(member), PathAddress.Relay("r2")], _actions.Switches.Select(s => s.Path!.Value));
    }

    [Fact]
    public void With_no_relay_and_no_direct_path_the_data_plane_is_told_nothing_until_a_path_answers()
    {
        PathManager manager = new(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetCandidates([PathCandidate.Reflexive(PeerPublic)], NatMapping.EndpointIndependent);
        Assert.Null(manager.CurrentPath);
        Assert.Empty(_actions.Switches);
        Assert.Empty(_actions.CallMeMaybes); // nowhere to send one
        Advance(40);
        manager.OnPong(_actions.LastPingTo(PathAddress.Direct(PeerPublic)), PathAddress.Direct(PeerPublic));
        Assert.Equal(PathAddress.Direct(PeerPublic), Assert.Single(_actions.Switches).Path);
        RunUntil(manager, _actions.Now + TimeSpan.FromSeconds(3));
        Assert.Null(_actions.Switches[^1].Path); // the path died and there is no relay: "no path"
    }

    [Fact]
    public void Inconsistent_candidates_and_configurations_are_rejected_with_every_problem_named()
    {
        PathManager manager = new(PathConfig.Default, _actions, _clock, new Random(1));
        var bad = new PathCandidate(PathCandidateKind.Relay, PathAddress.Direct(PeerPublic));
        ArgumentException e = Assert.Throws<ArgumentException>(() => manager.SetCandidates([bad], NatMapping.Unknown));
        Assert.Contains("does not match", e.Message);
        Assert.Throws<ArgumentException>(() => manager.SetLocalCandidates([PathCandidate.Relay("r")], NatMapping.Unknown));

        PathConfig config = PathConfig.Default with
        {
            DirectPathTimeout = TimeSpan.FromSeconds(1),
            IdleKeepaliveInterval = TimeSpan.FromSeconds(40),
            SwitchRttRatio = 1.5,
            HardNatProbes = 70_000,
        };
        IReadOnlyList<string> errors = config.Validate();
        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, m => m.StartsWith(nameof(PathConfig.DirectPathTimeout), StringComparison.Ordinal));
        Assert.Contains(errors, m => m.StartsWith(nameof(PathConfig.IdleKeepaliveInterval), StringComparison.Ordinal) && m.Contains("30 s"));
        Assert.Contains(errors, m => m.StartsWith(nameof(PathConfig.SwitchRttRatio), StringComparison.Ordinal));
        Assert.Contains(errors, m => m.StartsWith(nameof(PathConfig.HardNatProbes), StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new PathManager(config, _actions, _clock, new Random(1)));
        Assert.Empty(PathConfig.Default.Validate());
    }

    [Theory]
    [InlineData(PathCandidateKind.Reflexive, 59, PathCandidateKind.Reflexive, 90, true)] // 59 < 60
    [InlineData(PathCandidateKind.Reflexive, 60, PathCandidateKind.Reflexive, 90, false)] // needs strictly below 2/3
    [InlineData(PathCandidateKind.Local, 90, PathCandidateKind.Reflexive, 90, true)] // LAN wins ties
    [InlineData(PathCandidateKind.Local, 91, PathCandidateKind.Reflexive, 90, false)]
    [InlineData(PathCandidateKind.Reflexive, 59, PathCandidateKind.Local, 90, true)] // a LAN path is not sacred
    [InlineData(PathCandidateKind.Reflexive, 61, PathCandidateKind.Local, 90, false)]
    [InlineData(PathCandidateKind.Local, 10, PathCandidateKind.Local, 16, true)]
    [InlineData(PathCandidateKind.Mapped, 20, PathCandidateKind.PeerReflexive, 20, false)]
    internal void Hysteresis_rule(PathCandidateKind candidate, long candidateRtt, PathCandidateKind current, long currentRtt, bool better)
    {
        Assert.Equal(better, PathPreference.IsBetter(candidate, candidateRtt, current, currentRtt, 2.0 / 3.0));
    }

    [Fact]
    public void The_hysteresis_rule_never_holds_both_ways()
    {
        PathCandidateKind[] kinds = Enum.GetValues<PathCandidateKind>().Where(k => k <= PathCandidateKind.PeerReflexive).ToArray();
        Gen<(PathCandidateKind, PathCandidateKind, int, int)> pairs =
            from k1 in Gen.Elements(kinds)
            from k2 in Gen.Elements(kinds)
            from r1 in Gen.Choose(0, 1_000_000)
            from r2 in Gen.Choose(0, 1_000_000)
            select (k1, k2, r1, r2);
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(pairs), p =>
            !(PathPreference.IsBetter(p.Item1, p.Item3, p.Item2, p.Item4, 2.0 / 3.0) && PathPreference.IsBetter(p.Item2, p.Item4, p.Item1, p.Item3, 2.0 / 3.0))));
    }

    [Theory]
    [InlineData(NatMapping.EndpointDependent, NatMapping.EndpointIndependent, HardNatRole.OpenPorts)]
    [InlineData(NatMapping.EndpointIndependent, NatMapping.EndpointDependent, HardNatRole.Spray)]
    [InlineData(NatMapping.EndpointDependent, NatMapping.EndpointDependent, HardNatRole.None)]
    [InlineData(NatMapping.EndpointDependent, NatMapping.None, HardNatRole.None)]
    [InlineData(NatMapping.None, NatMapping.EndpointDependent, HardNatRole.None)]
    [InlineData(NatMapping.EndpointIndependent, NatMapping.EndpointIndependent, HardNatRole.None)]
    [InlineData(NatMapping.Unknown, NatMapping.EndpointIndependent, HardNatRole.None)]
    [InlineData(NatMapping.EndpointDependent, NatMapping.UdpBlocked, HardNatRole.None)]
    public void Hard_nat_roles(NatMapping local, NatMapping peer, HardNatRole role) => Assert.Equal(role, HardNat.RoleFor(local, peer));

    [Fact]
    public void Call_me_maybes_carry_our_nat_mapping_and_the_peers_sets_our_role_when_its_record_says_nothing()
    {
        PathManager manager = new(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetLocalCandidates([PathCandidate.Reflexive(OurPublic)], NatMapping.EndpointIndependent);
        manager.SetCandidates([PathCandidate.Reflexive(PeerPublic), PathCandidate.Relay("relay1")], NatMapping.Unknown);
        Assert.Equal(HardNatRole.None, manager.HardNatRole);
        Assert.Equal(NatMapping.EndpointIndependent, _actions.CallMeMaybes[^1].Message.Nat);

        manager.OnCallMeMaybe(new CallMeMaybe([PathCandidate.Reflexive(PeerPublic)], Nat: NatMapping.EndpointDependent));
        Assert.Equal(HardNatRole.Spray, manager.HardNatRole);

        // A record update without a NAT mapping keeps what the peer measured; a call-me-maybe from an older peer too.
        manager.SetCandidates([PathCandidate.Reflexive(PeerPublic), PathCandidate.Relay("relay1")], NatMapping.Unknown);
        manager.OnCallMeMaybe(new CallMeMaybe([PathCandidate.Reflexive(PeerPublic)]));
        Assert.Equal(HardNatRole.Spray, manager.HardNatRole);
    }

    [Fact]
    public void On_a_direct_path_a_change_of_our_nat_mapping_is_announced_at_once()
    {
        var manager = new PathManager(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetLocalCandidates([PathCandidate.Reflexive(OurPublic)], NatMapping.Unknown);
        PathCandidate peer = PathCandidate.Reflexive(PeerPublic);
        manager.SetCandidates([peer, PathCandidate.Relay("relay1")], NatMapping.Unknown);
        Advance(10);
        manager.OnPong(_actions.LastPingTo(peer.Address), peer.Address);
        Assert.Equal(peer.Address, manager.CurrentPath);
        int sent = _actions.CallMeMaybes.Count;

        manager.SetLocalCandidates([PathCandidate.Reflexive(OurPublic)], NatMapping.None);
        Assert.Equal(sent + 1, _actions.CallMeMaybes.Count);
        (PathAddress via, CallMeMaybe message) = _actions.CallMeMaybes[^1];
        Assert.Equal(peer.Address, via);
        Assert.Equal(NatMapping.None, message.Nat);
    }

    [Fact]
    public void The_hard_side_opens_its_ports_as_soon_as_a_call_me_maybe_says_the_peer_is_easy()
    {
        PathManager manager = new(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetLocalCandidates([PathCandidate.Reflexive(OurPublic)], NatMapping.EndpointDependent);
        manager.SetCandidates([PathCandidate.Reflexive(PeerPublic), PathCandidate.Relay("relay1")], NatMapping.Unknown);
        TimeSpan start = _actions.Now;
        RunUntil(manager, start + TimeSpan.FromSeconds(2)); // the first round found nothing; the peer's NAT is unknown
        Assert.Empty(_actions.Opened);

        manager.OnCallMeMaybe(new CallMeMaybe([PathCandidate.Reflexive(PeerPublic)], Nat: NatMapping.EndpointIndependent));
        RunUntil(manager, start + TimeSpan.FromSeconds(3) + TimeSpan.FromMilliseconds(1)); // HardNatStartDelay later, not at the next round (5 s)
        Assert.Equal([256], _actions.Opened);
    }

    [Fact]
    public void The_hard_side_opens_256_sockets_pings_from_each_and_keeps_only_the_winner()
    {
        PathManager manager = new(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetLocalCandidates([PathCandidate.Local(OurLan), PathCandidate.Reflexive(OurPublic)], NatMapping.EndpointDependent);
        manager.SetCandidates([PathCandidate.Local(PeerLan), PathCandidate.Reflexive(PeerPublic), PathCandidate.Relay("relay1")], NatMapping.EndpointIndependent);
        TimeSpan start = _actions.Now;
        Assert.Equal(HardNatRole.OpenPorts, manager.HardNatRole);
        Assert.Empty(_actions.Opened);

        RunUntil(manager, start + TimeSpan.FromSeconds(1)); // HardNatStartDelay after the unanswered round
        Assert.Equal([256], _actions.Opened);
        var fromProbeSockets = _actions.Pings.Where(p => p.Path.Socket > 0).ToList();
        Assert.Equal(256, fromProbeSockets.Count);
        Assert.Equal(Enumerable.Range(1, 256), fromProbeSockets.Select(p => p.Path.Socket).Order());
        Assert.All(fromProbeSockets, p => Assert.Equal(PeerPublic, p.Path.Endpoint));
        Assert.All(fromProbeSockets, p => Assert.Equal(start + TimeSpan.FromSeconds(1), p.At));
        (PathAddress via, CallMeMaybe call) = _actions.CallMeMaybes[^1];
        Assert.Equal(Relay, via);
        Assert.Equal(256, call.ProbePorts);
        Assert.Equal(256, manager.OpenProbeSocketCount);

        // An easy-side probe lands on probe socket 17.
        Advance(300);
        PathAddress winner = PathAddress.Direct(PeerPublic, socket: 17);
        manager.OnPingReceived(PathTxId.NewRandom(new Random(9)), winner);
        Assert.Equal(winner, _actions.Pongs[^1].Path);
        Assert.Equal(winner, _actions.Pings[^1].Path); // pinged back from the same socket
        Advance(100);
        manager.OnPong(_actions.Pings[^1].TxId, winner);

        Assert.Equal(winner, manager.CurrentPath);
        Assert.Equal([17], _actions.Closed);
        Assert.Equal(0, manager.OpenProbeSocketCount);
        Assert.Equal(1, manager.Counters.HardNatSuccesses);
    }

    [Fact]
    public void A_failed_hard_nat_attempt_closes_its_sockets_and_waits_the_retry_interval()
    {
        PathManager manager = new(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetLocalCandidates([PathCandidate.Reflexive(OurPublic)], NatMapping.EndpointDependent);
        manager.SetCandidates([PathCandidate.Reflexive(PeerPublic), PathCandidate.Relay("relay1")], NatMapping.EndpointIndependent);
        TimeSpan start = _actions.Now;
        for (int i = 0; i < 20; i++)
        {
            RunUntil(manager, start + TimeSpan.FromSeconds(10 * (i + 1)));
            manager.OnDataSent();
        }

        Assert.Equal([0], _actions.Closed.Take(1));
        int pingsAt10 = _actions.Pings.Count(p => p.Path.Socket > 0 && p.At == start + TimeSpan.FromSeconds(11));
        Assert.Equal(256, pingsAt10); // refreshed after 10 s
        // Attempts: open at 1 s, give up at 16 s; each next one waits the retry interval after the last gave up.
        TimeSpan retry = PathConfig.Default.HardNatRetryInterval;
        TimeSpan attempt = PathConfig.Default.HardNatAttemptDuration;
        int expected = 1 + (int)((TimeSpan.FromSeconds(200) - TimeSpan.FromSeconds(16)) / (retry + attempt + TimeSpan.FromSeconds(10)));
        Assert.InRange(_actions.Opened.Count, Math.Max(2, expected), 1 + (int)((TimeSpan.FromSeconds(200) - TimeSpan.FromSeconds(16)) / retry));
        List<TimeSpan> opened = [.. _actions.Pings.Where(p => p.Path.Socket == 1).Select(p => p.At)];
        TimeSpan secondAttempt = opened.First(at => at > start + TimeSpan.FromSeconds(16));
        Assert.True(secondAttempt >= start + TimeSpan.FromSeconds(16) + retry, $"second attempt at {secondAttempt - start}");
    }

    [Fact]
    public void The_easy_side_sprays_its_probes_to_distinct_ports_at_the_configured_pace_and_stops_at_the_first_pong()
    {
        PathManager manager = new(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetLocalCandidates([PathCandidate.Reflexive(OurPublic)], NatMapping.EndpointIndependent);
        manager.SetCandidates([PathCandidate.Reflexive(PeerPublic), PathCandidate.Relay("relay1")], NatMapping.EndpointDependent);
        Assert.Equal(HardNatRole.Spray, manager.HardNatRole);
        int before = _actions.Pings.Count;
        TimeSpan start = _actions.Now;

        manager.OnCallMeMaybe(new CallMeMaybe([PathCandidate.Reflexive(PeerPublic)], ProbePorts: 256));
        Assert.True(manager.IsSpraying);
        RunUntil(manager, start + TimeSpan.FromSeconds(6));
        manager.OnDataSent();

        var spray = _actions.Pings.Skip(before).Where(p => p.Path.Endpoint.ToIPAddress().Equals(IPAddress.Parse("203.0.113.20")) && p.Path.Endpoint.Port != PeerPublic.Port).ToList();
        int probes = PathConfig.Default.HardNatProbes;
        int rate = PathConfig.Default.HardNatProbesPerSecond;
        Assert.Equal(probes, spray.Count);
        Assert.Equal(probes, spray.Select(p => p.Path.Endpoint.Port).Distinct().Count());
        Assert.All(spray, p => Assert.InRange(p.Path.Endpoint.Port, 1024, 65535));
        Assert.All(spray, p => Assert.Equal(0, p.Path.Socket));
        for (int i = 0; i < spray.Count; i++)
        {
            Assert.Equal(start + TimeSpan.FromTicks(i * TimeSpan.TicksPerSecond / rate), spray[i].At);
        }

        Assert.False(manager.IsSpraying);

        // Again, answered after 100 probes: the rest are not sent.
        var clock = new ManualTimeProvider();
        var actions = new RecordingActions(clock);
        PathManager second = new(PathConfig.Default, actions, clock, new Random(2));
        second.SetLocalCandidates([PathCandidate.Reflexive(OurPublic)], NatMapping.EndpointIndependent);
        second.SetCandidates([PathCandidate.Reflexive(PeerPublic), PathCandidate.Relay("relay1")], NatMapping.EndpointDependent);
        second.OnCallMeMaybe(new CallMeMaybe([PathCandidate.Reflexive(PeerPublic)], ProbePorts: 256));
        while (second.Counters.HardNatProbesSent < 100)
        {
            clock.Advance(second.NextWakeAt!.Value - TimeSpan.FromTicks(clock.GetTimestamp()));
            second.Tick();
        }

        (TimeSpan _, PathAddress hit, PathTxId txid) = actions.Pings[^1];
        second.OnPong(txid, hit);
        Assert.Equal(hit, second.CurrentPath);
        Assert.False(second.IsSpraying);
        clock.Advance(TimeSpan.FromSeconds(10));
        second.Tick();
        Assert.Equal(100, second.Counters.HardNatProbesSent);
        Assert.Equal(1, second.Counters.HardNatSuccesses);
    }

    [Fact]
    public void Stop_closes_probe_sockets()
    {
        PathManager manager = new(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetLocalCandidates([PathCandidate.Reflexive(OurPublic)], NatMapping.EndpointDependent);
        manager.SetCandidates([PathCandidate.Reflexive(PeerPublic), PathCandidate.Relay("relay1")], NatMapping.EndpointIndependent);
        RunUntil(manager, _actions.Now + TimeSpan.FromSeconds(1));
        Assert.Equal(256, manager.OpenProbeSocketCount);
        manager.Stop();
        Assert.Equal([0], _actions.Closed);
        Assert.Null(manager.NextWakeAt);
    }

    private PathManager Started()
    {
        var manager = new PathManager(PathConfig.Default, _actions, _clock, new Random(1));
        manager.SetLocalCandidates([PathCandidate.Local(OurLan), PathCandidate.Reflexive(OurPublic)], NatMapping.EndpointIndependent);
        manager.SetCandidates([PathCandidate.Local(PeerLan), PathCandidate.Reflexive(PeerPublic), PathCandidate.Relay("relay1")], NatMapping.EndpointIndependent);
        return manager;
    }

    private void Advance(int milliseconds) => _clock.Advance(TimeSpan.FromMilliseconds(milliseconds));

    /// <summary>Moves the clock from wake-up to wake-up, ticking the manager each time, until <paramref name="until"/>.</summary>
    private void RunUntil(PathManager manager, TimeSpan until)
    {
        while (manager.NextWakeAt is { } next && next <= until)
        {
            TimeSpan now = TimeSpan.FromTicks(_clock.GetTimestamp());
            if (next > now)
            {
                _clock.Advance(next - now);
            }

            manager.Tick();
        }

        TimeSpan end = TimeSpan.FromTicks(_clock.GetTimestamp());
        if (until > end)
        {
            _clock.Advance(until - end);
        }

        manager.Tick();
    }

    private static UdpEndpoint Endpoint(string address, int port) => new(IPAddress.Parse(address), port);
}
