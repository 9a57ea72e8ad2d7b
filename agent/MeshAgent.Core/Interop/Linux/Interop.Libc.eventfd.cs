using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>eventfd(2). Returns the fd or -1 and errno.</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static partial int eventfd(uint initval, int flags);
    }
}
