using MeshAgent.Core.Net;
using MeshAgent.Engine.Membership;

namespace MeshAgent.Engine.Paths;

/// <summary>How a datagram of the peer's WireGuard session travels.</summary>
public enum PathKind : byte
{
    /// <summary>Straight to the peer's UDP endpoint, from one of our local sockets.</summary>
    Direct = 1,

    /// <summary>Wrapped in a relay envelope and sent to a <c>meshrelay</c>, which forwards it by the peer's key.</summary>
    Relay = 2,

    /// <summary>Wrapped in a relay envelope and sent to a member that relays for the mesh (DESIGN §5, "peer relays").</summary>
    PeerRelay = 3,
}

/// <summary>
/// One way to reach a peer: what the data plane needs to send a sealed datagram there, and what a
/// received datagram is attributed to. Value equality over all fields, so it keys dictionaries.
/// <list type="bullet">
/// <item><see cref="PathKind.Direct"/>: <see cref="Endpoint"/> is the peer's address as we send to it;
/// <see cref="Socket"/> is the local socket that sends (0 = the agent's one UDP socket, 1..N = the extra
/// sockets opened for hard-NAT probing, <see cref="IPathActions.OpenProbeSockets"/>). A path through a
/// NAT is bound to the socket whose mapping it uses.</item>
/// <item><see cref="PathKind.Relay"/>: <see cref="RelayId"/> names the relay (as the member record's relay home does).</item>
/// <item><see cref="PathKind.PeerRelay"/>: <see cref="Via"/> is the relaying member.</item>
/// </list>
/// </summary>
public readonly record struct PathAddress
{
    private PathAddress(PathKind kind, UdpEndpoint endpoint, int socket, string? relayId, MemberId via)
    {
        Kind = kind;
        Endpoint = endpoint;
        Socket = socket;
        RelayId = relayId;
        Via = via;
    }

    public PathKind Kind { get; }

    /// <summary>The peer's endpoint (direct paths only; default otherwise).</summary>
    public UdpEndpoint Endpoint { get; }

    /// <summary>The local socket a direct path sends from: 0 is the agent's main socket.</summary>
    public int Socket { get; }

    /// <summary>The relay's name (relay paths only).</summary>
    public string? RelayId { get; }

    /// <summary>The relaying member (peer-relay paths only).</summary>
    public MemberId Via { get; }

    public bool IsDirect => Kind == PathKind.Direct;

    /// <summary>True for the default value, which names no path.</summary>
    public bool IsNone => Kind == 0;

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="socket"/> is negative.</exception>
    public static PathAddress Direct(UdpEndpoint endpoint, int socket = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(socket);
        return new PathAddress(PathKind.Direct, endpoint, socket, null, default);
    }

    /// <exception cref="ArgumentException"><paramref name="relayId"/> is empty.</exception>
    public static PathAddress Relay(string relayId)
    {
        ArgumentException.ThrowIfNullOrEmpty(relayId);
        return new PathAddress(PathKind.Relay, default, 0, relayId, default);
    }

    public static PathAddress PeerRelay(MemberId member) => new(PathKind.PeerRelay, default, 0, null, member);

    /// <summary>Allocates: for logs and status output.</summary>
    public override string ToString() => Kind switch
    {
        PathKind.Direct => Socket == 0 ? $"direct {Endpoint}" : $"direct {Endpoint} (probe socket {Socket})",
        PathKind.Relay => $"relay {RelayId}",
        PathKind.PeerRelay => $"peer relay {Via.ToString()[..8]}",
        _ => "none",
    };
}
