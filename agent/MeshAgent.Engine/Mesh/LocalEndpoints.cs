using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace MeshAgent.Engine.Mesh;

/// <summary>
/// This machine's candidate endpoints for its member record: every address of every interface that is up,
/// except loopback, link-local IPv6, the mesh's own TUN and addresses inside the overlay networks, each
/// with the agent's UDP port. IPv4 first (what most LANs route), then global IPv6.
/// </summary>
internal static class LocalEndpoints
{
    public static IReadOnlyList<IPEndPoint> Discover(int port, string tunName, IPNetwork overlayV4, IPNetwork overlayV6)
    {
        var v4 = new List<IPEndPoint>();
        var v6 = new List<IPEndPoint>();
        NetworkInterface[] interfaces;
        try
        {
            interfaces = NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (NetworkInformationException)
        {
            return [];
        }

        foreach (NetworkInterface nic in interfaces)
        {
            if (nic.Name == tunName || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback
                || nic.OperationalStatus is OperationalStatus.Down or OperationalStatus.NotPresent or OperationalStatus.LowerLayerDown)
            {
                continue;
            }

            foreach (UnicastIPAddressInformation unicast in nic.GetIPProperties().UnicastAddresses)
            {
                IPAddress address = unicast.Address;
                if (IPAddress.IsLoopback(address) || overlayV4.Contains(address) || overlayV6.Contains(address))
                {
                    continue;
                }

                if (address.AddressFamily == AddressFamily.InterNetwork)
                {
                    v4.Add(new IPEndPoint(address, port));
                }
                else if (address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv6LinkLocal && !address.IsIPv6Multicast)
                {
                    v6.Add(new IPEndPoint(address, port));
                }
            }
        }

        v4.Sort(static (a, b) => a.Address.ToString().CompareTo(b.Address.ToString()));
        v6.Sort(static (a, b) => a.Address.ToString().CompareTo(b.Address.ToString()));
        return [.. v4, .. v6.Take(Math.Max(0, Core.Trust.MemberRecord.MaxEndpoints - v4.Count))];
    }
}
