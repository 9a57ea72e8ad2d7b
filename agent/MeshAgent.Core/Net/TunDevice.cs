using System.Runtime.InteropServices;
using System.Text;
using MeshAgent.Core.Interop.Linux;
using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>
/// One queue of a Linux TUN device (layer 3, no packet-info prefix): open /dev/net/tun, TUNSETIFF with
/// IFF_TUN | IFF_NO_PI [| IFF_VNET_HDR] [| IFF_MULTI_QUEUE], then TUNSETVNETHDRSZ 10 and TUNSETOFFLOAD.
/// </summary>
/// <remarks>
/// The device exists while at least one queue is open (it is not made persistent) and disappears with
/// the last Dispose. It is created in the network namespace of the calling thread.
/// Read and Write are safe to call from one reader thread and one writer thread at a time each; they
/// never throw for per-packet failures and never allocate.
/// </remarks>
public sealed class TunDevice : IDisposable
{
    /// <summary>Largest packet a Read may return with offloads (64 KiB superpacket plus the virtio header).</summary>
    public const int MaxReadSize = VirtioNetHeader.Size + 65535;

    private const string TunPath = "/dev/net/tun";

    private readonly SafeFdHandle _handle;

    private TunDevice(SafeFdHandle handle, string name, bool virtioHeader, TunOffloads offloads)
    {
        _handle = handle;
        Name = name;
        HasVirtioHeader = virtioHeader;
        Offloads = offloads;
    }

    /// <summary>The interface name the kernel gave the device (a "%d" in the requested name is filled in).</summary>
    public string Name { get; }

    /// <summary>The queue descriptor (borrowed: valid until Dispose), for <see cref="Poll.WaitReadable"/>.</summary>
    public SafeHandle Handle => _handle;

    /// <summary>Whether every packet carries a <see cref="VirtioNetHeader"/> in front.</summary>
    public bool HasVirtioHeader { get; }

    /// <summary>The offloads the kernel accepted.</summary>
    public TunOffloads Offloads { get; }

    /// <summary>Creates (or attaches to) TUN device <paramref name="name"/> with one queue.</summary>
    /// <exception cref="NativeCallException">With a message saying what to do (load tun, run as root, pick another name).</exception>
    public static TunDevice Create(string name, TunOptions? options = null) => Open(name, options ?? new TunOptions());

    /// <summary>
    /// Creates a multi-queue TUN device with <paramref name="queueCount"/> queues (IFF_MULTI_QUEUE), one per
    /// reader thread. The kernel spreads packets over the queues by flow hash.
    /// </summary>
    public static TunDevice[] CreateQueues(string name, int queueCount, TunOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCount, 1);
        TunOptions multi = (options ?? new TunOptions()) with { MultiQueue = true };
        var queues = new TunDevice[queueCount];
        int opened = 0;
        try
        {
            for (; opened < queueCount; opened++)
            {
                // Later queues attach by the name the kernel resolved for the first.
                queues[opened] = Open(opened == 0 ? name : queues[0].Name, multi);
            }

            return queues;
        }
        catch
        {
            for (int i = 0; i < opened; i++)
            {
                queues[i].Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Reads one packet (with its virtio header in front when <see cref="HasVirtioHeader"/>) into <paramref name="buffer"/>.
    /// </summary>
    /// <returns>Bytes read; 0 if non-blocking and no packet is queued; a negative errno on failure
    /// (for example -EBADFD when the device was deleted). A buffer shorter than the packet truncates it:
    /// use <see cref="MaxReadSize"/> with offloads.</returns>
    public unsafe int Read(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Libc.read(_handle, p, (nuint)buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EINTR)
                {
                    continue;
                }

                return errno == Libc.EAGAIN ? 0 : -errno;
            }
        }
    }

