using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class Sodium
{
    internal const int crypto_sign_PUBLICKEYBYTES = 32;
    internal const int crypto_sign_SECRETKEYBYTES = 64;
    internal const int crypto_sign_SEEDBYTES = 32;
    internal const int crypto_sign_BYTES = 64;

    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_sign_keypair(byte* pk, byte* sk);

    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_sign_seed_keypair(byte* pk, byte* sk, byte* seed);

    /// <summary><paramref name="siglen_p"/> may be null; the signature is always crypto_sign_BYTES long.</summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_sign_detached(byte* sig, ulong* siglen_p, byte* m, ulong mlen, byte* sk);

    /// <summary>Returns 0 if the signature is valid, -1 otherwise.</summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_sign_verify_detached(byte* sig, byte* m, ulong mlen, byte* pk);
}
