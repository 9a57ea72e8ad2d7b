using System.Runtime.InteropServices;
using MeshAgent.Core.Interop.Linux;
using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>
/// An eventfd(2) used as a level-triggered stop signal for data-plane threads (STYLE rule 3): each reader
/// polls its device together with this fd (<see cref="Poll.WaitReadable"/>); <see cref="Signal"/> makes
/// every poller return until <see cref="Reset"/>. One EventFd can stop any number of readers.
/// </summary>
/// <remarks>Thread-safe: Signal and Reset may be called from any thread.</remarks>
public sealed class EventFd : IDisposable
{
    private readonly SafeFdHandle _handle;

    public EventFd()
    {
        int fd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeCallException($"creating an eventfd failed: {Errno.Describe(errno)}", errno);
        }

        _handle = new SafeFdHandle(fd);
    }

    /// <summary>The descriptor (borrowed: valid until Dispose).</summary>
    public SafeHandle Handle => _handle;

    /// <summary>Adds 1 to the counter; the fd stays readable (pollers keep waking) until <see cref="Reset"/>.</summary>
    public unsafe void Signal()
    {
        ulong one = 1;
        while (true)
        {
            nint n = Libc.write(_handle, (byte*)&one, sizeof(ulong));
            if (n == sizeof(ulong))
            {
                return;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EINTR)
            {
                continue;
            }

            // EAGAIN means the counter is at its maximum: it is already signalled, which is all we want.
            if (errno == Libc.EAGAIN)
            {
                return;
            }

            throw new NativeCallException($"signalling an eventfd failed: {Errno.Describe(errno)}", errno);
        }
    }

    /// <summary>Clears the counter. Returns whether it had been signalled.</summary>
    public unsafe bool Reset()
    {
        ulong value;
        while (true)
        {
            nint n = Libc.read(_handle, (byte*)&value, sizeof(ulong));
            if (n == sizeof(ulong))
            {
                return value != 0;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EINTR)
            {
                continue;
            }

            if (errno == Libc.EAGAIN)
            {
                return false;
            }

            throw new NativeCallException($"resetting an eventfd failed: {Errno.Describe(errno)}", errno);
        }
    }

    public void Dispose() => _handle.Dispose();
}
