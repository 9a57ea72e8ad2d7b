using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// sendmmsg(2): send up to <paramref name="vlen"/> datagrams in one call. Returns the number sent;
        /// if message k &gt; 0 fails the call returns k and the error surfaces on the next call, if the
        /// first fails it returns -1 and errno.
        /// </summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial int sendmmsg(SafeHandle sockfd, mmsghdr* msgvec, uint vlen, int flags);
    }
}
