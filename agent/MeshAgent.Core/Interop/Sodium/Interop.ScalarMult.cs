using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class Sodium
{
    internal const int crypto_scalarmult_BYTES = 32;
    internal const int crypto_scalarmult_SCALARBYTES = 32;

    /// <summary>X25519 with the base point 9. Clamps <paramref name="n"/> internally.</summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_scalarmult_base(byte* q, byte* n);

    /// <summary>
    /// X25519 (RFC 7748 §5). Clamps <paramref name="n"/> and ignores the top bit of <paramref name="p"/>;
    /// returns -1 when the result is all zero (a low-order point).
    /// </summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_scalarmult(byte* q, byte* n, byte* p);
}
