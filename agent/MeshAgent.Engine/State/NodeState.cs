using System.Text.Json.Serialization;

namespace MeshAgent.Engine.State;

/// <summary>
/// What a node must remember across restarts to come back as the same member with the same addresses
/// (node.json in the state directory, <see cref="StateDirectory.SaveNodeState"/>). Byte arrays hold the
/// wire encodings of the trust objects, so this file never needs a second codec for them; in JSON they
/// are base64. Readers refuse a <see cref="Format"/> above <see cref="CurrentFormat"/> rather than
/// guess at fields they do not know.
/// </summary>
public sealed record NodeState
{
    /// <summary>The format this version writes and the highest it reads.</summary>
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;

    public required string NetworkName { get; init; }

    /// <summary>The network's Ed25519 root public key (32 bytes).</summary>
    public required byte[] RootPublicKey { get; init; }

    /// <summary>The network's IPv4 overlay range, e.g. 100.96.0.0/16.</summary>
    [JsonPropertyName("ipv4Network")]
    public required string IPv4Network { get; init; }

    /// <summary>The network's IPv6 overlay prefix, e.g. fd7a:115c:a1e0::/48.</summary>
    [JsonPropertyName("ipv6Prefix")]
    public required string IPv6Prefix { get; init; }

    /// <summary>This node's encoded MembershipCertificate.</summary>
    public required byte[] Certificate { get; init; }

    /// <summary>Gossip incarnation. Must never go back across restarts: the caller saves it before announcing a higher one.</summary>
    public uint Incarnation { get; init; }

    /// <summary>Version of this node's last published MemberRecord (same rule as <see cref="Incarnation"/>).</summary>
    public ulong RecordVersion { get; init; }

    /// <summary>Encoded MemberRecords of the other members, as last known: a restarted node starts from them instead of an empty view.</summary>
    public IReadOnlyList<byte[]> Members { get; init; } = [];

    /// <summary>Encoded Revocations, kept forever (DESIGN §3).</summary>
    public IReadOnlyList<byte[]> Revocations { get; init; } = [];

    /// <summary>
    /// The network's relays (DESIGN §5). Absent in files written before relays existed: read as none (the
    /// source-generated reader leaves an absent collection null rather than running the initializer).
    /// </summary>
    public IReadOnlyList<Mesh.NetworkRelay> Relays
    {
        get => _relays ?? [];
        init => _relays = value;
    }

    private readonly IReadOnlyList<Mesh.NetworkRelay>? _relays;

    /// <summary>This node ran `meshagent leave`.</summary>
    public bool Left { get; init; }

    /// <summary>A revocation of this node's certificate was seen.</summary>
    public bool Revoked { get; init; }
}
