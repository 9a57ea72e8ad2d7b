namespace MeshAgent.Engine.Control;

/// <summary>
/// What the local API (HTTP + JSON over the Unix socket, DESIGN §8) can ask of a running node. The
/// daemon's <see cref="Mesh.MeshNode"/> implements it; the API layer only translates HTTP to these calls
/// and <see cref="MeshControlException"/>s to status codes. Every method is safe to call from any thread.
/// </summary>
public interface IMeshControl
{
    /// <summary>The network, this node and every member this node knows (live, suspect, dead, left, revoked).</summary>
    NodeStatus GetStatus();

    /// <summary>Creates a new network with this node as its first admin. Refused (Conflict) when the node is already in one.</summary>
    Task<NodeStatus> InitAsync(InitRequest request, CancellationToken cancellationToken);

    /// <summary>Issues a one-time join token (admins only, else Forbidden).</summary>
    Task<InviteResult> InviteAsync(InviteRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Joins the network a token names: reaches the inviter, proves the secret, receives the certificate and
    /// membership, brings the interface up. Each step is reported through <paramref name="progress"/> as one
    /// human-readable line. Refusals (token used, expired, unknown, unreachable inviter) are
    /// <see cref="MeshControlException"/>s whose message says what to do.
    /// </summary>
    Task<NodeStatus> JoinAsync(JoinRequestModel request, IProgress<string> progress, CancellationToken cancellationToken);

    /// <summary>Announces departure to the mesh, waits (bounded) for it to spread, and takes the interface down.</summary>
    Task LeaveAsync(CancellationToken cancellationToken);

    /// <summary>Revokes a member by name (admins only): a root-signed revocation that spreads by gossip and is kept forever.</summary>
    Task<RevokeResult> RevokeAsync(RevokeRequest request, CancellationToken cancellationToken);

    /// <summary>Makes another member an admin (admins only): it receives the network root key inside its encrypted session.</summary>
    Task<MemberInfo> GrantAdminAsync(GrantAdminRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Sends one diagnostic probe to a member (by name or overlay address) along its current path and waits for the
    /// answer (requesting a handshake first when there is no session), at most the request's timeout. No answer is a
    /// <see cref="PingReply"/> with <see cref="PingReply.Replied"/> false and the reason; an unknown member is NotFound,
    /// a malformed request InvalidInput.
    /// </summary>
    Task<PingReply> PingAsync(PingRequest request, CancellationToken cancellationToken);
}
