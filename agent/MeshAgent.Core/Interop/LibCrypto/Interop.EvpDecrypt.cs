using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class LibCrypto
{
    /// <summary>As <see cref="EVP_EncryptInit_ex"/>, for decryption.</summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int EVP_DecryptInit_ex(nint ctx, nint type, nint impl, byte* key, byte* iv);

    /// <summary>
    /// Decrypts <paramref name="inl"/> bytes (or takes associated data when <paramref name="out"/> is null).
    /// The plaintext is written before the tag is checked: it is unauthenticated until
    /// <see cref="EVP_DecryptFinal_ex"/> returns 1.
    /// </summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int EVP_DecryptUpdate(nint ctx, byte* @out, int* outl, byte* @in, int inl);

    /// <summary>Checks the tag set with EVP_CTRL_AEAD_SET_TAG (constant time). Returns 1 when it matches, else &lt;= 0.</summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int EVP_DecryptFinal_ex(nint ctx, byte* outm, int* outl);
}
