namespace MeshAgent.Engine.Relay;

/// <summary>What a relay client did and dropped; lock-free (Interlocked), read by status and metrics.</summary>
public sealed class RelayClientCounters
{
    public long FramesSent;

    /// <summary>Frames the send delegate failed to send (it threw a socket or I/O error); lost like a dropped packet.</summary>
    public long SendFailures;

    public long FramesReceived;
    public long PayloadsSent;
    public long PayloadsReceived;

    /// <summary>Send called while no session was established: the payload was dropped.</summary>
    public long NotConnected;

    /// <summary>Send called with a payload longer than a frame can carry.</summary>
    public long PayloadTooLarge;

    /// <summary>Relay frames that did not parse, or whose type a client never receives.</summary>
    public long Malformed;

    /// <summary>Well-formed frames that did not fit the current state (a late Welcome, a Recv before Welcome, a stale token).</summary>
    public long Unexpected;

    /// <summary>Challenges naming another relay key than <see cref="RelayClientOptions.ExpectedRelayKey"/>.</summary>
    public long WrongRelayKey;

    public long HellosSent;
    public long AuthsSent;
    public long Welcomes;
    public long Refusals;

    /// <summary>Established sessions that ended: SessionUnknown from the relay, or keepalives unanswered.</summary>
    public long SessionsLost;

    public long KeepalivesSent;
    public long UnknownPeerNotices;

    /// <summary>Join messages the relay forwarded from joiners (JoinRecv) / answers sent back (JoinReply).</summary>
    public long JoinMessagesReceived;
    public long JoinRepliesSent;

    /// <summary>TCP only: connections made (first and re-connections).</summary>
    public long Connects;

    /// <summary>TCP only: connection attempts that failed, and connections that broke.</summary>
    public long ConnectionFailures;

    /// <summary>TCP only: frames dropped because the send queue to the relay was full.</summary>
    public long QueueFull;
}
