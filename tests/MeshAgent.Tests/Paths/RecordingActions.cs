using MeshAgent.Engine.Paths;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Paths;

/// <summary>An <see cref="IPathActions"/> that records every request with the manual clock's time, for rule tests that drive a <see cref="PathManager"/> by hand.</summary>
internal sealed class RecordingActions(ManualTimeProvider clock) : IPathActions
{
    public List<(TimeSpan At, PathAddress Path, PathTxId TxId)> Pings { get; } = new();

    public List<(PathAddress Path, PathTxId TxId)> Pongs { get; } = new();

    public List<(PathAddress Path, CallMeMaybe Message)> CallMeMaybes { get; } = new();

    public List<(TimeSpan At, PathAddress? Path)> Switches { get; } = new();

    public List<int> Opened { get; } = new();

    public List<int> Closed { get; } = new();

    /// <summary>How many probe sockets <see cref="OpenProbeSockets"/> grants; null: as many as asked.</summary>
    public int? GrantSockets { get; set; }

    public TimeSpan Now => TimeSpan.FromTicks(clock.GetTimestamp());

    public void SendPing(PathAddress path, PathTxId txid) => Pings.Add((Now, path, txid));

    public void SendPong(PathAddress path, PathTxId txid) => Pongs.Add((path, txid));

    public void SendCallMeMaybe(PathAddress path, CallMeMaybe message) => CallMeMaybes.Add((path, message));

    public void SwitchPath(PathAddress? path) => Switches.Add((Now, path));

    public int OpenProbeSockets(int count)
    {
        int granted = GrantSockets ?? count;
        Opened.Add(granted);
        return granted;
    }

    public void CloseProbeSockets(int keepSocket) => Closed.Add(keepSocket);

    /// <summary>The last ping sent to <paramref name="path"/>.</summary>
    public PathTxId LastPingTo(PathAddress path) => Pings.Last(p => p.Path == path).TxId;
}
