using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>bind(2) with a sockaddr_in, sockaddr_in6 or sockaddr_nl.</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial int bind(SafeHandle sockfd, void* addr, uint addrlen);
    }
}
