using System.Runtime.InteropServices;
using MeshAgent.Core.Interop.Linux;
using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>Which of the descriptors given to <see cref="Poll.WaitReadable"/> became ready. Both may be set.</summary>
[Flags]
public enum PollResult
{
    /// <summary>The timeout expired first.</summary>
    TimedOut = 0,

    /// <summary>The device or socket is readable, or has an error or hang-up its next read will report.</summary>
    Readable = 1,

    /// <summary>The stop <see cref="EventFd"/> was signalled: the caller should stop.</summary>
    Woken = 2,

    /// <summary>The work <see cref="EventFd"/> of the three-descriptor overload was signalled: work was queued for the caller.</summary>
    Work = 4,
}

/// <summary>poll(2) helpers for data-plane threads: block until there is work or a stop signal.</summary>
public static class Poll
{
    /// <summary>
    /// Blocks the calling thread until <paramref name="fd"/> is readable, <paramref name="wake"/> is
    /// signalled, or <paramref name="timeoutMilliseconds"/> pass (-1 = forever). Does not allocate.
    /// </summary>
    public static PollResult WaitReadable(SafeHandle fd, EventFd wake, int timeoutMilliseconds = Timeout.Infinite)
    {
        ArgumentNullException.ThrowIfNull(wake);
        return Wait(fd, wake.Handle, null, timeoutMilliseconds);
    }

    /// <summary>
    /// As <see cref="WaitReadable(SafeHandle, EventFd, int)"/>, also returning when <paramref name="work"/> is signalled
    /// (<see cref="PollResult.Work"/>): other threads queue work for this one and signal it. Does not allocate.
    /// </summary>
    public static PollResult WaitReadable(SafeHandle fd, EventFd wake, EventFd work, int timeoutMilliseconds = Timeout.Infinite)
    {
        ArgumentNullException.ThrowIfNull(wake);
        ArgumentNullException.ThrowIfNull(work);
        return Wait(fd, wake.Handle, work.Handle, timeoutMilliseconds);
    }

    private static unsafe PollResult Wait(SafeHandle fd, SafeHandle wake, SafeHandle? work, int timeoutMilliseconds)
    {
        ArgumentNullException.ThrowIfNull(fd);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeoutMilliseconds, Timeout.Infinite);

        bool fdRef = false;
        bool wakeRef = false;
        bool workRef = false;
        try
        {
            // poll takes raw descriptors; the references keep them open (not closed and reused) meanwhile.
            fd.DangerousAddRef(ref fdRef);
            wake.DangerousAddRef(ref wakeRef);
            work?.DangerousAddRef(ref workRef);
            int count = work is null ? 2 : 3;
            Libc.pollfd* fds = stackalloc Libc.pollfd[3];
            fds[0] = new Libc.pollfd { fd = (int)fd.DangerousGetHandle(), events = Libc.POLLIN };
            fds[1] = new Libc.pollfd { fd = (int)wake.DangerousGetHandle(), events = Libc.POLLIN };
            fds[2] = new Libc.pollfd { fd = work is null ? -1 : (int)work.DangerousGetHandle(), events = Libc.POLLIN };

            long deadline = timeoutMilliseconds < 0 ? 0 : Environment.TickCount64 + timeoutMilliseconds;
            int remaining = timeoutMilliseconds;
            while (true)
            {
                int n = Libc.poll(fds, (nuint)count, remaining);
                if (n >= 0)
                {
                    break;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.EINTR)
                {
                    throw new NativeCallException($"poll on fd {fds[0].fd} and eventfd {fds[1].fd} failed: {Errno.Describe(errno)}", errno);
                }

                if (timeoutMilliseconds >= 0)
                {
                    remaining = (int)Math.Max(0, deadline - Environment.TickCount64);
                }
            }

            PollResult result = PollResult.TimedOut;
            if (fds[0].revents != 0)
            {
                result |= PollResult.Readable;
            }

            if (fds[1].revents != 0)
            {
                result |= PollResult.Woken;
            }

            if (count == 3 && fds[2].revents != 0)
            {
                result |= PollResult.Work;
            }

            return result;
        }
        finally
        {
            if (workRef)
            {
                work!.DangerousRelease();
            }

            if (wakeRef)
            {
                wake.DangerousRelease();
            }

            if (fdRef)
            {
                fd.DangerousRelease();
            }
        }
    }
}
