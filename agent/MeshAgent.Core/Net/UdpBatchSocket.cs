using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using MeshAgent.Core.Interop.Linux;
using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>
/// A UDP socket for the data plane: recvmmsg/sendmmsg of whole batches, UDP GSO (UDP_SEGMENT) on send and
/// GRO (UDP_GRO) on receive, probed at runtime and switched off when the kernel cannot do them.
/// </summary>
/// <remarks>
/// The socket is blocking for sends (a full send buffer pushes back on the sender) while
/// <see cref="Receive"/> never blocks (MSG_DONTWAIT): a reader waits in <see cref="Poll.WaitReadable"/> on
/// <see cref="Handle"/> and its stop <see cref="EventFd"/> (STYLE rule 3), then drains with Receive.
/// One receiving thread and any number of sending threads (each with its own batch) may use it at once.
/// Receive and Send never allocate and never throw for per-packet failures.
/// </remarks>
public sealed unsafe class UdpBatchSocket : IDisposable
{
    private readonly SafeFdHandle _socket;
    private readonly int _family;
    private volatile bool _gso;

    private UdpBatchSocket(SafeFdHandle socket, int family, IPEndPoint local, bool gso, bool gro, int receiveBuffer, int sendBuffer)
    {
        _socket = socket;
        _family = family;
        LocalEndPoint = local;
        _gso = gso;
        GroEnabled = gro;
        ReceiveBufferSize = receiveBuffer;
        SendBufferSize = sendBuffer;
    }

    /// <summary>The bound address and port (the kernel's choice when port 0 was asked).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The socket descriptor (borrowed: valid until Dispose), for <see cref="Poll.WaitReadable"/>.</summary>
    public SafeHandle Handle => _socket;

    /// <summary>
    /// Whether segmented messages go to the kernel as one GSO send. Becomes false for good when a GSO send
    /// fails with EIO (the egress device cannot checksum, as wireguard-go observed); segmented messages are
    /// then split into datagrams here.
    /// </summary>
    public bool GsoEnabled => _gso;

    /// <summary>Whether UDP_GRO is on: received messages may be several datagrams (see <see cref="UdpReceiveBatch.GetSegmentSize"/>).</summary>
    public bool GroEnabled { get; }

    /// <summary>SO_RCVBUF as the kernel reports it (it doubles the requested value for bookkeeping).</summary>
    public int ReceiveBufferSize { get; }

    /// <summary>SO_SNDBUF as the kernel reports it.</summary>
    public int SendBufferSize { get; }

    /// <summary>Opens a socket bound to <paramref name="localEndPoint"/> with default options.</summary>
    public static UdpBatchSocket Open(IPEndPoint localEndPoint) => Open(new UdpBatchOptions { LocalEndPoint = localEndPoint });

