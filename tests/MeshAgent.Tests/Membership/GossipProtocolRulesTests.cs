using MeshAgent.Engine.Membership;
using static MeshAgent.Tests.Membership.EngineHarness;
using static MeshAgent.Tests.Membership.GossipTestFrames;

namespace MeshAgent.Tests.Membership;

/// <summary>The SWIM/Lifeguard state rules, one engine at a time (GossipEngine.State.cs has the table).</summary>
public sealed class GossipProtocolRulesTests
{
    private static readonly MemberId X = Id(5);
    private static readonly MemberId A = Id(1);
    private static readonly MemberId B = Id(2);
    private static readonly MemberId C = Id(3);

    [Fact]
    public void A_suspected_member_refutes_with_a_higher_incarnation_and_raises_its_awareness()
    {
        var h = new EngineHarness(10, incarnation: 7);
        h.Deliver(A, Part(new SuspectMessage(h.Self, 7, A)));

        Assert.Equal(8u, h.Engine.Incarnation);
        Assert.Equal(1, h.Engine.LocalHealthScore);
        Assert.Equal(MemberState.Alive, h.StateOf(h.Self));

        // The refutation goes out piggybacked: an alive about us at 8, without the payload.
        h.Sent.Clear();
        h.Deliver(A, Part(new PingMessage(99)));
        (MemberId to, byte[] body) = Assert.Single(h.SentParts(GossipMessageType.Alive));
        Assert.Equal(A, to);
        Assert.True(AliveMessage.TryRead(body, out AliveMessage alive));
        Assert.Equal(h.Self, alive.Member);
        Assert.Equal(8u, alive.Incarnation);
        Assert.True(alive.PayloadOmitted);
    }

    [Fact]
    public void Refutation_jumps_above_the_accused_incarnation_and_ignores_older_accusations()
    {
        var h = new EngineHarness(10, incarnation: 3);
        h.Deliver(A, Part(new SuspectMessage(h.Self, 2, A)));
        Assert.Equal(3u, h.Engine.Incarnation);

        h.Deliver(A, Part(new DeadMessage(h.Self, 41, A)));
        Assert.Equal(42u, h.Engine.Incarnation);

        // An alive about us from an older life of ours (before a restart) is refuted too.
        h.Deliver(A, Alive(h.Self, 50, Payload(0, 1)));
        Assert.Equal(51u, h.Engine.Incarnation);
    }

    [Fact]
    public void Incarnation_orders_alive_suspect_and_dead()
    {
        var h = new EngineHarness(10);
        h.Deliver(A, Part(new SuspectMessage(X, 0, A)));
        Assert.Equal(MemberState.Alive, h.StateOf(X)); // older incarnation: ignored

        h.Deliver(A, Part(new SuspectMessage(X, 1, A)));
        Assert.Equal(MemberState.Suspect, h.StateOf(X));

        h.Deliver(B, Alive(X, 1, Payload(5, 1)));
        Assert.Equal(MemberState.Suspect, h.StateOf(X)); // same incarnation cannot undo a suspicion

        h.Deliver(X, Alive(X, 2, Payload(5, 1), omitPayload: true));
        Assert.Equal(MemberState.Alive, h.StateOf(X)); // the member's own refutation
        Assert.Equal(2u, h.IncarnationOf(X));

        h.Deliver(A, Part(new DeadMessage(X, 1, A)));
        Assert.Equal(MemberState.Alive, h.StateOf(X)); // a death at the old incarnation is stale

        h.Deliver(A, Part(new DeadMessage(X, 2, A)));
        Assert.Equal(MemberState.Dead, h.StateOf(X));

        h.Deliver(B, Alive(X, 2, Payload(5, 1)));
        Assert.Equal(MemberState.Dead, h.StateOf(X));
        h.Deliver(B, Alive(X, 3, Payload(5, 1)));
        Assert.Equal(MemberState.Alive, h.StateOf(X)); // back, e.g. after a restart
        Assert.Equal(
            [MemberState.Suspect, MemberState.Alive, MemberState.Dead, MemberState.Alive],
            h.Changes.Where(c => c.Member == X).Select(c => c.Current));
    }

