using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// flock(2): advisory lock on the open file description (not the process: a second open(2) of the
        /// same file in the same process conflicts too). Released when the last fd sharing the description
        /// closes, so it vanishes with the process however it dies. Returns 0, or -1 and errno
        /// (EWOULDBLOCK, equal to EAGAIN on Linux, when LOCK_NB finds it held).
        /// </summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static partial int flock(SafeHandle fd, int operation);
    }
}
