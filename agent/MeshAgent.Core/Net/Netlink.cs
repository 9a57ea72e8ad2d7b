using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using MeshAgent.Core.Interop.Linux;
using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>
/// Configures links, addresses and routes over rtnetlink (AF_NETLINK, NETLINK_ROUTE) without spawning
/// <c>ip</c>. Every request carries NLM_F_ACK and waits for the kernel's answer; a failure throws a
/// <see cref="NativeCallException"/> naming what was attempted, the errno and the kernel's own
/// extended-ack text when it sends one.
/// </summary>
/// <remarks>
/// The socket belongs to the network namespace of the thread that called <see cref="Open"/>; names are
/// looked up through it (RTM_GETLINK), so later calls from any thread act on that namespace.
/// Thread-safe: requests are serialized. Control-plane use only (synchronous, allocates a little).
/// </remarks>
public sealed class Netlink : IDisposable
{
    /// <summary>RTPROT_STATIC: what <c>ip route add</c> uses by default (as "static").</summary>
    public const byte StaticRouteProtocol = Libc.RTPROT_STATIC;

    /// <summary>RT_TABLE_MAIN.</summary>
    public const uint MainTable = Libc.RT_TABLE_MAIN;

    private readonly SafeFdHandle _socket;
    private readonly Lock _gate = new();
    private readonly byte[] _request = new byte[512];

    // Replies are small (ACKs and one RTM_NEWLINK, a few KiB with statistics); 64 KiB is never truncated.
    private readonly byte[] _response = new byte[64 * 1024];
    private uint _sequence;

    private Netlink(SafeFdHandle socket) => _socket = socket;

