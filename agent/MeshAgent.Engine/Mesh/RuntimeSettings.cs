using System.Net;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.State;

namespace MeshAgent.Engine.Mesh;

/// <summary>Everything a <see cref="MeshRuntime"/> starts from: loaded from the state directory or received when joining.</summary>
internal sealed class RuntimeSettings
{
    public required NodeIdentity Identity { get; init; }

    public required NetworkRootPublicKey Root { get; init; }

    public required string NetworkName { get; init; }

    public required IPNetwork IPv4Network { get; init; }

    public required IPNetwork IPv6Prefix { get; init; }

    public required MembershipCertificate Certificate { get; init; }

    /// <summary>Held by admins only.</summary>
    public NetworkRootKey? RootKey { get; init; }

    /// <summary>Persisted incarnation; the runtime starts above it.</summary>
    public uint Incarnation { get; init; }

    /// <summary>Version of the last member record this node published; the next one is higher.</summary>
    public ulong RecordVersion { get; init; }

    /// <summary>The join reached the inviter only through the relay's TCP stream (UDP looks blocked): start the TCP relay client at once rather than after the UDP fallback delay.</summary>
    public bool RelayOverTcpFirst { get; init; }

    public IReadOnlyList<SnapshotMember> Members { get; init; } = [];

    /// <summary>The network's relays (from init, or the snapshot received when joining).</summary>
    public IReadOnlyList<NetworkRelay> Relays { get; init; } = [];

    public IReadOnlyList<Revocation> Revocations { get; init; } = [];

    public IReadOnlyList<UsedTokenRecord> UsedTokens { get; init; } = [];

    /// <summary>Gossip seeds to join through (the inviter after a join; every known member after a restart).</summary>
    public IReadOnlyList<MemberId> Seeds { get; init; } = [];

    public required StateDirectory State { get; init; }

    public required FileInvitationStore Invitations { get; init; }
}
