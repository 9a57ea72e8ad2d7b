using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>if_nametoindex(3): 0 and errno (ENODEV) when no interface has that name in the calling thread's network namespace.</summary>
        [LibraryImport(LibraryName, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial uint if_nametoindex(string ifname);
    }
}
