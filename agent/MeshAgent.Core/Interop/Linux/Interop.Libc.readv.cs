using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>readv(2): scatter one read (for a TUN: one packet) into several buffers.</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial nint readv(SafeHandle fd, iovec* iov, int iovcnt);
    }
}