    [Fact]
    public void Suspicion_timeout_starts_at_max_without_confirmations()
    {
        var h = new EngineHarness(10);
        TimeSpan max = h.Config.SuspicionMaxTimeout(10);
        TimeSpan start = h.Engine.Now;
        h.Deliver(A, Part(new SuspectMessage(X, 1, A)));

        h.Advance(max - TimeSpan.FromMilliseconds(10));
        Assert.Equal(MemberState.Suspect, h.StateOf(X));
        h.Advance(TimeSpan.FromMilliseconds(20));
        Assert.Equal(MemberState.Dead, h.StateOf(X));
        MemberChange death = h.Changes.Last();
        Assert.Equal((X, MemberState.Dead), (death.Member, death.Current));
        Assert.Equal(1, h.Engine.Counters.DeathsDeclared);
        Assert.InRange(h.Engine.Now - start, max, max + TimeSpan.FromMilliseconds(20));
    }

    [Fact]
    public void Suspicion_timeout_shrinks_to_min_as_independent_members_confirm()
    {
        var h = new EngineHarness(10);
        TimeSpan min = h.Config.SuspicionMinTimeout(10);
        TimeSpan max = h.Config.SuspicionMaxTimeout(10);
        Assert.Equal(2, h.Config.SuspicionConfirmations(10));

        h.Deliver(A, Part(new SuspectMessage(X, 1, A)));
        h.Advance(min + TimeSpan.FromSeconds(1));
        Assert.Equal(MemberState.Suspect, h.StateOf(X));

        // Repeats from the first accuser are not confirmations.
        h.Deliver(B, Part(new SuspectMessage(X, 1, A)));
        h.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(MemberState.Suspect, h.StateOf(X));

        // One confirmation: timeout(1) = max − (max − min) × log 2 / log 3, still ahead.
        h.Deliver(B, Part(new SuspectMessage(X, 1, B)));
        h.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(MemberState.Suspect, h.StateOf(X));

        // The second brings it to min, which has passed: dead now.
        h.Deliver(C, Part(new SuspectMessage(X, 1, C)));
        h.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(MemberState.Dead, h.StateOf(X));
        Assert.True(h.Engine.Now < max, "the confirmations did not shorten the timeout");
    }

    [Fact]
    public void A_confirmation_is_rebroadcast_once_so_others_count_it()
    {
        var h = new EngineHarness(10);
        h.Deliver(A, Part(new SuspectMessage(X, 1, A)));
        h.Deliver(B, Part(new SuspectMessage(X, 1, B)));
        h.Sent.Clear();
        h.Deliver(C, Part(new PingMessage(1)));
        (_, byte[] body) = Assert.Single(h.SentParts(GossipMessageType.Suspect));
        Assert.True(SuspectMessage.TryRead(body, out SuspectMessage queued));
        Assert.Equal(new SuspectMessage(X, 1, B), queued);
    }

    [Fact]
    public void Dynamic_suspicion_formula_matches_lifeguard()
    {
        long min = TimeSpan.FromSeconds(12).Ticks;
        long max = TimeSpan.FromSeconds(72).Ticks;
        Assert.Equal(max, Suspicion.Timeout(0, 2, min, max));
        Assert.Equal(min, Suspicion.Timeout(2, 2, min, max));
        Assert.Equal(min, Suspicion.Timeout(5, 2, min, max));
        // 72 − 60 × ln 2 / ln 3 = 34.1442… s, floored to the millisecond.
        Assert.Equal(TimeSpan.FromMilliseconds(34_144).Ticks, Suspicion.Timeout(1, 2, min, max));
        Assert.Equal(min, Suspicion.Timeout(0, 0, min, max));
    }

    [Fact]
    public void Left_is_not_dead_and_a_left_member_may_come_back()
    {
        var h = new EngineHarness(10);
        h.Deliver(A, Part(new LeftMessage(X, 2)));
        Assert.Equal(MemberState.Left, h.StateOf(X));

        h.Deliver(A, Part(new DeadMessage(X, 2, A)));
        Assert.Equal(MemberState.Left, h.StateOf(X));
        h.Deliver(A, Part(new SuspectMessage(X, 2, A)));
        Assert.Equal(MemberState.Left, h.StateOf(X));
        Assert.DoesNotContain(h.Changes, c => c.Member == X && c.Current == MemberState.Dead);

        h.Deliver(X, Alive(X, 3, Payload(5, 1)));
        Assert.Equal(MemberState.Alive, h.StateOf(X));
    }

