using MeshAgent.Engine.Membership;
using MeshAgent.Tests.Membership.Simulation;
using Xunit.Abstractions;

namespace MeshAgent.Tests.Membership;

/// <summary>The bounded push-pull (GossipEngine.Sync.cs): it repairs views, and it stays bounded.</summary>
public sealed class AntiEntropyTests(ITestOutputHelper output)
{
    [Fact]
    public void A_view_that_missed_broadcasts_is_repaired_and_nothing_is_rebroadcast()
    {
        var sim = new GossipSimulation(seed: 21, GossipConfig.Lan);
        for (int i = 0; i < 60; i++)
        {
            // Nodes 11..20 refuted something earlier: incarnation 3.
            sim.AddNode(incarnation: i is > 10 and <= 20 ? 3u : 1u);
        }

        SimNode behind = sim.Nodes[0];
        foreach (SimNode node in sim.Nodes)
        {
            foreach (SimNode other in sim.Nodes)
            {
                if (other == node || (node == behind && other.Index <= 10))
                {
                    continue; // "behind" never heard of nodes 1..10
                }

                // Everyone else saw nodes 11..20 refute (incarnation 3); "behind" did not.
                uint incarnation = node == behind ? 1u : other.Engine.Incarnation;
                node.Engine.ImportMember(other.Id, MemberState.Alive, incarnation, other.Payload);
            }
        }

        sim.StartAll();
        Assert.Equal(50, behind.Engine.MemberCount);
        sim.Invoke(behind, e => e.SyncNow(sim.Nodes[30].Id));
        sim.RunFor(TimeSpan.FromSeconds(3));

        Assert.Equal(60, behind.Engine.MemberCount);
        Assert.All(sim.Nodes.Skip(11).Take(10), n => Assert.True(behind.Engine.TryGetMember(n.Id, out MemberView v) && v.Incarnation == 3));
        Assert.Equal(0, behind.Engine.PendingBroadcasts);
        Assert.True(behind.Engine.Counters.SyncRecordsApplied >= 20);
    }

    [Fact]
    public void One_exchange_sends_at_most_the_per_exchange_bound_however_large_the_difference()
    {
        var sim = new GossipSimulation(seed: 22, GossipConfig.Lan);
        SimNode big = sim.AddNode();
        SimNode small = sim.AddNode();
        // 5,000 members only "big" knows (unreachable here; only their records matter).
        var random = new Random(5);
        for (int i = 0; i < 5000; i++)
        {
            byte[] key = new byte[MemberId.Size];
            random.NextBytes(key);
            byte[] data = new byte[256];
            random.NextBytes(data);
            big.Engine.ImportMember(new MemberId(key), MemberState.Alive, 1, new MemberPayload(1, data));
        }

        big.Engine.ImportMember(small.Id, MemberState.Alive, 1, small.Payload);
        small.Engine.ImportMember(big.Id, MemberState.Alive, 1, big.Payload);
        sim.StartAll();
        long before = big.Engine.Counters.SyncBytesSent;
        long startTicks = sim.Clock.Ticks;
        sim.Invoke(small, e => e.SyncNow(big.Id));
        sim.RunFor(TimeSpan.FromMilliseconds(100)); // the follow-up comes after 200 ms
        long first = big.Engine.Counters.SyncBytesSent - before;
        int learned = small.Engine.MemberCount;

        sim.RunFor(TimeSpan.FromSeconds(10));
        long tenSeconds = big.Engine.Counters.SyncBytesSent - before;
        output.WriteLine($"first exchange: {first} bytes, {learned - 2} records; first 10 s: {tenSeconds} bytes, {small.Engine.MemberCount - 2} records, {small.Engine.Counters.SyncExchangesStarted} exchanges");

        GossipConfig config = sim.Config;
        int done = GossipFrame.HeaderSize + GossipFrame.PartHeaderSize + SyncDoneMessage.Size;
        Assert.InRange(first, config.MaxSyncBytesPerExchange / 2, config.MaxSyncBytesPerExchange + done);
        Assert.True(learned > 2, "the first exchange taught nothing");
        double elapsed = (sim.Clock.Ticks - startTicks) / (double)TimeSpan.TicksPerSecond;
        // Token bucket: one burst plus the rate; done frames (and one begin of big's own) may overdraw by a frame each.
        double cap = config.MaxSyncBytesPerExchange + (elapsed * config.SyncBytesPerSecond) + (small.Engine.Counters.SyncExchangesStarted * done) + config.MaxMessageSize;
        Assert.True(tenSeconds <= cap, $"{tenSeconds} bytes in {elapsed:F1} s is over the bandwidth cap {cap:F0}");
        Assert.True(small.Engine.MemberCount > 1000, "follow-ups did not continue the transfer");
    }

    [Fact]
    public void A_responder_serves_at_most_its_concurrent_limit_and_answers_busy()
    {
        var sim = new GossipSimulation(seed: 23, GossipConfig.Lan with { MaxConcurrentSyncs = 2 });
        for (int i = 0; i < 6; i++)
        {
            sim.AddNode();
        }

        SimNode hub = sim.Nodes[0];
        foreach (SimNode node in sim.Nodes.Skip(1))
        {
            hub.Engine.ImportMember(node.Id, MemberState.Alive, 1, node.Payload);
            node.Engine.ImportMember(hub.Id, MemberState.Alive, 1, hub.Payload);
        }

        sim.StartAll();
        foreach (SimNode node in sim.Nodes.Skip(1))
        {
            sim.Invoke(node, e => e.SyncNow(hub.Id));
        }

        sim.RunFor(TimeSpan.FromMilliseconds(50));
        Assert.Equal(2, hub.Engine.Counters.SyncExchangesServed);
        Assert.Equal(3, hub.Engine.Counters.SyncBusy);
    }

