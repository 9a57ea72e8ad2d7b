using System.Security.Cryptography;
using MeshAgent.Core.Interop;

namespace MeshAgent.Core.Crypto;

/// <summary>
/// X25519 Diffie-Hellman (RFC 7748 §5), WireGuard's DH. Keys are 32 raw bytes, little-endian, exactly as
/// <c>wg genkey</c>/<c>wg pubkey</c> print them in base64.
/// </summary>
/// <remarks>Outputs must not overlap inputs.</remarks>
public static class X25519
{
    public const int KeySize = 32;

    /// <summary>32 random bytes, clamped like <c>wg genkey</c> (see <see cref="ClampPrivateKey"/>).</summary>
    public static void GeneratePrivateKey(Span<byte> privateKey)
    {
        CryptoArgs.RequireLength(privateKey.Length, KeySize, nameof(privateKey));
        SecureRandom.Fill(privateKey);
        ClampPrivateKey(privateKey);
    }

    /// <summary>
    /// RFC 7748 §5 "decodeScalar25519" applied to the stored bytes: clear the low three bits (cofactor),
    /// clear bit 255 and set bit 254. libsodium clamps internally anyway; storing the clamped form matches
    /// <c>wg genkey</c> byte for byte.
    /// </summary>
    public static void ClampPrivateKey(Span<byte> privateKey)
    {
        CryptoArgs.RequireLength(privateKey.Length, KeySize, nameof(privateKey));
        privateKey[0] &= 248;
        privateKey[31] = (byte)((privateKey[31] & 127) | 64);
    }

    /// <summary>publicKey = X25519(privateKey, 9), libsodium <c>crypto_scalarmult_base</c>.</summary>
    public static unsafe void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        CryptoArgs.RequireLength(privateKey.Length, KeySize, nameof(privateKey));
        CryptoArgs.RequireLength(publicKey.Length, KeySize, nameof(publicKey));
        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* q = publicKey)
        fixed (byte* n = privateKey)
        {
            result = Sodium.crypto_scalarmult_base(q, n);
        }

        // A clamped scalar times the base point is never the identity, so failure means a broken library.
        if (result != 0)
        {
            throw new CryptographicException($"crypto_scalarmult_base failed (returned {result}) in {Sodium.LibraryName}.");
        }
    }

    /// <summary>
    /// sharedSecret = X25519(privateKey, publicKey), libsodium <c>crypto_scalarmult</c>. Returns false, with
    /// <paramref name="sharedSecret"/> zeroed, when the result is all zero: the peer sent a low-order point,
    /// which WireGuard rejects (wireguard-go <c>errInvalidPublicKey</c>). The zero check is repeated here so
    /// the contract does not depend on the libsodium version.
    /// </summary>
    public static unsafe bool TryDeriveSharedSecret(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret)
    {
        CryptoArgs.RequireLength(privateKey.Length, KeySize, nameof(privateKey));
        CryptoArgs.RequireLength(publicKey.Length, KeySize, nameof(publicKey));
        CryptoArgs.RequireLength(sharedSecret.Length, KeySize, nameof(sharedSecret));
        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* q = sharedSecret)
        fixed (byte* n = privateKey)
        fixed (byte* p = publicKey)
        {
            result = Sodium.crypto_scalarmult(q, n, p);
        }

        if (result != 0 || CryptoArgs.IsAllZero(sharedSecret))
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
            return false;
        }

        return true;
    }
}
