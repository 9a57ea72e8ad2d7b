using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>Offloads a TUN may hand us (TUNSETOFFLOAD bits, &lt;linux/if_tun.h&gt; TUN_F_*).</summary>
[Flags]
public enum TunOffloads : uint
{
    None = 0,

    /// <summary>Packets may carry a partial L4 checksum (virtio NEEDS_CSUM). Required by every other bit.</summary>
    Checksum = Libc.TUN_F_CSUM,

    /// <summary>TCP/IPv4 superpackets (TSO, virtio GSO TCPV4).</summary>
    Tso4 = Libc.TUN_F_TSO4,

    /// <summary>TCP/IPv6 superpackets (TSO, virtio GSO TCPV6).</summary>
    Tso6 = Libc.TUN_F_TSO6,

    /// <summary>UDP/IPv4 superpackets (USO, kernel &gt;= 6.2). Only effective together with <see cref="Uso6"/>.</summary>
    Uso4 = Libc.TUN_F_USO4,

    /// <summary>UDP/IPv6 superpackets (USO, kernel &gt;= 6.2). Only effective together with <see cref="Uso4"/>.</summary>
    Uso6 = Libc.TUN_F_USO6,

    /// <summary>What wireguard-go enables: checksum + TSO (f333402b, tun/tun_linux.go).</summary>
    Tcp = Checksum | Tso4 | Tso6,

    /// <summary>Checksum + TSO + USO; USO is dropped automatically on kernels older than 6.2.</summary>
    All = Tcp | Uso4 | Uso6,
}

/// <summary>How <see cref="TunDevice"/> opens a device. Defaults are the data plane's choice.</summary>
public sealed record TunOptions
{
    /// <summary>
    /// IFF_VNET_HDR: every packet read or written is preceded by a 10-byte <see cref="VirtioNetHeader"/>.
    /// Default true; needed for any offload.
    /// </summary>
    public bool VirtioHeader { get; init; } = true;

    /// <summary>
    /// Offloads to request (default <see cref="TunOffloads.All"/>). If the kernel rejects USO (EINVAL, kernel &lt; 6.2)
    /// the device is opened with the rest; <see cref="TunDevice.Offloads"/> says what was granted.
    /// Must be None when <see cref="VirtioHeader"/> is false.
    /// </summary>
    public TunOffloads Offloads { get; init; } = TunOffloads.All;

    /// <summary>IFF_MULTI_QUEUE: the device accepts several queue fds (one per reader thread).</summary>
    public bool MultiQueue { get; init; }

    /// <summary>
    /// O_NONBLOCK (default true): Read returns 0 when no packet is queued, so a reader can poll its queue
    /// together with a stop <see cref="EventFd"/> (STYLE rule 3) and drain it without blocking.
    /// </summary>
    public bool NonBlocking { get; init; } = true;
}
