using System.Net;

namespace MeshAgent.Core.Trust;

/// <summary>
/// The dynamic part of a member record, which the node itself signs (input to <see cref="MemberRecord.Create"/>).
/// </summary>
public sealed record MemberStateFields
{
    /// <summary>
    /// Strictly increasing per node: a record with a higher version replaces a lower one everywhere.
    /// Use <see cref="MemberRecord.NextVersion"/> so a node that lost its saved version still outranks its old records.
    /// </summary>
    public required ulong Version { get; init; }

    /// <summary>Where the node can be reached, most preferred first. At most <see cref="MemberRecord.MaxEndpoints"/>, no duplicates.</summary>
    public IReadOnlyList<IPEndPoint> Endpoints { get; init; } = [];

    /// <summary>Subnets routed through this node now; each must lie inside an approved route of the certificate.</summary>
    public IReadOnlyList<IPNetwork> AdvertisedRoutes { get; init; } = [];

    /// <summary>The relay this node is reachable through, if any (1..255 bytes of UTF-8; not interpreted here).</summary>
    public string? RelayHome { get; init; }

    /// <summary>When the node signed this state (whole Unix seconds).</summary>
    public required DateTimeOffset Timestamp { get; init; }
}
