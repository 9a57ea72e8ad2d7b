using System.Security.Cryptography;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Engine.WireGuard;

/// <summary>
/// One direction of a WireGuard transport session: ChaCha20-Poly1305 (IETF) with the nonce
/// 0x00000000 ‖ counter (little-endian 64). The key sits in a pinned array so the GC never
/// leaves copies of it behind, and is wiped on disposal. Seal and open work in place and
/// allocate nothing. Thread-safe (no mutable state besides the key); dispose only when no
/// data-plane thread can still hold the keypair (see WireGuardDevice retirement).
/// </summary>
internal sealed class TransportCipher : IDisposable
{
    private readonly byte[] _key = GC.AllocateArray<byte>(ChaCha20Poly1305Ietf.KeySize, pinned: true);

    public TransportCipher(ReadOnlySpan<byte> key)
    {
        key[..ChaCha20Poly1305Ietf.KeySize].CopyTo(_key);
    }

    private ReadOnlySpan<byte> Key => _key;

    /// <summary>Encrypts data[..^16] in place and writes the tag into the last 16 bytes.</summary>
    public void SealInPlace(ulong counter, Span<byte> dataAndTag)
    {
        Span<byte> nonce = stackalloc byte[ChaCha20Poly1305Ietf.NonceSize];
        Core.Noise.CipherState.WriteNonce(nonce, counter);
        ReadOnlySpan<byte> plaintext = dataAndTag[..^ChaCha20Poly1305Ietf.TagSize];
        ChaCha20Poly1305Ietf.Seal(Key, nonce, plaintext, ReadOnlySpan<byte>.Empty, dataAndTag);
    }

    /// <summary>Decrypts ciphertext‖tag in place; the plaintext is ciphertext.Length - 16 bytes at the start.</summary>
    public bool TryOpenInPlace(ulong counter, Span<byte> ciphertextAndTag)
    {
        Span<byte> nonce = stackalloc byte[ChaCha20Poly1305Ietf.NonceSize];
        Core.Noise.CipherState.WriteNonce(nonce, counter);
        return ChaCha20Poly1305Ietf.TryOpen(Key, nonce, ciphertextAndTag, ReadOnlySpan<byte>.Empty, ciphertextAndTag[..^ChaCha20Poly1305Ietf.TagSize]);
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
