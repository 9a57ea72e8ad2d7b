using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class LibCrypto
{
    /// <summary>
    /// The RFC 8439 AEAD (32-byte key, 12-byte IV by default, 16-byte tag). Returns a static descriptor that is
    /// never freed; OpenSSL 3 fetches the provider implementation when a context is initialised with it.
    /// Returns 0 when the library was built without ChaCha20 (OPENSSL_NO_CHACHA).
    /// </summary>
    [LibraryImport(LibraryName)]
    internal static partial nint EVP_chacha20_poly1305();
}
