using System.Security.Cryptography;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.Noise;

/// <summary>
/// Noise spec §5.2 SymmetricState with HASH = BLAKE2s (HASHLEN 32): chaining key ck, handshake
/// hash h and a CipherState. HKDF is WireGuard's KDF, which is exactly Noise's HKDF with
/// HMAC-BLAKE2s (§4.3).
/// </summary>
public sealed class SymmetricState : IDisposable
{
    public const int HashLength = Blake2s.HashSize;

    private readonly byte[] _chainingKey = new byte[HashLength];
    private readonly byte[] _hash = new byte[HashLength];

    public CipherState Cipher { get; } = new();

    public ReadOnlySpan<byte> HandshakeHash => _hash;

    public ReadOnlySpan<byte> ChainingKey => _chainingKey;

    /// <summary>InitializeSymmetric(protocol_name).</summary>
    public SymmetricState(ReadOnlySpan<byte> protocolName)
    {
        if (protocolName.Length <= HashLength)
        {
            _hash.AsSpan().Clear();
            protocolName.CopyTo(_hash);
        }
        else
        {
            Blake2s.Hash(protocolName, _hash);
        }

        _hash.CopyTo(_chainingKey, 0);
    }

    public void MixKey(ReadOnlySpan<byte> inputKeyMaterial)
    {
        Span<byte> newChainingKey = stackalloc byte[HashLength];
        Span<byte> tempKey = stackalloc byte[HashLength];
        WireGuardKdf.Kdf2(_chainingKey, inputKeyMaterial, newChainingKey, tempKey);
        newChainingKey.CopyTo(_chainingKey);
        Cipher.InitializeKey(tempKey);
        CryptographicOperations.ZeroMemory(tempKey);
        CryptographicOperations.ZeroMemory(newChainingKey);
    }

    public void MixHash(ReadOnlySpan<byte> data) => Blake2s.Hash(_hash, data, _hash);

    public void MixKeyAndHash(ReadOnlySpan<byte> inputKeyMaterial)
    {
        Span<byte> newChainingKey = stackalloc byte[HashLength];
        Span<byte> tempHash = stackalloc byte[HashLength];
        Span<byte> tempKey = stackalloc byte[HashLength];
        WireGuardKdf.Kdf3(_chainingKey, inputKeyMaterial, newChainingKey, tempHash, tempKey);
        newChainingKey.CopyTo(_chainingKey);
        CryptographicOperations.ZeroMemory(newChainingKey);
        MixHash(tempHash);
        Cipher.InitializeKey(tempKey);
        CryptographicOperations.ZeroMemory(tempKey);
    }

    /// <summary>EncryptAndHash: returns the bytes written to ciphertext.</summary>
    public int EncryptAndHash(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        int written = Cipher.EncryptWithAd(_hash, plaintext, ciphertext);
        MixHash(ciphertext[..written]);
        return written;
    }

    public bool TryDecryptAndHash(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext, out int written)
    {
        if (!Cipher.TryDecryptWithAd(_hash, ciphertext, plaintext, out written))
        {
            return false;
        }

        MixHash(ciphertext);
        return true;
    }

    /// <summary>Split(): the two transport keys, initiator→responder first.</summary>
    public void Split(Span<byte> key1, Span<byte> key2) => WireGuardKdf.Kdf2(_chainingKey, ReadOnlySpan<byte>.Empty, key1, key2);

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_chainingKey);
        CryptographicOperations.ZeroMemory(_hash);
        Cipher.Dispose();
    }
}
