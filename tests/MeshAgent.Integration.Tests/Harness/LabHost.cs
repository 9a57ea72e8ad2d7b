using System.Net;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>A host of a <see cref="Lab"/> internet: a namespace with one uplink.</summary>
/// <param name="Address">The host's own IPv4 address (private for a host behind a NAT).</param>
/// <param name="PublicAddress">The address the internet sees: its own for a public host, the NAT router's otherwise.</param>
/// <param name="Device">The uplink device in the host's namespace.</param>
public sealed record LabHost(NetworkNamespace Namespace, IPAddress Address, IPAddress PublicAddress, string Device);
