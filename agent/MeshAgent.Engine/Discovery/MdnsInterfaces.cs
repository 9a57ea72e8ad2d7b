using System.Net.NetworkInformation;
using System.Net.Sockets;
using MeshAgent.Core.Net;

namespace MeshAgent.Engine.Discovery;

/// <summary>Which of the machine's interfaces mDNS runs on.</summary>
public static class MdnsInterfaces
{
    /// <summary>
    /// Interfaces of the calling thread's network namespace that mDNS can use: not loopback,
    /// multicast-capable, up, with at least one address, and not named in
    /// <paramref name="excluded"/> (the mesh's own TUN device: discovering peers through the mesh
    /// would be circular).
    /// </summary>
    public static IReadOnlyList<MdnsInterface> Enumerate(IReadOnlyCollection<string> excluded)
    {
        var result = new List<MdnsInterface>();
        foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            // OperationalStatus comes from /sys/class/net, which shows the namespace sysfs was
            // mounted in: a thread that entered another network namespace with setns(2) alone reads
            // Unknown (or another device's state). Down and NotPresent are trusted; Unknown is not a no.
            if (nic.NetworkInterfaceType == NetworkInterfaceType.Loopback || !nic.SupportsMulticast
                || nic.OperationalStatus is OperationalStatus.Down or OperationalStatus.NotPresent or OperationalStatus.LowerLayerDown
                || excluded.Contains(nic.Name, StringComparer.Ordinal))
            {
                continue;
            }

            IPInterfaceProperties properties = nic.GetIPProperties();
            List<MdnsInterfaceAddress> addresses = [.. properties.UnicastAddresses
                .Where(u => u.Address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                .Select(u => new MdnsInterfaceAddress(StripScope(u.Address), u.PrefixLength))];
            if (addresses.Count == 0 || IndexOf(nic) is not int index)
            {
                continue;
            }

            result.Add(new MdnsInterface(index, nic.Name, addresses));
        }

        return result;
    }

    /// <summary>The given interfaces without loopback-like and excluded ones (for interface sources other than <see cref="Enumerate"/>).</summary>
    public static IReadOnlyList<MdnsInterface> Filter(IEnumerable<MdnsInterface> interfaces, IReadOnlyCollection<string> excluded) =>
        [.. interfaces.Where(i => !excluded.Contains(i.Name, StringComparer.Ordinal) && i.Addresses.Count > 0)];

    // Scope ids are per-link facts, added where a peer's address is used (IPAddress.ScopeId throws for IPv4).
    private static System.Net.IPAddress StripScope(System.Net.IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new System.Net.IPAddress(address.GetAddressBytes()) : address;

    private static int? IndexOf(NetworkInterface nic)
    {
        try
        {
            return Netlink.GetInterfaceIndex(nic.Name);
        }
        catch (NativeCallException)
        {
            return null; // gone since the enumeration
        }
    }
}