    /// <summary>
    /// Reads one packet with readv: the virtio header into <paramref name="virtioHeader"/> (exactly
    /// <see cref="VirtioNetHeader.Size"/> bytes) and the IP packet into <paramref name="packet"/>, so the packet can
    /// land at an offset that leaves headroom for the transport header (STYLE rule 2).
    /// </summary>
    /// <returns>Packet bytes (excluding the header); 0 if nothing queued; a negative errno on failure.</returns>
    public unsafe int Read(Span<byte> virtioHeader, Span<byte> packet)
    {
        CheckVirtioHeader(virtioHeader.Length);
        fixed (byte* h = virtioHeader)
        fixed (byte* p = packet)
        {
            Libc.iovec* iov = stackalloc Libc.iovec[2];
            iov[0] = new Libc.iovec { iov_base = h, iov_len = (nuint)virtioHeader.Length };
            iov[1] = new Libc.iovec { iov_base = p, iov_len = (nuint)packet.Length };
            while (true)
            {
                nint n = Libc.readv(_handle, iov, 2);
                if (n >= 0)
                {
                    return (int)Math.Max(0, n - virtioHeader.Length);
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EINTR)
                {
                    continue;
                }

                return errno == Libc.EAGAIN ? 0 : -errno;
            }
        }
    }

