using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

/// <summary>
/// libsodium (Debian package <c>libsodium23</c>), bound by its soname so that only the runtime
/// package is needed, not <c>libsodium-dev</c>. C names are kept verbatim; the safe, span-based
/// wrappers live in <c>MeshAgent.Core.Crypto</c>, which calls <c>Libsodium.EnsureInitialized()</c>
/// before any function here.
/// </summary>
/// <remarks>
/// Every pointer is borrowed for the duration of the call only; libsodium keeps none of them.
/// <c>unsigned long long</c> maps to <see cref="ulong"/>, <c>size_t</c> to <see cref="nuint"/>.
/// No function here sets errno in a way callers need, so <c>SetLastError</c> is not used.
/// </remarks>
internal static partial class Sodium
{
    internal const string LibraryName = "libsodium.so.23";

    /// <summary>Returns 0 on first initialisation, 1 if already initialised, -1 on failure. Thread-safe.</summary>
    [LibraryImport(LibraryName)]
    internal static partial int sodium_init();
}
