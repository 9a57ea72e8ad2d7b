using System.Net;

namespace MeshAgent.Core.Net;

/// <summary>Endpoint forms shared by everything that uses a dual-stack socket.</summary>
public static class IPEndPointExtensions
{
    /// <summary>
    /// The endpoint with an IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports)
    /// turned back into plain IPv4, for comparisons with configured addresses and for people to read.
    /// Other endpoints are returned as they are.
    /// </summary>
    public static IPEndPoint Unmapped(this IPEndPoint endpoint) =>
        endpoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port) : endpoint;
}
