using MeshAgent.Core.Trust;
using MeshAgent.Core.Net;

namespace MeshAgent.Relay;

/// <summary>
/// One joiner (no certificate) talking to one inviter through the relay (RelayProtocol, "Joining through the
/// relay"): the joiner's link, the network and inviter it named, and the channel's limits. Owned by
/// <see cref="RelayHub"/>; every field is read and written under the hub's lock.
/// </summary>
internal sealed class JoinChannel(ulong id, RelayLink joiner, NetworkRootPublicKey network, NodePublicKey inviter, long now)
{
    /// <summary>Random, never 0; the inviter answers on it.</summary>
    public ulong Id { get; } = id;

    /// <summary>Where the joiner's messages come from and the inviter's answers go.</summary>
    public RelayLink Joiner { get; } = joiner;

    public NetworkRootPublicKey Network { get; } = network;

    /// <summary>The only session that may receive this channel's messages and answer on it.</summary>
    public NodePublicKey Inviter { get; } = inviter;

    /// <summary>Monotonic timestamp of the channel's opening (the lifetime bound).</summary>
    public long OpenedAt { get; } = now;

    /// <summary>Monotonic timestamp of the joiner's last message (the idle bound).</summary>
    public long LastSeen = now;

    /// <summary>Replies forwarded so far (bounded per channel).</summary>
    public int Replies;

    /// <summary>Joiner messages; refills at the configured rate.</summary>
    public TokenBucket Messages;

    /// <summary>JoinUnreachable notices, one a second.</summary>
    public TokenBucket Notices;
}
