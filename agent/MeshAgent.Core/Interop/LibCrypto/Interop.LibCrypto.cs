using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

/// <summary>
/// OpenSSL 3 libcrypto (Debian package <c>libssl3</c>), bound by its soname so that only the runtime
/// package is needed. Used for the data-plane ChaCha20-Poly1305 because its x86-64 assembly has
/// AVX-512 paths that libsodium lacks (see <c>MeshAgent.Core.Crypto.OpenSslChaCha20Poly1305</c>).
/// C names are kept verbatim; the span-based wrapper lives in <c>MeshAgent.Core.Crypto</c>.
/// </summary>
/// <remarks>
/// Every pointer is borrowed for the duration of the call only, except an <c>EVP_CIPHER_CTX*</c>, which
/// the caller owns and frees with <see cref="EVP_CIPHER_CTX_free"/>. C <c>int</c> maps to <see cref="int"/>,
/// <c>unsigned long</c> to <see cref="CULong"/> (64-bit on Linux x64, 32-bit on Windows).
/// OpenSSL reports failures through its per-thread error queue, not errno, so <c>SetLastError</c> is not used.
/// </remarks>
internal static partial class LibCrypto
{
    internal const string LibraryName = "libcrypto.so.3";
}
