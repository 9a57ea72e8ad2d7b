using System.Net;
using System.Net.Sockets;

namespace MeshAgent.Engine.Discovery;

/// <summary>
/// mDNS over real sockets: one IPv4 socket on 0.0.0.0:5353 and one IPv6 socket on [::]:5353
/// (IPv6-only), each joined to its group (224.0.0.251, ff02::fb) on every usable interface, with
/// IP_PKTINFO so each datagram names the interface it arrived on. The sockets are opened in the
/// constructor, so they belong to the calling thread's network namespace.
/// <para>
/// Sharing the port: other responders (avahi-daemon, systemd-resolved) also bind 5353; all set
/// SO_REUSEADDR, and the kernel then hands every multicast datagram to each socket. .NET sets
/// SO_REUSEPORT along with SO_REUSEADDR on Linux. Multicast loopback stays on: a responder on this
/// same host (avahi) must hear us; our own packets heard back are recognised by the service.
/// </para>
/// Thread-safe. Control plane only: a few packets per second, so sends may take a lock.
/// </summary>
public sealed class UdpMdnsTransport : IMdnsTransport
{
    private const int ReceiveBufferSize = 65536;

    private readonly UdpMdnsTransportOptions _options;
    private readonly Func<IReadOnlyList<MdnsInterface>> _source;
    private readonly Socket _ipv4;
    private readonly Socket? _ipv6;
    private readonly Lock _gate = new();
    private readonly Lock _sendGate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<int> _joinedIpv4 = [];
    private readonly HashSet<int> _joinedIpv6 = [];
    private IReadOnlyList<MdnsInterface> _interfaces = [];
    private IMdnsReceiver? _receiver;
    private int _disposed;

    /// <exception cref="InvalidOperationException">UDP port 5353 cannot be opened; the message says why and what to do.</exception>
    public UdpMdnsTransport(UdpMdnsTransportOptions? options = null)
    {
        _options = options ?? new UdpMdnsTransportOptions();
        _source = _options.InterfaceSource ?? (() => MdnsInterfaces.Enumerate(_options.ExcludedInterfaces));
        _ipv4 = Open(AddressFamily.InterNetwork);
        if (_options.UseIpv6)
        {
            try
            {
                _ipv6 = Open(AddressFamily.InterNetworkV6);
            }
            catch (InvalidOperationException e)
            {
                Ipv6Unavailable = e.Message;
            }
        }

        RefreshInterfaces();
    }

    /// <summary>Why IPv6 is not used, when the IPv6 socket could not be opened (IPv6 disabled on the host); null otherwise.</summary>
    public string? Ipv6Unavailable { get; }

    public IReadOnlyList<MdnsInterface> Interfaces
    {
        get
        {
            lock (_gate)
            {
                return _interfaces;
            }
        }
    }

    public void Start(IMdnsReceiver receiver)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (Interlocked.CompareExchange(ref _receiver, receiver, null) is not null)
        {
            throw new InvalidOperationException("the mDNS transport was already started");
        }

        _ = Task.Run(() => ReceiveLoopAsync(_ipv4, new IPEndPoint(IPAddress.Any, 0)));
        if (_ipv6 is not null)
        {
            _ = Task.Run(() => ReceiveLoopAsync(_ipv6, new IPEndPoint(IPAddress.IPv6Any, 0)));
        }

