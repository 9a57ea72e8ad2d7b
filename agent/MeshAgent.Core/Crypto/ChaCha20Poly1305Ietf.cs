using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using MeshAgent.Core.Interop;

namespace MeshAgent.Core.Crypto;

/// <summary>
/// ChaCha20-Poly1305 with a 96-bit nonce (RFC 8439 §2.8), libsodium <c>crypto_aead_chacha20poly1305_ietf_*</c>.
/// WireGuard's AEAD for handshake fields and transport data. Allocation-free; sealing and opening work in place.
/// </summary>
/// <remarks>
/// Layout: ciphertext = encrypted plaintext ‖ 16-byte tag. "In place" means the output span starts at the same
/// address as the input span; a partial overlap throws. Key and nonce sizes are caller obligations and throw.
/// </remarks>
public static class ChaCha20Poly1305Ietf
{
    public const int KeySize = 32, NonceSize = 12, TagSize = 16;

    /// <summary>Encrypts and authenticates. <paramref name="ciphertext"/>.Length must be plaintext.Length + <see cref="TagSize"/>.</summary>
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
            result = Sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
                c, null, m, (ulong)plaintext.Length, ad, (ulong)associatedData.Length, null, npub, k);
        }

        if (result != 0)
        {
            throw new CryptographicException($"crypto_aead_chacha20poly1305_ietf_encrypt failed (returned {result}) in {Sodium.LibraryName}.");
        }
    }

    /// <summary>
    /// Verifies and decrypts. Returns false when authentication fails or <paramref name="ciphertext"/> is shorter
    /// than a tag; <paramref name="plaintext"/> is then all zero. <paramref name="plaintext"/>.Length must be
    /// ciphertext.Length - <see cref="TagSize"/>.
    /// </summary>
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
            result = Sodium.crypto_aead_chacha20poly1305_ietf_decrypt(
                m, null, null, c, (ulong)ciphertext.Length, ad, (ulong)associatedData.Length, npub, k);
        }

        if (result != 0)
        {
            // libsodium already zeroes m on failure; repeated so the contract does not depend on its version.
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }

        return true;
    }

    /// <summary><see cref="Seal(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> with a counter nonce (<see cref="WriteCounterNonce"/>).</summary>
    public static void Seal(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertext)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        WriteCounterNonce(counter, nonce);
        Seal(key, nonce, plaintext, associatedData, ciphertext);
    }

    /// <summary><see cref="TryOpen(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> with a counter nonce (<see cref="WriteCounterNonce"/>).</summary>
    public static bool TryOpen(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        WriteCounterNonce(counter, nonce);
        return TryOpen(key, nonce, ciphertext, associatedData, plaintext);
    }

    /// <summary>
    /// The nonce WireGuard and Noise's ChaChaPoly use: 32 zero bits, then the 64-bit counter little-endian
    /// (wireguard-go <c>send.go</c>; Noise spec §12.3).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteCounterNonce(ulong counter, Span<byte> nonce)
    {
        CryptoArgs.RequireLength(nonce.Length, NonceSize, nameof(nonce));
        BinaryPrimitives.WriteUInt32LittleEndian(nonce, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], counter);
    }
}
