using System.Net;

namespace MeshAgent.Core.Trust;

/// <summary>
/// What an admin decides when issuing a certificate (input to <see cref="MembershipCertificate.Issue"/>).
/// Times are kept to whole Unix seconds (the sub-second part is dropped); routes and tags are sets, put in
/// canonical order and de-duplicated by <see cref="MembershipCertificate.Issue"/>.
/// </summary>
public sealed record CertificateFields
{
    public required NodePublicKey NodeKey { get; init; }

    /// <summary>See <see cref="NodeName"/>.</summary>
    public required string Name { get; init; }

    public required IPAddress OverlayIPv4 { get; init; }

    public required IPAddress OverlayIPv6 { get; init; }

    /// <summary>Subnets the node may advertise and route for (DESIGN §6). At most <see cref="MembershipCertificate.MaxRoutes"/>.</summary>
    public IReadOnlyList<IPNetwork> ApprovedRoutes { get; init; } = [];

    /// <summary>Free-form labels, 1–63 printable ASCII characters without spaces. At most <see cref="MembershipCertificate.MaxTags"/>.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    public required DateTimeOffset IssuedAt { get; init; }

    /// <summary>Must be later than <see cref="IssuedAt"/>.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>The node holds the network root key and may issue certificates, invitations and revocations.</summary>
    public bool IsAdmin { get; init; }
}
