using System.Net;

namespace MeshAgent.Core.Net;

/// <summary>How <see cref="UdpBatchSocket.Open(UdpBatchOptions)"/> sets up a socket. Defaults are the data plane's choice.</summary>
public sealed record UdpBatchOptions
{
    /// <summary>wireguard-go's socket buffer size (f26efb6): 7 MiB took a 125 µs-RTT link from 4.08 to 5.27 Gb/s.</summary>
    public const int DefaultBufferSize = 7 << 20;

    /// <summary>Address and port to bind; port 0 picks a free one. Default [::]:0.</summary>
    public IPEndPoint LocalEndPoint { get; init; } = new(IPAddress.IPv6Any, 0);

    /// <summary>
    /// For an IPv6 bind address: also carry IPv4 (IPV6_V6ONLY = 0; IPv4 peers appear as ::ffff:a.b.c.d and are
    /// normalized by <see cref="UdpEndpoint"/>). Default true: one socket and one reader per queue serve both
    /// families, as in nebula. Turn it off to run separate IPv4 and IPv6 sockets (wireguard-go's layout).
    /// </summary>
    public bool DualStack { get; init; } = true;

    /// <summary>SO_REUSEPORT, so N sockets (one per multi-queue reader) share the port; the kernel spreads flows.</summary>
    public bool ReusePort { get; init; }

    /// <summary>
    /// SO_RCVBUF and SO_SNDBUF, set with the *FORCE variants (CAP_NET_ADMIN, beyond net.core.rmem_max) and
    /// falling back to the plain ones. Larger buffers absorb bursts but add latency under load (bufferbloat).
    /// </summary>
    public int BufferSize { get; init; } = DefaultBufferSize;

    /// <summary>Use UDP_SEGMENT (GSO) when the kernel supports it (Linux &gt;= 4.18). Default true.</summary>
    public bool Gso { get; init; } = true;

    /// <summary>
    /// Enable UDP_GRO (coalesced receives) when getsockopt(UDP_GRO) works, i.e. Linux &gt;= 5.12 — older kernels'
    /// GRO is unreliable (wireguard-go c92064f). Receive buffers must then hold 64 KiB messages. Default true.
    /// </summary>
    public bool Gro { get; init; } = true;
}

/// <summary>What <see cref="UdpBatchSocket.Send"/> did with a batch.</summary>
/// <param name="Sent">Messages handed to the kernel (a GSO message counts once).</param>
/// <param name="Failed">Messages dropped because the kernel refused them (unreachable, too big, wrong family, ...).</param>
/// <param name="LastError">The errno of the last refusal, 0 if none.</param>
public readonly record struct UdpSendResult(int Sent, int Failed, int LastError);
