using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>recv(2). With MSG_TRUNC on a netlink or datagram socket returns the real length.</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial nint recv(SafeHandle sockfd, void* buf, nuint len, int flags);
    }
}
