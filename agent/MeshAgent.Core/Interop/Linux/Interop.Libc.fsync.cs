using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// fsync(2): flush the file's data and metadata to the device. On a directory fd it makes the
        /// directory's entries durable (a rename into it survives a power cut). Returns 0, or -1 and errno.
        /// </summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static partial int fsync(SafeHandle fd);
    }
}
