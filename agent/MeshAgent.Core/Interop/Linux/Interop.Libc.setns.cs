using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>setns(2): move the calling thread (not the process) into the namespace <paramref name="fd"/> refers to.</summary>
        [LibraryImport(LibraryName, SetLastError = true)]
        internal static partial int setns(SafeHandle fd, int nstype);
    }
}
