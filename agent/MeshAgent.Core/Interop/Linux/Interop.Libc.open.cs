using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>open(2) without O_CREAT (so no mode argument). Returns the fd or -1 and errno.</summary>
        [LibraryImport(LibraryName, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int open(string pathname, int flags);

        /// <summary>
        /// open(2) with O_CREAT: <paramref name="mode"/> (mode_t, unsigned int on Linux) applies, less the
        /// umask, when the file is created. The C function is variadic; on the Linux ABIs we target
        /// (x86-64, arm64, and their 32-bit siblings) a variadic unsigned int travels like a fixed one.
        /// </summary>
        [LibraryImport(LibraryName, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int open(string pathname, int flags, uint mode);
    }
}
