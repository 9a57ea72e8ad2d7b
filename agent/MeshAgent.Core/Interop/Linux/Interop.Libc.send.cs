using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>send(2).</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial nint send(SafeHandle sockfd, void* buf, nuint len, int flags);
    }
}
