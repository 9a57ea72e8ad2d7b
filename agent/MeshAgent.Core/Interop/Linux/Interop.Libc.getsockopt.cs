using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>getsockopt(2); <paramref name="optlen"/> is in/out.</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial int getsockopt(SafeHandle sockfd, int level, int optname, void* optval, uint* optlen);
    }
}
