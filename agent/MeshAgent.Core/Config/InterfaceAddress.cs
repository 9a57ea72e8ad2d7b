using System.Net;
using MeshAgent.Core.Net;

namespace MeshAgent.Core.Config;

/// <summary>
/// An <c>Address =</c> entry of wg-quick(8): an address for the interface plus the prefix length of
/// its on-link network. Unlike AllowedIPs, the host bits are the point and are kept.
/// </summary>
public readonly record struct InterfaceAddress(IPAddress Address, int PrefixLength)
{
    /// <summary>The on-link network, host bits cleared (10.0.0.1/24 → 10.0.0.0/24).</summary>
    public IPNetwork Network => IpPrefix.Create(Address, PrefixLength);

    public override string ToString() => $"{Address}/{PrefixLength}";
}
