using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>writev(2): gather several buffers into one write (for a TUN: one packet).</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial nint writev(SafeHandle fd, iovec* iov, int iovcnt);
    }
}