    [Fact]
    public void A_leaving_node_announces_left_stops_probing_and_does_not_refute()
    {
        var h = new EngineHarness(10, incarnation: 4);
        h.Advance(TimeSpan.FromSeconds(3));
        Assert.True(h.Engine.Counters.ProbesSent > 0);

        h.Engine.Leave();
        Assert.Equal(MemberState.Left, h.StateOf(h.Self));
        Assert.Equal(5u, h.Engine.Incarnation);
        Assert.True(h.Engine.LeavePending);

        long probes = h.Engine.Counters.ProbesSent;
        h.Deliver(A, Part(new DeadMessage(h.Self, 5, A)));
        Assert.Equal(5u, h.Engine.Incarnation);

        h.Sent.Clear();
        h.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(probes, h.Engine.Counters.ProbesSent);
        List<byte[]> lefts = h.SentParts(GossipMessageType.Left).Select(p => p.Body).ToList();
        Assert.NotEmpty(lefts);
        Assert.All(lefts, body => Assert.Equal(new LeftMessage(h.Self, 5), LeftMessage.TryRead(body, out LeftMessage m) ? m : default));
        Assert.Equal(h.Config.RetransmitLimit(h.Engine.LiveMemberCount), lefts.Count);
        Assert.False(h.Engine.LeavePending);
    }

