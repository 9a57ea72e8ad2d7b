using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>getsockname(2); <paramref name="addrlen"/> is in/out.</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial int getsockname(SafeHandle sockfd, void* addr, uint* addrlen);
    }
}
