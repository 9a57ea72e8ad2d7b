namespace MeshAgent.Engine.Paths;

/// <summary>Event counters of one <see cref="PathManager"/>, for metrics and tests. Single-threaded like the manager; read them from its thread.</summary>
public sealed class PathCounters
{
    public long PingsSent { get; internal set; }

    public long PongsReceived { get; internal set; }

    /// <summary>Pongs whose transaction id matched no ping we sent (or one already answered), or that came back over another path than their ping took.</summary>
    public long PongsUnknown { get; internal set; }

    /// <summary>Pongs that came after <see cref="PathConfig.PingTimeout"/>.</summary>
    public long PongsLate { get; internal set; }

    public long PingsReceived { get; internal set; }

    /// <summary>Pings sent in answer to a received ping or to data from an unconfirmed endpoint.</summary>
    public long TriggeredPings { get; internal set; }

    /// <summary>Triggered pings not sent because the per-second budget was spent.</summary>
    public long TriggeredPingsSuppressed { get; internal set; }

    public long CallMeMaybesSent { get; internal set; }

    public long CallMeMaybesReceived { get; internal set; }

    /// <summary>Calls of <see cref="IPathActions.SwitchPath"/>.</summary>
    public long PathSwitches { get; internal set; }

    /// <summary>Direct paths given up because no pong came for <see cref="PathConfig.DirectPathTimeout"/>.</summary>
    public long DirectPathsLost { get; internal set; }

    public long DiscoveryRounds { get; internal set; }

    /// <summary>Direct candidates not kept because <see cref="PathConfig.MaxCandidates"/> was reached.</summary>
    public long CandidatesDropped { get; internal set; }

    /// <summary>Hard-NAT attempts begun on this side (ports opened, or a spray started).</summary>
    public long HardNatAttempts { get; internal set; }

    /// <summary>Hard-NAT attempts that ended with a direct path.</summary>
    public long HardNatSuccesses { get; internal set; }

    /// <summary>Probes sent to random ports of a hard peer (the easy side's spray).</summary>
    public long HardNatProbesSent { get; internal set; }

    /// <summary>Probe sockets opened on the hard side, summed over attempts.</summary>
    public long HardNatSocketsOpened { get; internal set; }
}
