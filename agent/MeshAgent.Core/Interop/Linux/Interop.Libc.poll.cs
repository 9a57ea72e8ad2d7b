using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>poll(2). Returns the number of ready entries, 0 on timeout, or -1 and errno.</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial int poll(pollfd* fds, nuint nfds, int timeout);
    }
}
