namespace MeshAgent.Engine.Control;

// The local API's data: plain records serialised as JSON (camelCase) by the API layer. Keys are printed
// in their text forms (meshroot1:…, meshnode1:…, WireGuard base64), addresses and prefixes as text,
// times as ISO 8601 UTC. Adding a property is compatible; renaming one is not.

/// <summary>Where this node stands.</summary>
public enum NodePhase
{
    /// <summary>The daemon runs but the node is in no network yet: use init or join.</summary>
    NotJoined,

    /// <summary>In a network, interface up, gossiping.</summary>
    Running,

    /// <summary>This node left the network (meshagent leave); join again with a new token.</summary>
    Left,

    /// <summary>An admin revoked this node; it cannot rejoin with the same identity.</summary>
    Revoked,
}

public sealed record NodeStatus
{
    public required NodePhase Phase { get; init; }

    /// <summary>Null while <see cref="NodePhase.NotJoined"/>.</summary>
    public NetworkInfo? Network { get; init; }

    /// <summary>This node (state "self"). Null while <see cref="NodePhase.NotJoined"/>.</summary>
    public MemberInfo? Self { get; init; }

    /// <summary>Every other member this node knows, sorted by name.</summary>
    public IReadOnlyList<MemberInfo> Members { get; init; } = [];

    public required string InterfaceName { get; init; }

    public required int ListenPort { get; init; }

    /// <summary>The network's relays (empty when it has none), with this node's session state.</summary>
    public IReadOnlyList<RelayInfo> Relays { get; init; } = [];

    /// <summary>
    /// This node's NAT mapping behaviour as its STUN rounds found it: "none" (a public address), "endpoint-independent"
    /// (easy NAT), "endpoint-dependent" (symmetric NAT), or "unknown" (not measured yet: two public STUN servers needed).
    /// </summary>
    public string Nat { get; init; } = "unknown";

    /// <summary>This node's public endpoints as STUN servers saw them (empty behind no NAT or before any answer).</summary>
    public IReadOnlyList<string> PublicEndpoints { get; init; } = [];
}

public sealed record NetworkInfo
{
    public required string Name { get; init; }

    /// <summary>meshroot1:… — names the network.</summary>
    public required string RootPublicKey { get; init; }

    public required string IPv4Network { get; init; }

    public required string IPv6Prefix { get; init; }
}

public sealed record MemberInfo
{
    public required string Name { get; init; }

    /// <summary>meshnode1:… (Ed25519 identity).</summary>
    public required string NodeKey { get; init; }

    /// <summary>The WireGuard public key (base64), as `wg` prints it.</summary>
    public required string WireGuardKey { get; init; }

    public required string OverlayIPv4 { get; init; }

    public required string OverlayIPv6 { get; init; }

    /// <summary>self, alive, suspect, dead, left or revoked.</summary>
    public required string State { get; init; }

    public bool IsAdmin { get; init; }

    /// <summary>Subnets this member routes (approved in its certificate and advertised).</summary>
    public IReadOnlyList<string> Routes { get; init; } = [];

    /// <summary>The underlay endpoint traffic to this member uses now (ip:port), or null.</summary>
    public string? Endpoint { get; init; }

    /// <summary>direct, relay, peer-relay, or none (no path yet); "self" for this node.</summary>
    public string Path { get; init; } = "none";

    public DateTimeOffset? LastHandshake { get; init; }

    public long RxBytes { get; init; }

    public long TxBytes { get; init; }

    public DateTimeOffset? CertificateExpiresAt { get; init; }
}

public sealed record InitRequest
{
    public required string Network { get; init; }

    /// <summary>Overlay IPv4 network, default 100.96.0.0/16.</summary>
    public string? IPv4Network { get; init; }

    /// <summary>Overlay IPv6 /64 (or shorter), default derived from the root key (fd00::/8 ULA).</summary>
    public string? IPv6Prefix { get; init; }

    /// <summary>This node's name, default the host name.</summary>
    public string? NodeName { get; init; }

    /// <summary>The network's relays, each <c>HOST:PORT[,tcp=PORT][,key=meshnode1:…]</c> (see <c>meshrelay key</c>); none by default.</summary>
    public IReadOnlyList<string>? Relays { get; init; }
}

public sealed record InviteRequest
{
    /// <summary>The name the new node will get (it may ask for another unless taken).</summary>
    public string? Name { get; init; }

    /// <summary>How long the token stays valid (default 1 h, at most 30 days).</summary>
    public TimeSpan? Expires { get; init; }
}

public sealed record InviteResult
{
    /// <summary>The one-line token (mesh1:…).</summary>
    public required string Token { get; init; }

    /// <summary>The same token in upper case (QR alphanumeric mode: a smaller code).</summary>
    public required string QrText { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public string? Name { get; init; }
}

public sealed record JoinRequestModel
{
    public required string Token { get; init; }

    /// <summary>The name to ask for, default the token's suggestion, else the host name.</summary>
    public string? NodeName { get; init; }
}

public sealed record RevokeRequest
{
    public required string Name { get; init; }

    public string? Reason { get; init; }
}

public sealed record RevokeResult
{
    public required string Name { get; init; }

    public required string NodeKey { get; init; }

    public required DateTimeOffset RevokedAt { get; init; }
}

public sealed record GrantAdminRequest
{
    public required string Name { get; init; }
}

/// <summary>One diagnostic probe to a member (<c>meshagent ping</c>).</summary>
public sealed record PingRequest
{
    /// <summary>The member's name, or one of its overlay addresses (IPv4 or IPv6); see <see cref="PeerQuery"/>.</summary>
    public required string Peer { get; init; }

    /// <summary>How long to wait for the answer, handshake included (default 2 s, at most 60 s).</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>
/// The outcome of one <see cref="PingRequest"/>: answered (<see cref="Replied"/>, with the round-trip time) or not
/// (<see cref="Detail"/> says why). Either way it names the path the probe took: the member's current path.
/// </summary>
public sealed record PingReply
{
    /// <summary>The member's name.</summary>
    public required string Peer { get; init; }

    public required string OverlayIPv4 { get; init; }

    public required string OverlayIPv6 { get; init; }

    public bool Replied { get; init; }

    /// <summary>direct, relay or peer-relay: how the probe went (the member's current path); none when it could not be sent.</summary>
    public string Path { get; init; } = "none";

    /// <summary>direct: the member's address the answer came from (ip:port); relay: the relay's address; null with no path.</summary>
    public string? Endpoint { get; init; }

    /// <summary>Round-trip time in milliseconds, measured by the daemon from sending to receiving (answers only).</summary>
    public double? RttMilliseconds { get; init; }

    /// <summary>Our address as the member saw it (ip:port) on a direct path; null through a relay.</summary>
    public string? ObservedEndpoint { get; init; }

    /// <summary>Why there was no answer (no reply in time, no session), for humans; null for an answer.</summary>
    public string? Detail { get; init; }
}

/// <summary>A relay the network names, as this node uses it.</summary>
public sealed record RelayInfo
{
    /// <summary>HOST:PORT as configured (the relay's UDP port, where it also answers STUN).</summary>
    public required string Address { get; init; }

    /// <summary>connected, connecting, refused, … for the relay in use; "configured" for one this node does not use (only the first is used).</summary>
    public required string State { get; init; }
}
