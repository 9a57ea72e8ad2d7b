using System.Net;

namespace MeshAgent.Engine.Discovery;

/// <summary>Where a datagram came from: the sender's address and port, and the interface it arrived on.</summary>
public readonly record struct MdnsPacketSource(IPEndPoint RemoteEndPoint, int InterfaceIndex);

/// <summary>Receives what an <see cref="IMdnsTransport"/> hears. Calls may come from several threads at once.</summary>
public interface IMdnsReceiver
{
    /// <summary>One UDP payload received on port 5353. Borrowed: <paramref name="packet"/> is valid only during the call.</summary>
    void OnDatagram(ReadOnlySpan<byte> packet, MdnsPacketSource source);

    /// <summary>The set of interfaces, or their addresses, changed; read <see cref="IMdnsTransport.Interfaces"/> again.</summary>
    void OnInterfacesChanged();
}

/// <summary>
/// The sockets under <see cref="MdnsService"/>: port 5353 joined to the mDNS groups on a set of
/// interfaces. The real one is <see cref="UdpMdnsTransport"/>; tests put services on an in-memory
/// multicast bus.
/// </summary>
public interface IMdnsTransport : IDisposable
{
    /// <summary>Interfaces mDNS runs on now (up, multicast-capable, not loopback, not excluded). Datagrams from any other interface are not delivered.</summary>
    IReadOnlyList<MdnsInterface> Interfaces { get; }

    /// <summary>Starts delivering to <paramref name="receiver"/>. Called once.</summary>
    void Start(IMdnsReceiver receiver);

    /// <summary>
    /// Sends <paramref name="packet"/> out of interface <paramref name="interfaceIndex"/> to
    /// <paramref name="destination"/> (a group address on port 5353, or a querier's unicast
    /// address), from port 5353 with IP TTL / hop limit 255 (RFC 6762 §11). False when the send
    /// failed; never throws for network errors. Borrowed: <paramref name="packet"/> only during the call.
    /// </summary>
    bool Send(ReadOnlySpan<byte> packet, int interfaceIndex, IPEndPoint destination);
}
