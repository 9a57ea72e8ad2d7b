using MeshAgent.Engine.Membership;

namespace MeshAgent.Tests.Membership;

/// <summary>memberlist's TransmitLimitedQueue rules: one broadcast per member, fewest transmissions first, newest first, dropped after the limit.</summary>
public sealed class BroadcastQueueTests
{
    [Fact]
    public void A_broadcast_goes_out_exactly_limit_times()
    {
        var queue = new BroadcastQueue();
        queue.Enqueue(EngineHarness.Id(1), GossipMessageType.Left, new byte[LeftMessage.Size]);
        int sent = 0;
        for (int i = 0; i < 10; i++)
        {
            sent += Fill(queue, 1200, limit: 4).Count;
        }

        Assert.Equal(4, sent);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void A_newer_broadcast_about_the_same_member_replaces_the_older()
    {
        var queue = new BroadcastQueue();
        MemberId member = EngineHarness.Id(1);
        queue.Enqueue(member, GossipMessageType.Suspect, new byte[SuspectMessage.Size]);
        queue.Enqueue(member, GossipMessageType.Left, new byte[LeftMessage.Size]);
        Assert.Equal(1, queue.Count);
        Assert.Equal([GossipMessageType.Left], Fill(queue, 1200, limit: 4));
    }

    [Fact]
    public void Fewest_transmissions_first_then_newest_first_and_parts_that_do_not_fit_wait()
    {
        var queue = new BroadcastQueue();
        queue.Enqueue(EngineHarness.Id(1), GossipMessageType.Left, new byte[LeftMessage.Size]);
        Assert.Single(Fill(queue, 1200, limit: 10)); // the left has been sent once
        queue.Enqueue(EngineHarness.Id(2), GossipMessageType.Suspect, new byte[SuspectMessage.Size]);
        queue.Enqueue(EngineHarness.Id(3), GossipMessageType.Dead, new byte[DeadMessage.Size]);

        // Room for one accusation only: the newest unsent (dead) goes first.
        Assert.Equal([GossipMessageType.Dead], Fill(queue, 1 + 3 + 68 + 10, limit: 10));
        Assert.Equal([GossipMessageType.Suspect], Fill(queue, 1 + 3 + 68 + 10, limit: 10));
        // Now all have one transmission: newest first, and the small left still fits after one accusation.
        Assert.Equal([GossipMessageType.Dead, GossipMessageType.Left], Fill(queue, 1 + 3 + 68 + 3 + 36, limit: 10));
    }

    private static List<GossipMessageType> Fill(BroadcastQueue queue, int frameSize, int limit)
    {
        byte[] buffer = new byte[frameSize];
        var writer = new GossipFrameWriter(buffer);
        queue.Fill(ref writer, limit);
        return GossipTestFrames.Parts(writer.Written.ToArray()).Select(p => p.Type).ToList();
    }
}
