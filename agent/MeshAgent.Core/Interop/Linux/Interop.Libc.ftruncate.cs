using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// ftruncate(2). <paramref name="length"/> is off_t, which is C long for the unsuffixed symbol on
        /// both LP64 and ILP32 glibc (the 64-bit variant on ILP32 is ftruncate64), hence nint.
        /// Returns 0, or -1 and errno.
        /// </summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static partial int ftruncate(SafeHandle fd, nint length);
    }
}
