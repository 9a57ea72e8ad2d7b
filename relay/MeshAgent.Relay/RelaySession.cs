using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Core.Net;

namespace MeshAgent.Relay;

/// <summary>
/// One authenticated client. Owned by <see cref="RelayHub"/>; every field is read and written under the hub's lock.
/// </summary>
internal sealed class RelaySession(NodePublicKey key, NetworkRootPublicKey network, ulong token, RelayLink link, RelayNonce nonce, long nonceIssued, DateTimeOffset certificateExpiresAt, long now)
{
    public NodePublicKey Key { get; } = key;

    /// <summary>The network of the client's certificate: Recv frames only go between members of one network.</summary>
    public NetworkRootPublicKey Network { get; } = network;

    public ulong Token { get; } = token;

    public RelayLink Link { get; } = link;

    /// <summary>The nonce of the Auth that made this session: the same Auth again gets the same Welcome.</summary>
    public RelayNonce Nonce { get; } = nonce;

    /// <summary>When the relay issued <see cref="Nonce"/> (challenge clock, ms): an Auth with an older nonce cannot replace this session.</summary>
    public long NonceIssued { get; } = nonceIssued;

    public DateTimeOffset CertificateExpiresAt { get; } = certificateExpiresAt;

    /// <summary>Monotonic timestamp of the last frame from the client.</summary>
    public long LastSeen = now;

    public TokenBucket Packets;
    public TokenBucket Bytes;
    public TokenBucket Notices;
    public TokenBucket RevocationPushes;
}
