using System.Net;
using MeshAgent.Core.Net;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Mesh;
using MeshAgent.Engine.Paths;

namespace MeshAgent.Tests.Mesh;

/// <summary>The diagnostic ping table (meshagent ping): bounded, expiring, and deaf to pongs that are not its own.</summary>
public sealed class PendingPingsTests
{
    private static readonly MemberId Nas = new(Enumerable.Repeat((byte)1, MemberId.Size).ToArray());
    private static readonly MemberId Laptop = new(Enumerable.Repeat((byte)2, MemberId.Size).ToArray());
    private static readonly UdpEndpoint Source = UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("203.0.113.10"), 41820));
    private static readonly UdpEndpoint Observed = UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("198.51.100.20"), 5000));

    private static PathTxId Tx(byte b) => new(Enumerable.Repeat(b, PathTxId.Size).ToArray());

    [Fact]
    public async Task A_matching_pong_completes_the_ping_with_its_source_and_time()
    {
        var table = new PendingPings(4);
        Assert.True(table.TryAdd(Tx(1), Nas, sentAt: 100, deadline: 200, out Task<PingAnswer> answer));

        Assert.True(table.TryComplete(Tx(1), Nas, Source, Observed, receivedAt: 150));

        Assert.True(answer.IsCompletedSuccessfully);
        Assert.Equal(new PingAnswer(true, 150, Source, Observed), await answer);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Unknown_txids_and_pongs_from_another_member_are_left_alone()
    {
        var table = new PendingPings(4);
        table.TryAdd(Tx(1), Nas, 100, 200, out Task<PingAnswer> answer);

        Assert.False(table.TryComplete(Tx(2), Nas, Source, Observed, 150)); // not ours: the path manager's business
        Assert.False(table.TryComplete(Tx(1), Laptop, Source, Observed, 150)); // our txid, but the wrong member

        Assert.False(answer.IsCompleted);
        Assert.Equal(1, table.Count);
        Assert.True(table.TryComplete(Tx(1), Nas, Source, Observed, 150));
        Assert.False(table.TryComplete(Tx(1), Nas, Source, Observed, 151)); // a duplicate pong is no longer ours
    }

    [Fact]
    public async Task Expire_ends_pings_past_their_deadline_without_an_answer()
    {
        var table = new PendingPings(4);
        table.TryAdd(Tx(1), Nas, 100, 200, out Task<PingAnswer> early);
        table.TryAdd(Tx(2), Nas, 100, 400, out Task<PingAnswer> late);

        Assert.Equal(0, table.Expire(200)); // the deadline itself is still in time
        Assert.Equal(1, table.Expire(201));

        Assert.Equal(PingAnswer.None, await early);
        Assert.False(late.IsCompleted);
        Assert.False(table.TryComplete(Tx(1), Nas, Source, Observed, 210)); // expired: forgotten
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public async Task A_pong_after_the_deadline_is_consumed_but_is_no_answer()
    {
        var table = new PendingPings(4);
        table.TryAdd(Tx(1), Nas, 100, 200, out Task<PingAnswer> answer);

        Assert.True(table.TryComplete(Tx(1), Nas, Source, Observed, 250));

        Assert.False((await answer).Replied);
    }

    [Fact]
    public async Task The_table_is_bounded_and_frees_room_as_pings_expire()
    {
        var table = new PendingPings(2);
        Assert.True(table.TryAdd(Tx(1), Nas, 100, 200, out _));
        Assert.True(table.TryAdd(Tx(2), Nas, 100, 300, out _));

        Assert.False(table.TryAdd(Tx(3), Nas, 150, 400, out Task<PingAnswer> refused));
        Assert.Equal(PingAnswer.None, await refused);
        Assert.Equal(2, table.Count);

        // At 250 the first has expired: adding purges it and the new one fits.
        Assert.True(table.TryAdd(Tx(3), Nas, 250, 400, out _));
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public async Task A_txid_already_in_flight_is_refused_and_cancel_forgets_a_ping()
    {
        var table = new PendingPings(4);
        Assert.True(table.TryAdd(Tx(1), Nas, 100, 200, out Task<PingAnswer> first));
        Assert.False(table.TryAdd(Tx(1), Laptop, 100, 200, out _));

        Assert.True(table.Cancel(Tx(1)));
        Assert.False(table.Cancel(Tx(1)));

        Assert.Equal(PingAnswer.None, await first);
        Assert.False(table.TryComplete(Tx(1), Nas, Source, Observed, 150));
    }

    [Fact]
    public void Capacity_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PendingPings(0));
    }
}