    /// <summary>Opens an rtnetlink socket in the calling thread's network namespace.</summary>
    public static unsafe Netlink Open()
    {
        int fd = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_ROUTE);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeCallException($"opening an rtnetlink socket failed: {Errno.Describe(errno)}", errno);
        }

        var socket = new SafeFdHandle(fd);
        try
        {
            var local = new Libc.sockaddr_nl { nl_family = Libc.AF_NETLINK };
            if (Libc.bind(socket, &local, (uint)sizeof(Libc.sockaddr_nl)) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new NativeCallException($"binding an rtnetlink socket failed: {Errno.Describe(errno)}", errno);
            }

            // Best effort (kernel >= 4.12): errors then carry the kernel's text, and do not echo our request.
            int on = 1;
            _ = Libc.setsockopt(socket, Libc.SOL_NETLINK, Libc.NETLINK_EXT_ACK, &on, sizeof(int));
            _ = Libc.setsockopt(socket, Libc.SOL_NETLINK, Libc.NETLINK_CAP_ACK, &on, sizeof(int));
            return new Netlink(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// if_nametoindex(3) in the <em>calling thread's</em> namespace (which may differ from a Netlink
    /// socket's). Throws when there is no such interface.
    /// </summary>
    public static int GetInterfaceIndex(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        uint index = Libc.if_nametoindex(name);
        if (index == 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeCallException($"looking up interface {name} failed: {Errno.Describe(errno)}", errno);
        }

        return (int)index;
    }

    /// <summary>The ifindex of <paramref name="name"/> in this socket's namespace (RTM_GETLINK).</summary>
    public int GetLinkIndex(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_gate)
        {
            var writer = new NetlinkWriter(_request, Libc.RTM_GETLINK, Libc.NLM_F_REQUEST | Libc.NLM_F_ACK, ++_sequence);
            writer.WriteFamilyHeader(new Libc.ifinfomsg { ifi_family = Libc.AF_UNSPEC });
            writer.WriteAttribute(Libc.IFLA_IFNAME, name);
            int index = Transact(writer.Finish(), $"looking up interface {name}");
            if (index <= 0)
            {
                throw new NativeCallException($"looking up interface {name} failed: the kernel acknowledged without describing the link", Libc.ENODEV);
            }

            return index;
        }
    }

    /// <summary>Sets IFF_UP on <paramref name="name"/> (ip link set NAME up).</summary>
    public void SetLinkUp(string name) => SetLinkState(name, up: true);

    /// <summary>Clears IFF_UP on <paramref name="name"/> (ip link set NAME down).</summary>
    public void SetLinkDown(string name) => SetLinkState(name, up: false);

    /// <summary>Sets the MTU of <paramref name="name"/> (RTM_NEWLINK + IFLA_MTU).</summary>
    public void SetMtu(string name, int mtu)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 68);
        lock (_gate)
        {
            var writer = new NetlinkWriter(_request, Libc.RTM_NEWLINK, Libc.NLM_F_REQUEST | Libc.NLM_F_ACK, ++_sequence);
            writer.WriteFamilyHeader(new Libc.ifinfomsg { ifi_family = Libc.AF_UNSPEC });
            writer.WriteAttribute(Libc.IFLA_IFNAME, name);
            writer.WriteAttribute(Libc.IFLA_MTU, (uint)mtu);
            Transact(writer.Finish(), $"setting the MTU of {name} to {mtu}");
        }
    }

    /// <summary>Adds <paramref name="address"/>/<paramref name="prefixLength"/> to <paramref name="device"/>; fails with EEXIST if present.</summary>
    public void AddAddress(string device, IPAddress address, int prefixLength) =>
        ChangeAddress(Libc.RTM_NEWADDR, Libc.NLM_F_CREATE | Libc.NLM_F_EXCL, device, address, prefixLength, "adding", "to");

    /// <summary>Deletes <paramref name="address"/>/<paramref name="prefixLength"/> from <paramref name="device"/>.</summary>
    public void DeleteAddress(string device, IPAddress address, int prefixLength) =>
        ChangeAddress(Libc.RTM_DELADDR, 0, device, address, prefixLength, "deleting", "from");

    /// <summary>
    /// Adds a route to <paramref name="destination"/> out of <paramref name="device"/> without a gateway
    /// (IPv4 scope link, as <c>ip route add DST dev DEV</c>). Fails with EEXIST if the same route exists.
    /// </summary>
    /// <param name="protocol">rtm_protocol, so routes can be told apart (and flushed) by owner.</param>
    /// <param name="table">Routing table; tables above 255 go in RTA_TABLE.</param>
    /// <param name="metric">RTA_PRIORITY, or null for the kernel default.</param>
    public void AddRoute(string device, IPNetwork destination, byte protocol = StaticRouteProtocol, uint table = MainTable, uint? metric = null) =>
        ChangeRoute(Libc.RTM_NEWROUTE, Libc.NLM_F_CREATE | Libc.NLM_F_EXCL, device, destination, protocol, table, metric);

    /// <summary>Deletes the route <see cref="AddRoute"/> added (matching device, protocol, table and metric if given).</summary>
    public void DeleteRoute(string device, IPNetwork destination, byte protocol = StaticRouteProtocol, uint table = MainTable, uint? metric = null) =>
        ChangeRoute(Libc.RTM_DELROUTE, 0, device, destination, protocol, table, metric);

    public void Dispose() => _socket.Dispose();

    private void SetLinkState(string name, bool up)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_gate)
        {
            var writer = new NetlinkWriter(_request, Libc.RTM_NEWLINK, Libc.NLM_F_REQUEST | Libc.NLM_F_ACK, ++_sequence);
            writer.WriteFamilyHeader(new Libc.ifinfomsg
            {
                ifi_family = Libc.AF_UNSPEC,
                ifi_flags = up ? Libc.IFF_UP : 0,
                ifi_change = Libc.IFF_UP,
            });
            writer.WriteAttribute(Libc.IFLA_IFNAME, name);
            Transact(writer.Finish(), $"setting link {name} {(up ? "up" : "down")}");
        }
    }

    private void ChangeAddress(ushort type, ushort flags, string device, IPAddress address, int prefixLength, string verb, string preposition)
    {
        ArgumentNullException.ThrowIfNull(address);
        (byte family, int maxPrefix) = Family(address.AddressFamily);
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, maxPrefix);
        string attempt = $"{verb} address {address}/{prefixLength} {preposition} {device}";
        int index = LinkIndexFor(device, attempt);

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        lock (_gate)
        {
            var writer = new NetlinkWriter(_request, type, (ushort)(Libc.NLM_F_REQUEST | Libc.NLM_F_ACK | flags), ++_sequence);
            writer.WriteFamilyHeader(new Libc.ifaddrmsg
            {
                ifa_family = family,
                ifa_prefixlen = (byte)prefixLength,
                ifa_scope = Libc.RT_SCOPE_UNIVERSE,
                ifa_index = (uint)index,
            });

            // IFA_LOCAL is the interface's own address; IFA_ADDRESS equal to it means "not point-to-point"
            // (the kernel then derives the prefix route from it), as iproute2 sends.
            writer.WriteAttribute(Libc.IFA_LOCAL, bytes[..written]);
            writer.WriteAttribute(Libc.IFA_ADDRESS, bytes[..written]);
            Transact(writer.Finish(), attempt);
        }
    }

    private void ChangeRoute(ushort type, ushort flags, string device, IPNetwork destination, byte protocol, uint table, uint? metric)
    {
        (byte family, _) = Family(destination.BaseAddress.AddressFamily);
        bool add = type == Libc.RTM_NEWROUTE;
        string attempt = $"{(add ? "adding" : "deleting")} route {destination} {(add ? "to" : "from")} {device}";
        int index = LinkIndexFor(device, attempt);

        Span<byte> bytes = stackalloc byte[16];
        destination.BaseAddress.TryWriteBytes(bytes, out int written);
        lock (_gate)
        {
            var writer = new NetlinkWriter(_request, type, (ushort)(Libc.NLM_F_REQUEST | Libc.NLM_F_ACK | flags), ++_sequence);

            // iproute2's choices: an IPv4 route without gateway is scope link, IPv6 routes are scope universe;
            // a delete says "any scope" (RT_SCOPE_NOWHERE) and leaves the type open.
            byte scope = !add ? Libc.RT_SCOPE_NOWHERE
                : family == Libc.AF_INET ? Libc.RT_SCOPE_LINK : Libc.RT_SCOPE_UNIVERSE;
            writer.WriteFamilyHeader(new Libc.rtmsg
            {
                rtm_family = family,
                rtm_dst_len = (byte)destination.PrefixLength,
                rtm_table = table < 256 ? (byte)table : Libc.RT_TABLE_UNSPEC,
                rtm_protocol = protocol,
                rtm_scope = scope,
                rtm_type = add ? Libc.RTN_UNICAST : (byte)0,
            });
            if (destination.PrefixLength > 0)
            {
                writer.WriteAttribute(Libc.RTA_DST, bytes[..written]);
            }

            writer.WriteAttribute(Libc.RTA_OIF, (uint)index);
            if (table >= 256)
            {
                writer.WriteAttribute(Libc.RTA_TABLE, table);
            }

            if (metric is uint priority)
            {
                writer.WriteAttribute(Libc.RTA_PRIORITY, priority);
            }

            Transact(writer.Finish(), attempt);
        }
    }

    private int LinkIndexFor(string device, string attempt)
    {
        try
        {
            return GetLinkIndex(device);
        }
        catch (NativeCallException e)
        {
            throw new NativeCallException($"{attempt} failed: {e.Message}", e.Errno);
        }
    }

    private static (byte Family, int MaxPrefix) Family(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => (Libc.AF_INET, 32),
        AddressFamily.InterNetworkV6 => (Libc.AF_INET6, 128),
        _ => throw new ArgumentException($"only IPv4 and IPv6 are supported, not {family}"),
    };

    /// <summary>
    /// Sends the request in <see cref="_request"/> and reads replies until the NLMSG_ERROR for its sequence
    /// number. Returns the ifi_index of an RTM_NEWLINK reply (RTM_GETLINK), else 0. Throws on a negative error.
    /// </summary>
    private unsafe int Transact(int length, string attempt)
    {
        uint sequence = _sequence;
        fixed (byte* request = _request)
        {
            while (true)
            {
                nint sent = Libc.send(_socket, request, (nuint)length, 0);
                if (sent == length)
                {
                    break;
                }

                int errno = sent < 0 ? Marshal.GetLastPInvokeError() : Libc.EMSGSIZE;
                if (errno != Libc.EINTR)
                {
                    throw new NativeCallException($"{attempt} failed: sending the netlink request: {Errno.Describe(errno)}", errno);
                }
            }
        }

        int linkIndex = 0;
        while (true)
        {
            int received = Receive(attempt);
            ReadOnlySpan<byte> data = _response.AsSpan(0, received);
            while (data.Length >= Libc.NLMSG_HDRLEN)
            {
                var header = MemoryMarshal.Read<Libc.nlmsghdr>(data);
                if (header.nlmsg_len < Libc.NLMSG_HDRLEN || header.nlmsg_len > data.Length)
                {
                    break;
                }

                ReadOnlySpan<byte> message = data[..(int)header.nlmsg_len];
                data = data[Math.Min(data.Length, Libc.NLMSG_ALIGN((int)header.nlmsg_len))..];
                if (header.nlmsg_seq != sequence)
                {
                    continue; // a late reply to an earlier request; not ours
                }

                if (header.nlmsg_type == Libc.RTM_NEWLINK && message.Length >= Libc.NLMSG_HDRLEN + sizeof(Libc.ifinfomsg))
                {
                    linkIndex = MemoryMarshal.Read<Libc.ifinfomsg>(message[Libc.NLMSG_HDRLEN..]).ifi_index;
                }
                else if (header.nlmsg_type == Libc.NLMSG_ERROR)
                {
                    int error = NetlinkError.Read(message, out string? kernelText);
                    if (error == 0)
                    {
                        return linkIndex;
                    }

                    throw new NativeCallException(NetlinkError.Format(attempt, -error, kernelText), -error);
                }
                else if (header.nlmsg_type == Libc.NLMSG_DONE)
                {
                    return linkIndex;
                }
            }
        }
    }

    private unsafe int Receive(string attempt)
    {
        fixed (byte* buffer = _response)
        {
            while (true)
            {
                nint n = Libc.recv(_socket, buffer, (nuint)_response.Length, 0);
                if (n >= 0)
                {
                    return (int)n;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                {
                    throw new NativeCallException($"{attempt} failed: reading the netlink reply: {Errno.Describe(errno)}", errno);
                }
            }
        }
    }
}

