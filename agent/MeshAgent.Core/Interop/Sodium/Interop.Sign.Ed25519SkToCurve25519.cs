using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class Sodium
{
    /// <summary>
    /// X25519 secret key for an Ed25519 secret key: the first half of SHA-512(seed), clamped, i.e. the scalar
    /// Ed25519 signs with. Reads the 32-byte seed at the start of <paramref name="ed25519_sk"/>; returns 0.
    /// </summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial int crypto_sign_ed25519_sk_to_curve25519(byte* curve25519_sk, byte* ed25519_sk);
}
