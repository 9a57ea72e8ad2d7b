using System.Security.Cryptography;
using MeshAgent.Core.Interop;

namespace MeshAgent.Core.Crypto;

/// <summary>
/// XChaCha20-Poly1305 with a 192-bit nonce (draft-irtf-cfrg-xchacha §2), libsodium
/// <c>crypto_aead_xchacha20poly1305_ietf_*</c>. WireGuard uses it only for cookie replies, where the nonce is random.
/// Same contract as <see cref="ChaCha20Poly1305Ietf"/>: ciphertext = encrypted plaintext ‖ 16-byte tag, in place allowed.
/// </summary>
public static class XChaCha20Poly1305
{
    public const int KeySize = 32, NonceSize = 24, TagSize = 16;

    public static unsafe void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertext)
    {
        CryptoArgs.RequireLength(key.Length, KeySize, nameof(key));
        CryptoArgs.RequireLength(nonce.Length, NonceSize, nameof(nonce));
        CryptoArgs.RequireLength(ciphertext.Length, plaintext.Length + TagSize, nameof(ciphertext));
        CryptoArgs.RequireSameOrDisjoint(plaintext, ciphertext, nameof(plaintext), nameof(ciphertext));
        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* k = key)
        fixed (byte* npub = nonce)
        fixed (byte* m = plaintext)
        fixed (byte* ad = associatedData)
        fixed (byte* c = ciphertext)
        {
            result = Sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
                c, null, m, (ulong)plaintext.Length, ad, (ulong)associatedData.Length, null, npub, k);
        }

        if (result != 0)
        {
            throw new CryptographicException($"crypto_aead_xchacha20poly1305_ietf_encrypt failed (returned {result}) in {Sodium.LibraryName}.");
        }
    }

    /// <summary>Returns false (plaintext zeroed) on authentication failure or a ciphertext shorter than a tag.</summary>
    public static unsafe bool TryOpen(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        CryptoArgs.RequireLength(key.Length, KeySize, nameof(key));
        CryptoArgs.RequireLength(nonce.Length, NonceSize, nameof(nonce));
        if (ciphertext.Length < TagSize)
        {
            return false;
        }

        CryptoArgs.RequireLength(plaintext.Length, ciphertext.Length - TagSize, nameof(plaintext));
        CryptoArgs.RequireSameOrDisjoint(ciphertext, plaintext, nameof(ciphertext), nameof(plaintext));
        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* k = key)
        fixed (byte* npub = nonce)
        fixed (byte* c = ciphertext)
        fixed (byte* ad = associatedData)
        fixed (byte* m = plaintext)
        {
            result = Sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                m, null, null, c, (ulong)ciphertext.Length, ad, (ulong)associatedData.Length, npub, k);
        }

        if (result != 0)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }

        return true;
    }
}
