using MeshAgent.Core.Trust;
using Microsoft.Extensions.Logging;

namespace MeshAgent.Relay;

/// <summary>The relay's log events (STYLE rule 12: source-generated, stable ids, structured fields; nothing per packet above Debug).</summary>
internal static partial class RelayLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "meshrelay started: relay key {RelayKey}; UDP {Udp}; TCP {Tcp}; serving {NetworkCount} network(s): {Networks}; state in {StateDirectory}")]
    public static partial void Started(ILogger logger, NodePublicKey relayKey, string udp, string tcp, int networkCount, string networks, string stateDirectory);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "created a new relay key in {Path}")]
    public static partial void IdentityCreated(ILogger logger, string path);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "meshrelay stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "relay summary: {Sessions} session(s) ({TcpSessions} over TCP), {TcpConnections} TCP connection(s); last {Seconds} s: {Details}")]
    public static partial void Summary(ILogger logger, int sessions, int tcpSessions, int tcpConnections, int seconds, string details);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "session for {Node} on {Link} (network {Network})")]
    public static partial void SessionStarted(ILogger logger, NodePublicKey node, string link, NetworkRootPublicKey network);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "revocation of {Node} in network {Network} accepted (pushed by {Pusher}; reason: {Reason}); its session, if any, is dropped")]
    public static partial void RevocationAdded(ILogger logger, NodePublicKey node, NetworkRootPublicKey network, NodePublicKey pusher, string reason);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "saving the revocations file failed: {Error} — the revocation is enforced until restart; check the state directory's disk and permissions")]
    public static partial void RevocationSaveFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "revocations file: {Problem}")]
    public static partial void RevocationLoadProblem(ILogger logger, string problem);

    [LoggerMessage(EventId = 23, Level = LogLevel.Information, Message = "loaded {Count} revocation(s)")]
    public static partial void RevocationsLoaded(ILogger logger, int count);

    [LoggerMessage(EventId = 30, Level = LogLevel.Error, Message = "UDP loop on {Endpoint} failed; the relay no longer serves this socket")]
    public static partial void UdpLoopFailed(ILogger logger, Exception exception, string endpoint);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "accepting TCP connections on {Endpoint} failed: {Error}")]
    public static partial void TcpAcceptFailed(ILogger logger, string endpoint, string error);

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message = "the other-datagram responder (STUN hook) threw for a datagram from {Source}; datagram dropped")]
    public static partial void OtherDatagramFailed(ILogger logger, Exception exception, string source);

    [LoggerMessage(EventId = 33, Level = LogLevel.Debug, Message = "TCP connection {Remote} ended: {Reason}")]
    public static partial void TcpConnectionEnded(ILogger logger, string remote, string reason);
}
