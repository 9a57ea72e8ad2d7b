using MeshAgent.Core.Net;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Paths;

namespace MeshAgent.Engine.Mesh;

/// <summary>What came back for one diagnostic ping: the pong's datagram source and the address the member saw, or nothing (timed out, cancelled).</summary>
internal readonly record struct PingAnswer(bool Replied, long ReceivedAt, UdpEndpoint Source, UdpEndpoint ObservedSource)
{
    public static PingAnswer None => default;
}

/// <summary>
/// The diagnostic pings (<c>meshagent ping</c>) in flight, by transaction id: kept apart from the path managers'
/// own txids, so a user's ping never confirms, refutes or times a candidate path, and the managers never see the
/// pongs it consumes. Bounded: at most <see cref="Capacity"/> entries; an entry lives until its pong, its deadline
/// (<see cref="Expire"/>, also run by every <see cref="TryAdd"/>) or <see cref="Cancel"/>. Times are opaque
/// timestamps from the caller's clock. Not thread-safe: the runtime uses it on its control loop; the answers are
/// tasks any thread may await (continuations run asynchronously, never on the loop).
/// </summary>
internal sealed class PendingPings(int capacity)
{
    private readonly Dictionary<PathTxId, Entry> _entries = [];

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "the table holds at least one ping");

    public int Count => _entries.Count;

    /// <summary>
    /// Tracks a ping sent to <paramref name="member"/> at <paramref name="sentAt"/>, answered until <paramref name="deadline"/>.
    /// False (nothing tracked) when the table is full of live pings or <paramref name="txid"/> is already tracked.
    /// </summary>
    public bool TryAdd(PathTxId txid, MemberId member, long sentAt, long deadline, out Task<PingAnswer> answer)
    {
        Expire(sentAt);
        if (_entries.Count >= Capacity || _entries.ContainsKey(txid))
        {
            answer = Task.FromResult(PingAnswer.None);
            return false;
        }

        var entry = new Entry(member, deadline, new TaskCompletionSource<PingAnswer>(TaskCreationOptions.RunContinuationsAsynchronously));
        _entries.Add(txid, entry);
        answer = entry.Completion.Task;
        return true;
    }

    /// <summary>
    /// A pong: true (consumed, the ping's task completes) when <paramref name="txid"/> is a ping of ours to
    /// <paramref name="from"/> whose deadline has not passed; false for anything else, which is then none of our business.
    /// </summary>
    public bool TryComplete(PathTxId txid, MemberId from, UdpEndpoint source, UdpEndpoint observed, long receivedAt)
    {
        if (!_entries.TryGetValue(txid, out Entry? entry) || entry.Member != from)
        {
            return false;
        }

        _entries.Remove(txid);
        if (receivedAt > entry.Deadline)
        {
            entry.Completion.TrySetResult(PingAnswer.None);
            return true; // ours, but late: still not the managers' pong
        }

        entry.Completion.TrySetResult(new PingAnswer(true, receivedAt, source, observed));
        return true;
    }

    /// <summary>Ends every ping whose deadline is before <paramref name="now"/> without an answer; returns how many.</summary>
    public int Expire(long now)
    {
        List<PathTxId>? expired = null;
        foreach ((PathTxId txid, Entry entry) in _entries)
        {
            if (entry.Deadline < now)
            {
                (expired ??= []).Add(txid);
            }
        }

        foreach (PathTxId txid in expired ?? [])
        {
            _entries.Remove(txid, out Entry? entry);
            entry!.Completion.TrySetResult(PingAnswer.None);
        }

        return expired?.Count ?? 0;
    }

    /// <summary>Stops waiting for <paramref name="txid"/> (the caller gave up); a pong arriving later is not consumed.</summary>
    public bool Cancel(PathTxId txid)
    {
        if (!_entries.Remove(txid, out Entry? entry))
        {
            return false;
        }

        entry.Completion.TrySetResult(PingAnswer.None);
        return true;
    }

    private sealed record Entry(MemberId Member, long Deadline, TaskCompletionSource<PingAnswer> Completion);
}
