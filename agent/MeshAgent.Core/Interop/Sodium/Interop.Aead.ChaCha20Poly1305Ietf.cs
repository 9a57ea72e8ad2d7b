using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class Sodium
{
    internal const int crypto_aead_chacha20poly1305_ietf_KEYBYTES = 32;
    internal const int crypto_aead_chacha20poly1305_ietf_NPUBBYTES = 12;
    internal const int crypto_aead_chacha20poly1305_ietf_ABYTES = 16;

    /// <summary>
    /// RFC 8439 AEAD, combined mode: writes mlen + ABYTES bytes to <paramref name="c"/> (ciphertext, then tag).
    /// <paramref name="c"/> may equal <paramref name="m"/> (in place). <paramref name="clen_p"/> may be null;
    /// <paramref name="nsec"/> must be null.
    /// </summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_aead_chacha20poly1305_ietf_encrypt(
        byte* c, ulong* clen_p, byte* m, ulong mlen, byte* ad, ulong adlen, byte* nsec, byte* npub, byte* k);

    /// <summary>
    /// Verifies the tag before decrypting; returns -1 (and zeroes <paramref name="m"/>) on failure.
    /// <paramref name="m"/> may equal <paramref name="c"/> (in place).
    /// </summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_aead_chacha20poly1305_ietf_decrypt(
        byte* m, ulong* mlen_p, byte* nsec, byte* c, ulong clen, byte* ad, ulong adlen, byte* npub, byte* k);
}