    /// <summary>Creates, configures and binds the socket in the calling thread's network namespace.</summary>
    /// <exception cref="NativeCallException">Naming the endpoint, the errno and what to do.</exception>
    public static UdpBatchSocket Open(UdpBatchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.LocalEndPoint);
        IPEndPoint local = options.LocalEndPoint;
        int family = local.AddressFamily == AddressFamily.InterNetworkV6 ? Libc.AF_INET6 : Libc.AF_INET;
        if (local.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"UDP sockets bind IPv4 or IPv6 addresses, not {local.AddressFamily}", nameof(options));
        }

        string what = $"opening UDP socket on {local}";
        int fd = Libc.socket(family, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, Libc.IPPROTO_UDP);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string hint = errno == Libc.EAFNOSUPPORT ? " — IPv6 is disabled on this host; listen on an IPv4 address" : string.Empty;
            throw new NativeCallException($"{what} failed: socket: {Errno.Describe(errno)}{hint}", errno);
        }

        var socket = new SafeFdHandle(fd);
        try
        {
            if (family == Libc.AF_INET6)
            {
                SetOption(socket, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY, options.DualStack ? 0 : 1, what, "IPV6_V6ONLY");
            }

            if (options.ReusePort)
            {
                SetOption(socket, Libc.SOL_SOCKET, Libc.SO_REUSEPORT, 1, what, "SO_REUSEPORT");
            }

            if (options.BufferSize > 0)
            {
                SetBuffer(socket, Libc.SO_RCVBUFFORCE, Libc.SO_RCVBUF, options.BufferSize);
                SetBuffer(socket, Libc.SO_SNDBUFFORCE, Libc.SO_SNDBUF, options.BufferSize);
            }

            // Probes as wireguard-go's conn/features_linux.go: an option that getsockopt knows is supported.
            bool gso = options.Gso && TryGetOption(socket, Libc.SOL_UDP, Libc.UDP_SEGMENT, out _);
            bool gro = options.Gro && TryGetOption(socket, Libc.SOL_UDP, Libc.UDP_GRO, out _)
                && TrySetOption(socket, Libc.SOL_UDP, Libc.UDP_GRO, 1);

            Bind(socket, family, local, what);
            IPEndPoint bound = GetLocalEndPoint(socket, what);
            TryGetOption(socket, Libc.SOL_SOCKET, Libc.SO_RCVBUF, out int receiveBuffer);
            TryGetOption(socket, Libc.SOL_SOCKET, Libc.SO_SNDBUF, out int sendBuffer);
            return new UdpBatchSocket(socket, family, bound, gso, gro, receiveBuffer, sendBuffer);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Receives up to <see cref="UdpReceiveBatch.Capacity"/> messages with one recvmmsg, without blocking.
    /// </summary>
    /// <returns>Messages received (also in <see cref="UdpReceiveBatch.Count"/>); 0 when none is queued; a negative
    /// errno on failure. Failures are usually transient (the kernel reports a pending send error, sk_err, on the
    /// next operation of either direction): count them and carry on.</returns>
    public int Receive(UdpReceiveBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Libc.mmsghdr* headers = batch.PrepareReceive();
        while (true)
        {
            int n = Libc.recvmmsg(_socket, headers, (uint)batch.Capacity, Libc.MSG_DONTWAIT, null);
            if (n >= 0)
            {
                batch.CompleteReceive(n);
                return n;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EINTR)
            {
                continue;
            }

            return errno == Libc.EAGAIN ? 0 : -errno;
        }
    }

    /// <summary>
    /// Sends messages 0..<paramref name="count"/>-1 of <paramref name="batch"/>, as few sendmmsg calls as the
    /// kernel allows. A message the kernel refuses is dropped and counted; the rest still go.
    /// </summary>
    public UdpSendResult Send(UdpSendBatch batch, int count)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, batch.Capacity);
        Libc.mmsghdr* headers = batch.Headers;
        int sent = 0;
        int failed = 0;
        int lastError = 0;
        int next = 0;
        while (next < count)
        {
            bool gso = _gso;
            if (!batch.Encode(next, _family, gso))
            {
                failed++;
                lastError = Libc.EAFNOSUPPORT;
                next++;
                continue;
            }

            if (!gso && batch.IsSegmented(next))
            {
                int error = SendSplit(batch, next);
                if (error == 0)
                {
                    sent++;
                }
                else
                {
                    failed++;
                    lastError = error;
                }

                next++;
                continue;
            }

            // One sendmmsg takes the run of messages up to the first that must be split in software or
            // cannot be addressed from this socket; that one is handled on its own in the next round.
            int end = next + 1;
            while (end < count && (gso || !batch.IsSegmented(end)) && batch.Encode(end, _family, gso))
            {
                end++;
            }

            int n = Libc.sendmmsg(_socket, headers + next, (uint)(end - next), 0);
            if (n > 0)
            {
                sent += n;
                next += n;
                continue;
            }

            int errno = n < 0 ? Marshal.GetLastPInvokeError() : Libc.EAGAIN;
            if (errno == Libc.EINTR)
            {
                continue;
            }

            if (errno == Libc.EIO && gso && batch.IsSegmented(next))
            {
                // udp_send_skb: GSO needs checksum offload on the egress device. Stop using GSO and resend this
                // message (and the rest) split into plain datagrams.
                _gso = false;
                continue;
            }

            // sendmmsg reports the failure of the first message of the run (or, via sk_err, the one after the
            // last that went): drop that message and carry on with the next.
            failed++;
            lastError = errno;
            next++;
        }

        return new UdpSendResult(sent, failed, lastError);
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>Sends one segmented message as individual datagrams. Returns 0 or the errno that stopped it.</summary>
    private int SendSplit(UdpSendBatch batch, int index)
    {
        int total = batch.SegmentCount(index);
        int done = 0;
        while (done < total)
        {
            int filled = batch.EncodeSplit(index, done, out Libc.mmsghdr* headers);
            int n = Libc.sendmmsg(_socket, headers, (uint)filled, 0);
            if (n > 0)
            {
                done += n;
                continue;
            }

            int errno = n < 0 ? Marshal.GetLastPInvokeError() : Libc.EAGAIN;
            if (errno != Libc.EINTR)
            {
                return errno;
            }
        }

        return 0;
    }

    private static void Bind(SafeFdHandle socket, int family, IPEndPoint local, string what)
    {
        Libc.sockaddr_in6 address;
        uint length = UdpEndpoint.FromIPEndPoint(local).WriteSockaddr(&address, family);
        if (Libc.bind(socket, &address, length) == 0)
        {
            return;
        }

        int errno = Marshal.GetLastPInvokeError();
        string hint = errno switch
        {
            Libc.EADDRINUSE => " — another process (or another socket without SO_REUSEPORT) uses this port; choose another listen port or stop it",
            Libc.EADDRNOTAVAIL => " — no interface has this address; listen on 0.0.0.0 / [::] or an address the host owns",
            Libc.EACCES => " — ports below 1024 need root or CAP_NET_BIND_SERVICE",
            _ => string.Empty,
        };
        throw new NativeCallException($"{what} failed: bind: {Errno.Describe(errno)}{hint}", errno);
    }

    private static IPEndPoint GetLocalEndPoint(SafeFdHandle socket, string what)
    {
        Libc.sockaddr_in6 address;
        uint length = (uint)sizeof(Libc.sockaddr_in6);
        if (Libc.getsockname(socket, &address, &length) != 0 || !UdpEndpoint.TryReadSockaddr(&address, length, out UdpEndpoint local))
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeCallException($"{what} failed: getsockname: {Errno.Describe(errno)}", errno);
        }

        return local.ToIPEndPoint();
    }

    /// <summary>SO_*BUFFORCE ignores net.core.[rw]mem_max but needs CAP_NET_ADMIN; without it use the capped option.</summary>
    private static void SetBuffer(SafeFdHandle socket, int forceOption, int option, int size)
    {
        if (!TrySetOption(socket, Libc.SOL_SOCKET, forceOption, size))
        {
            _ = TrySetOption(socket, Libc.SOL_SOCKET, option, size);
        }
    }

    private static void SetOption(SafeFdHandle socket, int level, int option, int value, string what, string name)
    {
        if (!TrySetOption(socket, level, option, value))
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeCallException($"{what} failed: setting {name} to {value}: {Errno.Describe(errno)}", errno);
        }
    }

    private static bool TrySetOption(SafeFdHandle socket, int level, int option, int value) =>
        Libc.setsockopt(socket, level, option, &value, sizeof(int)) == 0;

    private static bool TryGetOption(SafeFdHandle socket, int level, int option, out int value)
    {
        int result = 0;
        uint length = sizeof(int);
        bool ok = Libc.getsockopt(socket, level, option, &result, &length) == 0;
        value = result;
        return ok;
    }
}