    [Fact]
    public void Tombstones_are_not_pushed_to_strangers_but_a_death_reaches_a_node_that_holds_the_member_alive()
    {
        var sim = new GossipSimulation(seed: 24, GossipConfig.Lan);
        SimNode a = sim.AddNode();
        SimNode b = sim.AddNode();
        SimNode x = sim.AddNode();
        SimNode y = sim.AddNode();
        a.Engine.ImportMember(b.Id, MemberState.Alive, 1, b.Payload);
        b.Engine.ImportMember(a.Id, MemberState.Alive, 1, a.Payload);
        a.Engine.ImportMember(x.Id, MemberState.Dead, 4, x.Payload);
        a.Engine.ImportMember(y.Id, MemberState.Dead, 4, y.Payload);
        b.Engine.ImportMember(y.Id, MemberState.Alive, 4, y.Payload);
        sim.Stop(x);
        sim.Stop(y);
        sim.Start(a, announce: false);
        sim.Start(b, announce: false);

        sim.Invoke(b, e => e.SyncNow(a.Id));
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.False(b.Engine.TryGetMember(x.Id, out _));
        Assert.True(b.Engine.TryGetMember(y.Id, out MemberView view));
        Assert.Equal(MemberState.Suspect, view.State); // a death by anti-entropy is a suspicion first
    }

    [Fact]
    public void Bucket_hashes_depend_on_content_not_insertion_order_and_localise_a_difference()
    {
        var random = new Random(9);
        var records = Enumerable.Range(0, 300).Select(_ =>
        {
            byte[] key = new byte[MemberId.Size];
            random.NextBytes(key);
            return (Id: new MemberId(key), State: (MemberState)random.Next(0, 5), Incarnation: (uint)random.Next(1, 9));
        }).ToList();
        var first = new MemberTable();
        var second = new MemberTable();
        foreach (var r in records)
        {
            first.Add(r.Id, r.State, r.Incarnation, MemberPayload.Empty, 0);
        }

        foreach (var r in records.OrderBy(_ => random.Next()))
        {
            second.Add(r.Id, r.State, r.Incarnation, MemberPayload.Empty, 0);
        }

        var changed = records.First(r => r.State == MemberState.Alive);
        for (int level = 0; level <= SyncBeginMessage.MaxLevel; level++)
        {
            ulong[] h1 = new ulong[1 << level];
            ulong[] h2 = new ulong[1 << level];
            first.CoarseHashes(level, h1);
            second.CoarseHashes(level, h2);
            Assert.Equal(h1, h2);
        }

        Assert.True(second.TryGet(changed.Id, out MemberRecord? record));
        second.Update(record, MemberState.Alive, changed.Incarnation + 1, MemberPayload.Empty, 0);
        for (int level = 0; level <= SyncBeginMessage.MaxLevel; level++)
        {
            ulong[] h1 = new ulong[1 << level];
            ulong[] h2 = new ulong[1 << level];
            first.CoarseHashes(level, h1);
            second.CoarseHashes(level, h2);
            int differing = Enumerable.Range(0, h1.Length).Count(i => h1[i] != h2[i]);
            Assert.Equal(1, differing);
            Assert.NotEqual(h1[(int)(changed.Id.Prefix >> (64 - level)) & ((1 << level) - 1)], h2[(int)(changed.Id.Prefix >> (64 - level)) & ((1 << level) - 1)]);
        }

        // Dead and left records are tombstones: not in the hashes.
        var tombstone = records.First(r => r.State is MemberState.Dead or MemberState.Left);
        Assert.True(first.TryGet(tombstone.Id, out MemberRecord? dead));
        ulong[] before = new ulong[1];
        first.CoarseHashes(0, before);
        first.Remove(dead);
        ulong[] after = new ulong[1];
        first.CoarseHashes(0, after);
        Assert.Equal(before, after);
    }

    [Fact]
    public void Version_order_is_revoked_then_incarnation_then_state_then_payload()
    {
        Assert.True(GossipEngine.CompareVersions(MemberState.Revoked, 0, 0, MemberState.Alive, 99, 99) > 0);
        Assert.Equal(0, GossipEngine.CompareVersions(MemberState.Revoked, 1, 0, MemberState.Revoked, 5, 3));
        Assert.True(GossipEngine.CompareVersions(MemberState.Alive, 3, 1, MemberState.Dead, 2, 1) > 0);
        Assert.True(GossipEngine.CompareVersions(MemberState.Suspect, 3, 1, MemberState.Alive, 3, 1) > 0);
        Assert.True(GossipEngine.CompareVersions(MemberState.Dead, 3, 1, MemberState.Suspect, 3, 1) > 0);
        Assert.True(GossipEngine.CompareVersions(MemberState.Left, 3, 1, MemberState.Dead, 3, 1) > 0);
        Assert.True(GossipEngine.CompareVersions(MemberState.Alive, 3, 2, MemberState.Alive, 3, 1) > 0);
        Assert.Equal(0, GossipEngine.CompareVersions(MemberState.Alive, 3, 1, MemberState.Alive, 3, 1));
    }
}
