using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class Sodium
{
    internal const int crypto_aead_xchacha20poly1305_ietf_KEYBYTES = 32;
    internal const int crypto_aead_xchacha20poly1305_ietf_NPUBBYTES = 24;
    internal const int crypto_aead_xchacha20poly1305_ietf_ABYTES = 16;

    /// <summary>draft-irtf-cfrg-xchacha §2.3 (HChaCha20 subkey + IETF ChaCha20-Poly1305); same contract as the IETF variant.</summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_aead_xchacha20poly1305_ietf_encrypt(
        byte* c, ulong* clen_p, byte* m, ulong mlen, byte* ad, ulong adlen, byte* nsec, byte* npub, byte* k);

    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_aead_xchacha20poly1305_ietf_decrypt(
        byte* m, ulong* mlen_p, byte* nsec, byte* c, ulong clen, byte* ad, ulong adlen, byte* npub, byte* k);
}