        _ = Task.Run(PollInterfacesAsync);
    }

    public bool Send(ReadOnlySpan<byte> packet, int interfaceIndex, IPEndPoint destination)
    {
        try
        {
            if (destination.AddressFamily == AddressFamily.InterNetwork)
            {
                lock (_sendGate)
                {
                    if (IsMulticast(destination.Address))
                    {
                        SetIpv4MulticastInterface(interfaceIndex);
                    }

                    _ipv4.SendTo(packet, SocketFlags.None, destination);
                }

                return true;
            }

            if (_ipv6 is null)
            {
                return false;
            }

            // A link-local or multicast destination names its link by scope id.
            IPEndPoint target = destination.Address.ScopeId == 0 && (destination.Address.IsIPv6LinkLocal || destination.Address.IsIPv6Multicast)
                ? new IPEndPoint(new IPAddress(destination.Address.GetAddressBytes(), interfaceIndex), destination.Port)
                : destination;
            lock (_sendGate)
            {
                if (destination.Address.IsIPv6Multicast)
                {
                    _ipv6.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, interfaceIndex);
                }

                _ipv6.SendTo(packet, SocketFlags.None, target);
            }

            return true;
        }
        catch (SocketException)
        {
            return false; // e.g. the interface went down between the poll and now; the service counts it
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        _ipv4.Dispose();
        _ipv6?.Dispose();
        _stop.Dispose();
    }

    private static bool IsMulticast(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork ? (address.GetAddressBytes()[0] & 0xF0) == 0xE0 : address.IsIPv6Multicast;

    private static Socket Open(AddressFamily family)
    {
        bool v6 = family == AddressFamily.InterNetworkV6;
        Socket socket;
        try
        {
            socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"creating the mDNS {(v6 ? "IPv6" : "IPv4")} socket failed: {e.Message} ({e.SocketErrorCode})", e);
        }

        try
        {
            if (v6)
            {
                socket.DualMode = false; // IPv4 has its own socket and group
            }

            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(v6 ? IPAddress.IPv6Any : IPAddress.Any, MdnsProtocol.Port));
            SocketOptionLevel level = v6 ? SocketOptionLevel.IPv6 : SocketOptionLevel.IP;
            socket.SetSocketOption(level, SocketOptionName.PacketInformation, true);
            // RFC 6762 §11: every mDNS packet leaves with IP TTL / hop limit 255.
            socket.SetSocketOption(level, SocketOptionName.MulticastTimeToLive, 255);
            socket.SetSocketOption(level, SocketOptionName.MulticastLoopback, true);
            socket.Ttl = 255;
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            string hint = e.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? "another program holds UDP port 5353 without SO_REUSEADDR; stop it, or turn LAN discovery off"
                : "check that the network stack allows UDP on port 5353 (root is not needed)";
            throw new InvalidOperationException($"opening the mDNS {(v6 ? "IPv6" : "IPv4")} socket on UDP port {MdnsProtocol.Port} failed: {e.Message} ({e.SocketErrorCode}) — {hint}", e);
        }
    }

    /// <summary>
    /// IP_MULTICAST_IF with a struct ip_mreqn {imr_multiaddr = 0, imr_address = 0, imr_ifindex}
    /// (ip(7)): chooses the outgoing interface by index, which works for an interface whatever its
    /// addresses. The 12 bytes go to setsockopt(2) unchanged.
    /// </summary>
    private void SetIpv4MulticastInterface(int interfaceIndex)
    {
        byte[] mreqn = new byte[12];
        BitConverter.TryWriteBytes(mreqn.AsSpan(8), interfaceIndex); // native byte order, as the C struct

        _ipv4.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, mreqn);
    }

    private async Task ReceiveLoopAsync(Socket socket, IPEndPoint any)
    {
        byte[] buffer = new byte[ReceiveBufferSize];
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            SocketReceiveMessageFromResult result;
            try
            {
                result = await socket.ReceiveMessageFromAsync(buffer, SocketFlags.None, any, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // a queued ICMP error for an earlier unicast send; nothing to do
            }

            int index = result.PacketInformation.Interface;
            if (!IsActive(index))
            {
                continue; // an interface we do not run on (the mesh's TUN, loopback): the socket is bound to all
            }

            try
            {
                _receiver?.OnDatagram(buffer.AsSpan(0, result.ReceivedBytes), new MdnsPacketSource((IPEndPoint)result.RemoteEndPoint, index));
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                // The service never throws on network input; a bug there must not end discovery for good.
            }
        }
    }

    private async Task PollInterfacesAsync()
    {
        try
        {
            using var timer = new PeriodicTimer(_options.InterfacePollInterval);
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                if (RefreshInterfaces())
                {
                    _receiver?.OnInterfacesChanged();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private bool IsActive(int index)
    {
        lock (_gate)
        {
            return _joinedIpv4.Contains(index) || _joinedIpv6.Contains(index);
        }
    }

    /// <summary>Lists interfaces again, joins the groups on new ones and leaves them on gone ones; true when the list changed.</summary>
    private bool RefreshInterfaces()
    {
        IReadOnlyList<MdnsInterface> candidates;
        try
        {
            candidates = MdnsInterfaces.Filter(_source(), _options.ExcludedInterfaces);
        }
        catch (Exception e) when (e is System.Net.NetworkInformation.NetworkInformationException or IOException or SocketException)
        {
            return false; // keep the last good list
        }

        lock (_gate)
        {
            if (_disposed != 0)
            {
                return false;
            }

            var active = new List<MdnsInterface>();
            foreach (MdnsInterface iface in candidates)
            {
                bool v4 = iface.HasIpv4 && Join(_ipv4, _joinedIpv4, iface.Index);
                bool v6 = iface.HasIpv6 && _ipv6 is not null && Join(_ipv6, _joinedIpv6, iface.Index);
                if (v4 || v6)
                {
                    active.Add(iface with { Addresses = [.. iface.Addresses.Where(a => a.Address.AddressFamily == AddressFamily.InterNetwork ? v4 : v6)] });
                }
            }

            foreach (int index in _joinedIpv4.Where(i => !active.Any(a => a.Index == i && a.HasIpv4)).ToList())
            {
                Leave(_ipv4, _joinedIpv4, index);
            }

            foreach (int index in _joinedIpv6.Where(i => !active.Any(a => a.Index == i && a.HasIpv6)).ToList())
            {
                Leave(_ipv6!, _joinedIpv6, index);
            }

            bool changed = active.Count != _interfaces.Count || active.Any(a => !_interfaces.Any(i => i.SameAs(a)));
            _interfaces = active;
            return changed;
        }
    }

    private static bool Join(Socket socket, HashSet<int> joined, int index)
    {
        if (joined.Contains(index))
        {
            return true;
        }

        try
        {
            if (socket.AddressFamily == AddressFamily.InterNetwork)
            {
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(MdnsProtocol.Ipv4Group, index));
            }
            else
            {
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(MdnsProtocol.Ipv6Group, index));
            }
        }
        catch (SocketException e) when (e.SocketErrorCode != SocketError.AddressAlreadyInUse)
        {
            return false; // the interface vanished, or has no multicast after all: try again at the next poll
        }
        catch (SocketException)
        {
            // Already a member (joined before a restart of our bookkeeping): fine.
        }

        joined.Add(index);
        return true;
    }

    private static void Leave(Socket socket, HashSet<int> joined, int index)
    {
        joined.Remove(index);
        try
        {
            if (socket.AddressFamily == AddressFamily.InterNetwork)
            {
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.DropMembership, new MulticastOption(MdnsProtocol.Ipv4Group, index));
            }
            else
            {
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.DropMembership, new IPv6MulticastOption(MdnsProtocol.Ipv6Group, index));
            }
        }
        catch (SocketException)
        {
            // The interface is gone, and its memberships with it.
        }
    }
}
