using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>setsockopt(2).</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial int setsockopt(SafeHandle sockfd, int level, int optname, void* optval, uint optlen);
    }
}
