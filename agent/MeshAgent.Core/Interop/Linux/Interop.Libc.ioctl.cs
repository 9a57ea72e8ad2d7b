using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // ioctl(2) is variadic in C; both overloads bind the same symbol with the one argument each request takes.
        // Passing it as a fixed argument is correct on the SysV x86-64, arm64 and arm Linux ABIs.

        /// <summary>ioctl(2) whose argument is a pointer (TUNSETIFF: struct ifreq*, TUNSETVNETHDRSZ: int*).</summary>
        [LibraryImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
        internal static unsafe partial int ioctl(SafeHandle fd, nuint request, void* arg);

        /// <summary>ioctl(2) whose argument is an unsigned long value (TUNSETOFFLOAD).</summary>
        [LibraryImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
        internal static partial int ioctl(SafeHandle fd, nuint request, nuint arg);
    }
}
