using System.Security.Cryptography;
using MeshAgent.Core.Interop;

namespace MeshAgent.Core.Crypto;

/// <summary>
/// Ed25519 signatures (RFC 8032 §5.1, PureEdDSA), libsodium <c>crypto_sign_*</c>. The 64-byte secret key is
/// libsodium's layout: seed (32) ‖ public key (32). Signing is deterministic.
/// </summary>
/// <remarks>Key sizes are caller obligations and throw; a signature of the wrong size simply fails to verify.</remarks>
public static class Ed25519
{
    public const int PublicKeySize = 32, SecretKeySize = 64, SeedSize = 32, SignatureSize = 64;

    public static unsafe void GenerateKeyPair(Span<byte> publicKey, Span<byte> secretKey)
    {
        CryptoArgs.RequireLength(publicKey.Length, PublicKeySize, nameof(publicKey));
        CryptoArgs.RequireLength(secretKey.Length, SecretKeySize, nameof(secretKey));
        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* pk = publicKey)
        fixed (byte* sk = secretKey)
        {
            result = Sodium.crypto_sign_keypair(pk, sk);
        }

        ThrowIfFailed(result, nameof(Sodium.crypto_sign_keypair));
    }

    /// <summary>Deterministic key pair from a 32-byte seed (RFC 8032 calls the seed the "private key").</summary>
    public static unsafe void KeyPairFromSeed(ReadOnlySpan<byte> seed, Span<byte> publicKey, Span<byte> secretKey)
    {
        CryptoArgs.RequireLength(seed.Length, SeedSize, nameof(seed));
        CryptoArgs.RequireLength(publicKey.Length, PublicKeySize, nameof(publicKey));
        CryptoArgs.RequireLength(secretKey.Length, SecretKeySize, nameof(secretKey));
        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* s = seed)
        fixed (byte* pk = publicKey)
        fixed (byte* sk = secretKey)
        {
            result = Sodium.crypto_sign_seed_keypair(pk, sk, s);
        }

        ThrowIfFailed(result, nameof(Sodium.crypto_sign_seed_keypair));
    }

    /// <summary>Detached signature of <paramref name="message"/>; the signature must not overlap the inputs.</summary>
    public static unsafe void Sign(ReadOnlySpan<byte> secretKey, ReadOnlySpan<byte> message, Span<byte> signature)
    {
        CryptoArgs.RequireLength(secretKey.Length, SecretKeySize, nameof(secretKey));
        CryptoArgs.RequireLength(signature.Length, SignatureSize, nameof(signature));
        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* sk = secretKey)
        fixed (byte* m = message)
        fixed (byte* sig = signature)
        {
            result = Sodium.crypto_sign_detached(sig, null, m, (ulong)message.Length, sk);
        }

        ThrowIfFailed(result, nameof(Sodium.crypto_sign_detached));
    }

    /// <summary>
    /// True only for a valid signature by <paramref name="publicKey"/>. libsodium rejects non-canonical
    /// encodings and small-order public keys (stricter than RFC 8032's cofactored check).
    /// </summary>
    public static unsafe bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        CryptoArgs.RequireLength(publicKey.Length, PublicKeySize, nameof(publicKey));
        if (signature.Length != SignatureSize)
        {
            return false;
        }

        Libsodium.EnsureInitialized();
        fixed (byte* pk = publicKey)
        fixed (byte* m = message)
        fixed (byte* sig = signature)
        {
            return Sodium.crypto_sign_verify_detached(sig, m, (ulong)message.Length, pk) == 0;
        }
    }

    private static void ThrowIfFailed(int result, string function)
    {
        if (result != 0)
        {
            throw new CryptographicException($"{function} failed (returned {result}) in {Sodium.LibraryName}.");
        }
    }
}
