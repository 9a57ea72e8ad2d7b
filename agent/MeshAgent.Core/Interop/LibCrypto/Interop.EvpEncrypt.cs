using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class LibCrypto
{
    /// <summary>
    /// Sets up <paramref name="ctx"/> for encryption. Any of <paramref name="type"/>, <paramref name="key"/>,
    /// <paramref name="iv"/> may be null to keep the current value: the cipher and key are set once, then each
    /// message passes only its IV (which also restarts the AEAD state). <paramref name="impl"/> (ENGINE*) is null.
    /// Returns 1 on success.
    /// </summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int EVP_EncryptInit_ex(nint ctx, nint type, nint impl, byte* key, byte* iv);

    /// <summary>
    /// Encrypts <paramref name="inl"/> bytes; with <paramref name="out"/> null the input is associated data.
    /// <paramref name="out"/> may equal <paramref name="in"/> (in place). Returns 1 on success.
    /// </summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int EVP_EncryptUpdate(nint ctx, byte* @out, int* outl, byte* @in, int inl);

    /// <summary>Finishes the message (for the AEAD: computes the tag, writes no bytes). Returns 1 on success.</summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int EVP_EncryptFinal_ex(nint ctx, byte* @out, int* outl);
}