    [Fact]
    public void Revocation_is_final()
    {
        byte[] proof = [1, 2, 3, 4];
        var h = new EngineHarness(10);
        h.Deliver(A, Revoked(X, proof));
        Assert.Equal(MemberState.Revoked, h.StateOf(X));

        h.Deliver(X, Alive(X, 1000, Payload(5, 9)));
        h.Deliver(A, Alive(X, 1001, Payload(5, 9)));
        h.Deliver(A, Part(new LeftMessage(X, 1002)));
        h.Deliver(A, Part(new DeadMessage(X, 1003, A)));
        h.Deliver(A, Part(new SuspectMessage(X, 1004, A)));
        h.Deliver(A, Revoked(X, [9, 9]));
        Assert.Equal(MemberState.Revoked, h.StateOf(X));
        Assert.False(h.Engine.ImportMember(X, MemberState.Alive, 2000, Payload(5, 10)));
        Assert.Equal(MemberState.Revoked, h.StateOf(X));
        Assert.Single(h.Changes, c => c.Member == X);

        // Frames from the revoked member are refused whole, and it is never probed again.
        long before = h.Engine.Counters[GossipDropReason.RevokedSender];
        h.Deliver(X, Part(new PingMessage(5)));
        Assert.Equal(before + 1, h.Engine.Counters[GossipDropReason.RevokedSender]);
        h.Sent.Clear();
        h.Advance(TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(h.Sent, s => s.To == X);
    }

    [Fact]
    public void A_revocation_of_a_member_never_seen_is_kept_and_blocks_its_join()
    {
        var h = new EngineHarness(3);
        MemberId stranger = Id(77);
        h.Deliver(A, Revoked(stranger, [7]));
        Assert.Equal(MemberState.Revoked, h.StateOf(stranger));
        h.Deliver(stranger, Alive(stranger, 1, Payload(77, 1)));
        Assert.Equal(MemberState.Revoked, h.StateOf(stranger));
    }

    [Fact]
    public void Revocations_and_payloads_pass_the_injected_validators()
    {
        var h = new EngineHarness(3, hooks: new GossipHooks
        {
            ValidateRevocation = (id, proof) => proof.Span.SequenceEqual("root-signed"u8),
            ValidatePayload = (id, payload) => payload.Length > 0 && payload.Span[0] != 0xFF,
        });
        h.Deliver(A, Revoked(B, [1, 2, 3]));
        Assert.Equal(MemberState.Alive, h.StateOf(B));
        Assert.Equal(1, h.Engine.Counters[GossipDropReason.InvalidRevocation]);
        h.Deliver(A, Revoked(B, "root-signed"u8.ToArray()));
        Assert.Equal(MemberState.Revoked, h.StateOf(B));

        MemberId joiner = Id(50);
        h.Deliver(joiner, Alive(joiner, 1, new MemberPayload(1, new byte[] { 0xFF, 1 })));
        Assert.False(h.Engine.TryGetMember(joiner, out _));
        Assert.Equal(1, h.Engine.Counters[GossipDropReason.InvalidPayload]);
        h.Deliver(joiner, Alive(joiner, 1, new MemberPayload(1, new byte[] { 1, 1 })));
        Assert.Equal(MemberState.Alive, h.StateOf(joiner));
    }

    [Fact]
    public void A_newer_payload_version_replaces_the_old_one_and_an_older_is_ignored()
    {
        var h = new EngineHarness(10);
        MemberPayload v2 = Payload(5, 2);
        h.Deliver(X, Alive(X, 2, v2));
        Assert.True(h.Engine.TryGetMember(X, out MemberView view));
        Assert.Equal(2ul, view.Payload!.Version);
        Assert.Equal(v2.Data.ToArray(), view.Payload.Data.ToArray());
        Assert.True(h.Changes.Last().PayloadChanged);

        h.Deliver(A, Alive(X, 3, Payload(5, 1)));
        Assert.Equal(2u, h.IncarnationOf(X));
        Assert.Equal(1, h.Engine.Counters[GossipDropReason.StalePayload]);
    }

    [Fact]
    public void An_alive_without_payload_revives_a_known_member_and_is_ignored_for_a_stranger()
    {
        var h = new EngineHarness(10);
        h.Deliver(A, Part(new SuspectMessage(X, 1, A)));
        // X refutes after publishing payload v2, which we missed: liveness applies at once…
        h.Deliver(X, Alive(X, 3, Payload(5, 2), omitPayload: true));
        Assert.Equal(MemberState.Alive, h.StateOf(X));
        Assert.True(h.Engine.TryGetMember(X, out MemberView view));
        Assert.Equal(1ul, view.Payload!.Version);
        // …and the full record fetched later (anti-entropy) refreshes the payload at the same incarnation.
        h.Deliver(B, Part(new SyncRecordsMessage(0)), Alive(X, 3, Payload(5, 2)));
        Assert.True(h.Engine.TryGetMember(X, out view));
        Assert.Equal(2ul, view.Payload!.Version);

        MemberId stranger = Id(60);
        h.Deliver(stranger, Alive(stranger, 5, Payload(60, 1), omitPayload: true));
        Assert.False(h.Engine.TryGetMember(stranger, out _));
        Assert.Equal(1, h.Engine.Counters[GossipDropReason.PayloadUnknown]);
    }

    [Fact]
    public void A_death_learned_by_anti_entropy_is_only_a_suspicion()
    {
        var h = new EngineHarness(10);
        h.Deliver(A, Part(new SyncRecordsMessage(0)), Part(new DeadMessage(X, 1, A)));
        Assert.Equal(MemberState.Suspect, h.StateOf(X));
        // Anti-entropy records are applied, not re-broadcast.
        Assert.Equal(0, h.Engine.PendingBroadcasts);

        h.Deliver(A, Part(new DeadMessage(X, 1, A)));
        Assert.Equal(MemberState.Dead, h.StateOf(X));
        Assert.Equal(1, h.Engine.PendingBroadcasts);
    }

    [Fact]
    public void A_failed_probe_tries_k_helpers_and_a_second_ping_and_then_suspects()
    {
        var h = new EngineHarness(6);
        h.Responsive.Clear(); // nobody answers: not the target, not the helpers
        while (h.Engine.Counters.ProbesSent == 0)
        {
            h.Advance(TimeSpan.FromMilliseconds(10));
        }

        MemberId target = h.SentParts(GossipMessageType.Ping).Single().To;
        h.Sent.Clear();
        h.Advance(h.Config.ProbeTimeout);
        List<(MemberId To, PingReqMessage Request)> requests = h.SentParts(GossipMessageType.PingReq)
            .Select(p => (p.To, PingReqMessage.TryRead(p.Body, out PingReqMessage m) ? m : default)).ToList();
        Assert.Equal(h.Config.IndirectChecks, requests.Count);
        Assert.Equal(requests.Count, requests.Select(r => r.To).Distinct().Count());
        Assert.All(requests, r => Assert.Equal(target, r.Request.Target));
        Assert.DoesNotContain(requests, r => r.To == target || r.To == h.Self);
        Assert.Equal(target, h.SentParts(GossipMessageType.Ping).Single().To);
        Assert.Equal(MemberState.Alive, h.StateOf(target));

        h.Advance(h.Config.ProbeInterval - h.Config.ProbeTimeout);
        Assert.Equal(MemberState.Suspect, h.StateOf(target));
        // Silent helpers (no nacks either) point at our own link: awareness rose by the 3 missing nacks.
        Assert.Equal(3, h.Engine.LocalHealthScore);
    }

    [Fact]
    public void Helpers_that_nack_keep_a_failed_probe_from_raising_awareness()
    {
        var h = new EngineHarness(6);
        h.Responsive.Clear();
        while (h.Engine.Counters.ProbesSent == 0)
        {
            h.Advance(TimeSpan.FromMilliseconds(10));
        }

        MemberId target = h.SentParts(GossipMessageType.Ping).Single().To;
        uint sequence = h.SentParts(GossipMessageType.Ping).Select(p => PingMessage.TryRead(p.Body, out PingMessage m) ? m.Sequence : 0).Single();
        h.Advance(h.Config.ProbeTimeout);
        foreach ((MemberId helper, _) in h.SentParts(GossipMessageType.PingReq).ToList())
        {
            h.Deliver(helper, Part(GossipMessageType.Nack, [(byte)(sequence >> 24), (byte)(sequence >> 16), (byte)(sequence >> 8), (byte)sequence]));
        }

        h.Advance(h.Config.ProbeInterval - h.Config.ProbeTimeout);
        Assert.Equal(MemberState.Suspect, h.StateOf(target));
        Assert.Equal(0, h.Engine.LocalHealthScore);
        Assert.Equal(3, h.Engine.Counters.NacksReceived);
    }

    [Fact]
    public void Awareness_stretches_the_probe_interval()
    {
        var healthy = new EngineHarness(10);
        healthy.Advance(TimeSpan.FromSeconds(20));
        var sick = new EngineHarness(10);
        sick.Deliver(A, Part(new SuspectMessage(sick.Self, 1, A)));
        sick.Deliver(A, Part(new SuspectMessage(sick.Self, 2, A)));
        sick.Deliver(A, Part(new SuspectMessage(sick.Self, 3, A)));
        Assert.Equal(3, sick.Engine.LocalHealthScore);
        sick.Advance(TimeSpan.FromSeconds(20));
        // Acks bring the score down by one per probe, so the sick node waits 4, 3, 2 s, then 1 s:
        // 6 probes fewer in 20 s.
        Assert.InRange(healthy.Engine.Counters.ProbesSent, 19, 21);
        Assert.InRange(sick.Engine.Counters.ProbesSent, 13, 15);
        Assert.Equal(0, sick.Engine.LocalHealthScore);
    }

    [Fact]
    public void A_suspect_is_told_by_the_probe_itself()
    {
        var h = new EngineHarness(3);
        h.Deliver(B, Part(new SuspectMessage(A, 1, B)));
        h.Sent.Clear();
        h.Advance(TimeSpan.FromSeconds(3));
        // Lifeguard's buddy system: a ping to a suspect carries the suspicion.
        Assert.Contains(h.Sent, s => s.To == A
            && GossipTestFrames.Parts(s.Frame).First().Type == GossipMessageType.Ping
            && GossipTestFrames.Parts(s.Frame).Any(p => p.Type == GossipMessageType.Suspect && SuspectMessage.TryRead(p.Body, out SuspectMessage m) && m.Member == A));
    }

    [Fact]
    public void Ping_req_is_relayed_and_the_ack_forwarded_or_a_nack_sent()
    {
        var h = new EngineHarness(4);
        h.Responsive.Remove(C);
        h.Deliver(A, Part(GossipMessageType.PingReq, Body(new PingReqMessage(4242, 500, B))));
        h.Deliver(A, Part(GossipMessageType.PingReq, Body(new PingReqMessage(4343, 500, C))));
        h.Advance(TimeSpan.FromMilliseconds(450));

        List<uint> acks = h.SentParts(GossipMessageType.Ack).Where(p => p.To == A).Select(p => AckMessage.TryRead(p.Body, out AckMessage m) ? m.Sequence : 0).ToList();
        List<uint> nacks = h.SentParts(GossipMessageType.Nack).Where(p => p.To == A).Select(p => NackMessage.TryRead(p.Body, out NackMessage m) ? m.Sequence : 0).ToList();
        Assert.Equal([4242u], acks);
        Assert.Equal([4343u], nacks);
    }

    private static byte[] Body(PingReqMessage m)
    {
        byte[] body = new byte[PingReqMessage.Size];
        m.Write(body);
        return body;
    }
}
