using System.Net;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>A host of a <see cref="Lab"/> internet: a namespace with one uplink.</summary>
/// <param name="Address">The address the host's internet traffic leaves from: private for a host behind a NAT, its own public one otherwise.</param>
/// <param name="PublicAddress">The address the internet sees: its own for a public host or a <see cref="NatType.None"/> site host, the NAT's otherwise.</param>
/// <param name="Device">The uplink device in the host's namespace.</param>
public sealed record LabHost(NetworkNamespace Namespace, IPAddress Address, IPAddress PublicAddress, string Device)
{
    /// <summary>
    /// Every IPv4 address on the host (ICE "host candidates"): <see cref="Address"/>, and for a
    /// <see cref="NatType.None"/> site host also its LAN address, on which LAN neighbours reach it.
    /// </summary>
    public IReadOnlyList<IPAddress> LocalAddresses { get; init; } = [Address];

    /// <summary>The host's address on its site LAN (null for a public host outside any site).</summary>
    public IPAddress? LanAddress { get; init; }

    public override string ToString() => $"{Namespace.Label} ({Address}, public {PublicAddress})";
}