/// <summary>Decodes NLMSG_ERROR replies (&lt;linux/netlink.h&gt; struct nlmsgerr + extended-ack TLVs).</summary>
internal static class NetlinkError
{
    /// <summary>
    /// Reads the error field (0 = ACK, else -errno) and, when the kernel attached one, the
    /// NLMSGERR_ATTR_MSG text. Malformed input yields -EBADMSG-like -EINVAL without throwing.
    /// </summary>
    /// <remarks>
    /// <code>
    /// nlmsghdr | nlmsgerr { int error; nlmsghdr msg; } | [request payload unless NLM_F_CAPPED] | [TLVs if NLM_F_ACK_TLVS]
    /// </code>
    /// </remarks>
    public static unsafe int Read(ReadOnlySpan<byte> message, out string? kernelText)
    {
        kernelText = null;
        int errorOffset = Libc.NLMSG_HDRLEN;
        if (message.Length < errorOffset + sizeof(Libc.nlmsgerr))
        {
            return -Libc.EINVAL;
        }

        var header = MemoryMarshal.Read<Libc.nlmsghdr>(message);
        var error = MemoryMarshal.Read<Libc.nlmsgerr>(message[errorOffset..]);
        if ((header.nlmsg_flags & Libc.NLM_F_ACK_TLVS) == 0)
        {
            return error.error;
        }

        int tlvOffset = errorOffset + sizeof(Libc.nlmsgerr);
        if ((header.nlmsg_flags & Libc.NLM_F_CAPPED) == 0)
        {
            tlvOffset += Libc.NLMSG_ALIGN((int)error.msg.nlmsg_len - Libc.NLMSG_HDRLEN);
        }

        ReadOnlySpan<byte> tlvs = tlvOffset <= message.Length ? message[tlvOffset..] : default;
        while (tlvs.Length >= sizeof(Libc.rtattr))
        {
            var attribute = MemoryMarshal.Read<Libc.rtattr>(tlvs);
            if (attribute.rta_len < sizeof(Libc.rtattr) || attribute.rta_len > tlvs.Length)
            {
                break;
            }

            if (attribute.rta_type == Libc.NLMSGERR_ATTR_MSG)
            {
                ReadOnlySpan<byte> text = tlvs[Libc.RTA_LENGTH(0)..attribute.rta_len];
                int nul = text.IndexOf((byte)0);
                kernelText = Encoding.UTF8.GetString(nul >= 0 ? text[..nul] : text);
            }

            tlvs = tlvs[Math.Min(tlvs.Length, Libc.RTA_ALIGN(attribute.rta_len))..];
        }

        return error.error;
    }

    /// <summary>"adding address 10.0.0.1/24 to mesh0 failed: file exists (EEXIST): kernel text — hint".</summary>
    public static string Format(string attempt, int errno, string? kernelText)
    {
        string text = $"{attempt} failed: {Errno.Describe(errno)}";
        if (!string.IsNullOrWhiteSpace(kernelText))
        {
            text += $": {kernelText.Trim()}";
        }

        if (errno == Libc.EPERM)
        {
            text += " — run as root or grant CAP_NET_ADMIN";
        }
        else if (errno == Libc.ENODEV)
        {
            text += " — check the interface exists in this network namespace (ip link)";
        }

        return text;
    }
}
