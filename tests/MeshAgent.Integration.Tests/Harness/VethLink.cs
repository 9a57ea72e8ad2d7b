using System.Net;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>One end of a veth pair: the device in its namespace and its addresses.</summary>
/// <param name="Ipv4">Address on the link's /24 (see <see cref="Lab.ConnectAsync"/> for the plan).</param>
/// <param name="Ipv6">Address on the link's /64, added with "nodad" (usable at once).</param>
public sealed record VethEnd(NetworkNamespace Namespace, string Device, IPAddress Ipv4, IPAddress Ipv6);

/// <summary>A veth pair between two namespaces (link number <paramref name="Index"/> of its lab).</summary>
public sealed record VethLink(int Index, VethEnd A, VethEnd B);
