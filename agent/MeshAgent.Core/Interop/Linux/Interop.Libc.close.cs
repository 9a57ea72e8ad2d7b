using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// close(2). Never retried on EINTR: Linux releases the descriptor before it can be interrupted,
        /// so a retry could close a descriptor another thread has just been given.
        /// </summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static partial int close(int fd);
    }
}
