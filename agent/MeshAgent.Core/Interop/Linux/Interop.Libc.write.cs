using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>write(2). Returns bytes written, or -1 and errno.</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static unsafe partial nint write(SafeHandle fd, byte* buf, nuint count);
    }
}
