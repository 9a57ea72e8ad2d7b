using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>read(2). Returns bytes read, or -1 and errno (EAGAIN on an empty non-blocking fd).</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial nint read(SafeHandle fd, byte* buf, nuint count);
    }
}
