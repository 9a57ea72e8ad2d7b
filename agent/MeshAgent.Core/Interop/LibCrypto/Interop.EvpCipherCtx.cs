using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class LibCrypto
{
    /// <summary>Allocates an empty cipher context; an invalid handle when out of memory. owned: by the caller.</summary>
    [LibraryImport(LibraryName)]
    internal static partial SafeEvpCipherCtxHandle EVP_CIPHER_CTX_new();

    /// <summary>Cleanses (OPENSSL_cleanse, so key material is wiped) and frees a context. 0 is a no-op.</summary>
    [LibraryImport(LibraryName)]
    internal static partial void EVP_CIPHER_CTX_free(nint ctx);

    internal const int EVP_CTRL_AEAD_SET_IVLEN = 0x9;
    internal const int EVP_CTRL_AEAD_GET_TAG = 0x10;
    internal const int EVP_CTRL_AEAD_SET_TAG = 0x11;

    /// <summary>
    /// Cipher-specific control (OpenSSL 3 turns it into OSSL_PARAMs for the provider). Returns 1 on success,
    /// 0 or -1 on failure. GET_TAG writes <paramref name="arg"/> bytes to <paramref name="ptr"/>; SET_TAG copies them.
    /// </summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int EVP_CIPHER_CTX_ctrl(nint ctx, int type, int arg, void* ptr);
}
