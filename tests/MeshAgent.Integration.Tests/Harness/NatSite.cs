using System.Net;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// A LAN behind a NAT router in a <see cref="Lab"/>: the router namespace ("&lt;name&gt;-rtr")
/// with uplink "wan" and LAN bridge "lan", and its hosts ("&lt;name&gt;-h1", …) on "eth0".
/// </summary>
/// <param name="Index">Site number in the lab (1, 2, …): LAN 10.&lt;index&gt;.0.0/24, public address 203.0.113.&lt;10×index&gt;.</param>
public sealed record NatSite(
    string Name,
    int Index,
    NatType Type,
    NetworkNamespace Router,
    IPAddress PublicAddress,
    IPAddress LanGateway,
    IReadOnlyList<LabHost> Hosts);
