using System.Security.Cryptography;
using MeshAgent.Core.Interop;

namespace MeshAgent.Core.Crypto;

/// <summary>
/// One key pair for signing and for WireGuard: converts an Ed25519 identity key pair to the X25519 key pair
/// of the same secret scalar (libsodium <c>crypto_sign_ed25519_*_to_curve25519</c>; the birational map of
/// RFC 7748 §4.1, u = (1 + y) / (1 - y)). A node's WireGuard static key is therefore derived from, never
/// stored beside, its identity key, and any peer can compute it from the node's certificate.
/// </summary>
/// <remarks>
/// Using one secret for both EdDSA and X25519 is what libsodium documents these functions for; the two
/// uses hash the secret differently (signing nonces from SHA-512(seed)'s second half, DH with the clamped
/// scalar), and no signature reveals the scalar. Outputs must not overlap inputs.
/// </remarks>
public static class Ed25519ToX25519
{
    /// <summary>
    /// X25519 public key for an Ed25519 public key. Returns false, with <paramref name="x25519PublicKey"/>
    /// zeroed, when <paramref name="ed25519PublicKey"/> is not a valid curve point of large order, as can
    /// happen for a key read from the network. Wrong buffer sizes throw (caller bugs).
    /// </summary>
    public static unsafe bool TryConvertPublicKey(ReadOnlySpan<byte> ed25519PublicKey, Span<byte> x25519PublicKey)
    {
        CryptoArgs.RequireLength(ed25519PublicKey.Length, Ed25519.PublicKeySize, nameof(ed25519PublicKey));
        CryptoArgs.RequireLength(x25519PublicKey.Length, X25519.KeySize, nameof(x25519PublicKey));
        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* ed = ed25519PublicKey)
        fixed (byte* x = x25519PublicKey)
        {
            result = Sodium.crypto_sign_ed25519_pk_to_curve25519(x, ed);
        }

        if (result != 0)
        {
            x25519PublicKey.Clear();
            return false;
        }

        return true;
    }

    /// <summary>
    /// X25519 private key (clamped, as <c>wg genkey</c> stores keys) for a 64-byte libsodium Ed25519 secret key
    /// (seed ‖ public key). The output is secret: the caller wipes it when done.
    /// </summary>
    public static unsafe void ConvertSecretKey(ReadOnlySpan<byte> ed25519SecretKey, Span<byte> x25519PrivateKey)
    {
        CryptoArgs.RequireLength(ed25519SecretKey.Length, Ed25519.SecretKeySize, nameof(ed25519SecretKey));
        CryptoArgs.RequireLength(x25519PrivateKey.Length, X25519.KeySize, nameof(x25519PrivateKey));
        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* ed = ed25519SecretKey)
        fixed (byte* x = x25519PrivateKey)
        {
            result = Sodium.crypto_sign_ed25519_sk_to_curve25519(x, ed);
        }

        if (result != 0)
        {
            throw new CryptographicException($"crypto_sign_ed25519_sk_to_curve25519 failed (returned {result}) in {Sodium.LibraryName}.");
        }
    }
}