    /// <summary>Writes one packet (virtio header first when <see cref="HasVirtioHeader"/>) to the kernel.</summary>
    /// <returns>Bytes written, or a negative errno (-EINVAL for a malformed packet or header, -EIO when the link is down).</returns>
    public unsafe int Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Libc.write(_handle, p, (nuint)buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                {
                    return -errno;
                }
            }
        }
    }

    /// <summary>Writes one packet with writev from a separate virtio header and IP packet.</summary>
    /// <returns>Bytes written including the header, or a negative errno.</returns>
    public unsafe int Write(ReadOnlySpan<byte> virtioHeader, ReadOnlySpan<byte> packet)
    {
        CheckVirtioHeader(virtioHeader.Length);
        fixed (byte* h = virtioHeader)
        fixed (byte* p = packet)
        {
            Libc.iovec* iov = stackalloc Libc.iovec[2];
            iov[0] = new Libc.iovec { iov_base = h, iov_len = (nuint)virtioHeader.Length };
            iov[1] = new Libc.iovec { iov_base = p, iov_len = (nuint)packet.Length };
            while (true)
            {
                nint n = Libc.writev(_handle, iov, 2);
                if (n >= 0)
                {
                    return (int)n;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                {
                    return -errno;
                }
            }
        }
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>The split Read/Write overloads are for devices with a virtio header, and take exactly one.</summary>
    private void CheckVirtioHeader(int length)
    {
        if (!HasVirtioHeader)
        {
            throw new InvalidOperationException($"TUN device {Name} has no virtio header (IFF_VNET_HDR): use Read(Span<byte>) / Write(ReadOnlySpan<byte>)");
        }

        if (length != VirtioNetHeader.Size)
        {
            throw new ArgumentException($"the virtio header span must be exactly {VirtioNetHeader.Size} bytes, not {length}");
        }
    }

    private static unsafe TunDevice Open(string name, TunOptions options)
    {
        ValidateName(name);
        if (!options.VirtioHeader && options.Offloads != TunOffloads.None)
        {
            throw new ArgumentException("TUN offloads need the virtio header (TunOptions.VirtioHeader = true)", nameof(options));
        }

        if (options.Offloads != TunOffloads.None && (options.Offloads & TunOffloads.Checksum) == 0)
        {
            throw new ArgumentException("TUN offloads TSO/USO need TunOffloads.Checksum (the kernel rejects them without it)", nameof(options));
        }

        int flags = Libc.O_RDWR | Libc.O_CLOEXEC | (options.NonBlocking ? Libc.O_NONBLOCK : 0);
        int fd = Libc.open(TunPath, flags);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                Libc.ENOENT or Libc.ENODEV or Libc.ENXIO => new NativeCallException(
                    $"creating TUN device {name} failed: {TunPath} missing ({Errno.Name(errno)}) — load the tun module (modprobe tun)", errno),
                Libc.EACCES or Libc.EPERM => new NativeCallException(
                    $"creating TUN device {name} failed: opening {TunPath}: {Errno.Describe(errno)} — run as root or grant CAP_NET_ADMIN", errno),
                _ => new NativeCallException($"creating TUN device {name} failed: opening {TunPath}: {Errno.Describe(errno)}", errno),
            };
        }

        var handle = new SafeFdHandle(fd);
        try
        {
            Libc.ifreq request = default;
            Encoding.ASCII.GetBytes(name, new Span<byte>(request.ifr_name, Libc.IFNAMSIZ - 1));
            request.ifr_ifru.ifru_flags = (short)(Libc.IFF_TUN | Libc.IFF_NO_PI
                | (options.VirtioHeader ? Libc.IFF_VNET_HDR : 0)
                | (options.MultiQueue ? Libc.IFF_MULTI_QUEUE : 0));
            if (Libc.ioctl(handle, Libc.TUNSETIFF, &request) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new NativeCallException($"creating TUN device {name} failed: {Errno.Describe(errno)}{SetIffHint(errno, name, options)}", errno);
            }

            string actualName = Marshal.PtrToStringAnsi((nint)request.ifr_name) ?? name;
            TunOffloads granted = TunOffloads.None;
            if (options.VirtioHeader)
            {
                int headerSize = VirtioNetHeader.Size;
                if (Libc.ioctl(handle, Libc.TUNSETVNETHDRSZ, &headerSize) != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    throw new NativeCallException($"setting the virtio header size of TUN device {actualName} to {headerSize} failed: {Errno.Describe(errno)}", errno);
                }

                granted = SetOffloads(handle, actualName, options.Offloads);
            }

            return new TunDevice(handle, actualName, options.VirtioHeader, granted);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// TUNSETOFFLOAD rejects bits it does not know with EINVAL (drivers/net/tun.c set_offload), which is how
    /// a kernel older than 6.2 answers USO; then we retry without USO, as wireguard-go does.
    /// </summary>
    private static TunOffloads SetOffloads(SafeFdHandle handle, string name, TunOffloads requested)
    {
        if (requested == TunOffloads.None)
        {
            return TunOffloads.None;
        }

        if (Libc.ioctl(handle, Libc.TUNSETOFFLOAD, (nuint)(uint)requested) == 0)
        {
            return requested;
        }

        int errno = Marshal.GetLastPInvokeError();
        const TunOffloads uso = TunOffloads.Uso4 | TunOffloads.Uso6;
        if (errno == Libc.EINVAL && (requested & uso) != 0)
        {
            TunOffloads withoutUso = requested & ~uso;
            if (Libc.ioctl(handle, Libc.TUNSETOFFLOAD, (nuint)(uint)withoutUso) == 0)
            {
                return withoutUso;
            }

            errno = Marshal.GetLastPInvokeError();
            requested = withoutUso;
        }

        throw new NativeCallException($"enabling offloads {requested} on TUN device {name} failed: {Errno.Describe(errno)}", errno);
    }

    private static string SetIffHint(int errno, string name, TunOptions options) => errno switch
    {
        Libc.EPERM or Libc.EACCES => " — run as root or grant CAP_NET_ADMIN",
        Libc.EBUSY => $" — something (another meshagent?) already has {name} open; stop it or choose another name",
        Libc.EINVAL => $" — {name} already exists as another kind of device, or as a TUN that is "
            + (options.MultiQueue ? "single-queue" : "multi-queue")
            + $"; choose another name or delete it (ip link delete {name})",
        _ => string.Empty,
    };

    /// <summary>Linux dev_valid_name: 1..15 bytes, not "." or "..", no '/', ':' or whitespace.</summary>
    private static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        bool valid = name.Length is > 0 and < Libc.IFNAMSIZ && name is not ("." or "..");
        foreach (char c in name)
        {
            valid &= c is > ' ' and < (char)0x7f and not ('/' or ':');
        }

        if (!valid)
        {
            throw new ArgumentException(
                $"'{name}' is not a valid interface name: use 1 to {Libc.IFNAMSIZ - 1} printable ASCII characters without '/', ':' or spaces",
                nameof(name));
        }
    }
}
