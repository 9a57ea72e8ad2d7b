using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // <poll.h>
        internal const short POLLIN = 0x001;
        internal const short POLLOUT = 0x004;
        internal const short POLLERR = 0x008;
        internal const short POLLHUP = 0x010;
        internal const short POLLNVAL = 0x020;

        // <sys/eventfd.h>
        internal const int EFD_SEMAPHORE = 0x1;
        internal const int EFD_NONBLOCK = 0x800;
        internal const int EFD_CLOEXEC = 0x80000;

        // <sched.h>
        internal const int CLONE_NEWNET = 0x40000000;

        /// <summary>struct pollfd (&lt;poll.h&gt;).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct pollfd
        {
            public int fd;
            public short events;
            public short revents;
        }
    }
}
