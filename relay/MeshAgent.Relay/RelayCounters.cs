namespace MeshAgent.Relay;

/// <summary>What the relay counts. Drops are counted per reason, never logged per packet (STYLE rule 12).</summary>
public enum RelayCounter
{
    UdpDatagramsIn,
    TcpFramesIn,
    FramesForwarded,
    BytesForwarded,
    ChallengesSent,
    AuthsAccepted,
    WelcomesResent,
    RefusedNotMember,
    RefusedRevoked,
    RefusedExpired,
    RefusedNotYetValid,
    RefusedBadSignature,
    RefusedBadCertificate,
    RefusedStaleChallenge,
    RefusedServerFull,
    KeepalivesAnswered,
    UnknownPeerNotices,
    SessionUnknownSent,
    RevocationsAdded,
    RevocationsKnown,
    SessionsReplaced,
    SessionsIdle,
    SessionsCertificateExpired,
    SessionsRevoked,
    SessionsTcpClosed,
    TcpConnectionsAccepted,
    TcpHandshakeTimeouts,
    OtherDatagramsAnswered,
    JoinChannelsOpened,
    JoinChannelsExpired,
    JoinMessagesForwarded,
    JoinRepliesForwarded,
    JoinUnreachableSent,

    // Drops, one per reason.
    DropMalformed,
    DropUnexpectedType,
    DropTruncated,
    DropHandshakeRateLimited,
    DropUnknownSession,
    DropSessionUnknownRateLimited,
    DropPacketRateLimited,
    DropByteRateLimited,
    DropUnknownDestination,
    DropUnknownPeerNoticeLimited,
    DropTcpQueueFull,
    DropUdpSendFailed,
    DropRevocationInvalid,
    DropRevocationForeign,
    DropRevocationRateLimited,
    DropTcpConnectionLimit,
    DropTcpFraming,
    DropOtherDatagram,
    DropJoinMalformed,
    DropJoinRateLimited,
    DropJoinChannelsFull,
    DropJoinUnknownChannel,
    DropJoinReplyBudget,
    UdpReceiveErrors,
}

/// <summary>Lock-free counters (Interlocked), indexed by <see cref="RelayCounter"/>; read by the summary log and tests.</summary>
public sealed class RelayCounters
{
    private readonly long[] _values = new long[Enum.GetValues<RelayCounter>().Length];

    public long this[RelayCounter counter] => Interlocked.Read(ref _values[(int)counter]);

    public void Increment(RelayCounter counter) => Interlocked.Increment(ref _values[(int)counter]);

    public void Add(RelayCounter counter, long value) => Interlocked.Add(ref _values[(int)counter], value);

    /// <summary>All values at once (not atomic as a whole; each value is).</summary>
    public long[] Snapshot()
    {
        long[] copy = new long[_values.Length];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = Interlocked.Read(ref _values[i]);
        }

        return copy;
    }
}
