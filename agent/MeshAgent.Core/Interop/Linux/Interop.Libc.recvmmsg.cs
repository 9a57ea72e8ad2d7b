using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// recvmmsg(2): receive up to <paramref name="vlen"/> datagrams in one call. Returns the number
        /// received (each msg_len, msg_namelen, msg_controllen and msg_flags updated), or -1 and errno.
        /// </summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial int recvmmsg(SafeHandle sockfd, mmsghdr* msgvec, uint vlen, int flags, void* timeout);
    }
}
