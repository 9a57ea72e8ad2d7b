using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class LibCrypto
{
    /// <summary>Pops the earliest error code from this thread's OpenSSL error queue (0 when empty).</summary>
    [LibraryImport(LibraryName)]
    internal static partial CULong ERR_get_error();

    /// <summary>Empties this thread's OpenSSL error queue.</summary>
    [LibraryImport(LibraryName)]
    internal static partial void ERR_clear_error();

    /// <summary>Writes a NUL-terminated human-readable description of <paramref name="e"/> into <paramref name="buf"/>.</summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial void ERR_error_string_n(CULong e, byte* buf, nuint len);
}
