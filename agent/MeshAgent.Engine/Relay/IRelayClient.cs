using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;

namespace MeshAgent.Engine.Relay;

/// <summary>
/// Sends a relay frame. <paramref name="frame"/> is borrowed for the call only (copy it to keep it). Must not call
/// back into the client that invoked it; may be called from several threads at once. Socket and I/O exceptions it
/// throws are counted as lost frames (<see cref="RelayClientCounters.SendFailures"/>); other exceptions are bugs and propagate.
/// </summary>
public delegate void RelayFrameSender(ReadOnlySpan<byte> frame);

/// <summary>A payload the relay forwarded from <paramref name="source"/>. <paramref name="payload"/> is borrowed for the call only.</summary>
public delegate void RelayPayloadHandler(NodePublicKey source, ReadOnlySpan<byte> payload);

/// <summary>
/// A joiner's join message the relay forwarded to this node (the inviter) on join channel <paramref name="channel"/>;
/// answer with <see cref="IRelayClient.SendJoinReply"/> on the same channel. <paramref name="message"/> is borrowed for the call only.
/// </summary>
public delegate void RelayJoinHandler(ulong channel, ReadOnlySpan<byte> message);

/// <summary>Where a relay client stands.</summary>
public enum RelayClientState
{
    /// <summary>Not started, stopped, or (TCP) between connections.</summary>
    Stopped,

    /// <summary>ClientHello sent, waiting for a Challenge.</summary>
    Connecting,

    /// <summary>Auth sent, waiting for Welcome.</summary>
    Authenticating,

    /// <summary>Session established: payloads flow.</summary>
    Connected,

    /// <summary>The relay refused this node (see <see cref="IRelayClient.LastRefusal"/>); retrying later.</summary>
    Refused,
}

/// <summary>
/// What the agent needs from a relay, whatever the transport (<see cref="RelayClient"/> over the agent's UDP socket,
/// <see cref="TcpRelayClient"/> over a TCP stream).
/// </summary>
public interface IRelayClient
{
    RelayClientState State { get; }

    /// <summary>Why the relay last refused this node; null when it never did (or a session was established since).</summary>
    RelayRefusal? LastRefusal { get; }

    /// <summary>The key the relay presented in its last Challenge; null before the first one.</summary>
    NodePublicKey? RelayKey { get; }

    RelayClientCounters Counters { get; }

    /// <summary>
    /// Raised for every payload forwarded to this node, on the thread that handed the frame in (the socket reader).
    /// Handlers must be quick and must not block.
    /// </summary>
    event RelayPayloadHandler? PayloadReceived;

    /// <summary>The relay said the destination of an earlier Send is not connected to it (rate limited by the relay).</summary>
    event Action<NodePublicKey>? PeerUnknown;

    /// <summary>A joiner's join message through the relay (RelayProtocol, "Joining through the relay"), on the thread that handed the frame in. Quick, non-blocking handlers only.</summary>
    event RelayJoinHandler? JoinReceived;

    /// <summary>Raised after every state change, outside the client's lock.</summary>
    event Action<RelayClientState>? StateChanged;

    /// <summary>
    /// Sends <paramref name="payload"/> (borrowed for the call) to <paramref name="destination"/> through the relay.
    /// False, and counted, when no session is established, the payload is too large or the transport failed: the
    /// payload is dropped (WireGuard retransmits). Never blocks on the network for long; thread-safe.
    /// </summary>
    bool Send(NodePublicKey destination, ReadOnlySpan<byte> payload);

    /// <summary>
    /// Answers a joiner on join channel <paramref name="channel"/> with an inviter's join message (borrowed for the
    /// call). False, and counted, when no session is established or the message is not an inviter's join message.
    /// </summary>
    bool SendJoinReply(ulong channel, ReadOnlySpan<byte> message);

    /// <summary>Hands a root-signed revocation to the relay, which enforces and keeps it. False when no session is established.</summary>
    bool PushRevocation(Revocation revocation);
}
