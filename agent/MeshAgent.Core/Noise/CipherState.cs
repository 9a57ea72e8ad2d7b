using System.Buffers.Binary;
using System.Security.Cryptography;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.Noise;

/// <summary>
/// Noise spec §5.1 CipherState for the ChaChaPoly cipher: a key k and a 64-bit nonce n.
/// Nonce encoding (§12.3): 32 zero bits followed by n as little-endian 64 bits, the same
/// encoding WireGuard uses for its transport counter.
/// Not thread-safe: a CipherState belongs to one handshake (or one test transport).
/// </summary>
public sealed class CipherState : IDisposable
{
    public const int KeySize = 32;
    public const int TagSize = 16;

    private readonly byte[] _key = new byte[KeySize];
    private bool _hasKey;
    private ulong _nonce;

    public bool HasKey => _hasKey;

    public ulong Nonce => _nonce;

    public void InitializeKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"a Noise cipher key is {KeySize} bytes, got {key.Length}", nameof(key));
        }

        key.CopyTo(_key);
        _hasKey = true;
        _nonce = 0;
    }

    /// <summary>
    /// Sets n explicitly (Noise §5.1 SetNonce); WireGuard transport uses explicit counters.
    /// </summary>
    public void SetNonce(ulong nonce) => _nonce = nonce;

    /// <summary>
    /// EncryptWithAd: with a key, writes plaintext.Length + 16 bytes; without one, copies the
    /// plaintext. Returns the number of bytes written. ciphertext may alias plaintext.
    /// </summary>
    public int EncryptWithAd(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        if (!_hasKey)
        {
            plaintext.CopyTo(ciphertext);
            return plaintext.Length;
        }

        // n = 2^64-1 is reserved (Noise §5.1); reaching it means the session must end.
        if (_nonce == ulong.MaxValue)
        {
            throw new InvalidOperationException("Noise nonce exhausted: the session must be rekeyed by a new handshake");
        }

        Span<byte> nonce = stackalloc byte[ChaCha20Poly1305Ietf.NonceSize];
        WriteNonce(nonce, _nonce);
        ChaCha20Poly1305Ietf.Seal(_key, nonce, plaintext, associatedData, ciphertext[..(plaintext.Length + TagSize)]);
        _nonce++;
        return plaintext.Length + TagSize;
    }

    /// <summary>
    /// DecryptWithAd: returns false (and leaves n unchanged) when authentication fails.
    /// </summary>
    public bool TryDecryptWithAd(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext, out int written)
    {
        written = 0;
        if (!_hasKey)
        {
            ciphertext.CopyTo(plaintext);
            written = ciphertext.Length;
            return true;
        }

        if (ciphertext.Length < TagSize || _nonce == ulong.MaxValue)
        {
            return false;
        }

        Span<byte> nonce = stackalloc byte[ChaCha20Poly1305Ietf.NonceSize];
        WriteNonce(nonce, _nonce);
        int length = ciphertext.Length - TagSize;
        if (!ChaCha20Poly1305Ietf.TryOpen(_key, nonce, ciphertext, associatedData, plaintext[..length]))
        {
            return false;
        }

        _nonce++;
        written = length;
        return true;
    }

    /// <summary>Copies the raw key out, for handing transport keys to the WireGuard keypair.</summary>
    internal void CopyKeyTo(Span<byte> destination) => _key.CopyTo(destination);

    /// <summary>ChaChaPoly nonce (Noise §12.3, WireGuard transport): 4 zero bytes ‖ counter LE64.</summary>
    public static void WriteNonce(Span<byte> nonce12, ulong counter)
    {
        nonce12[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce12[4..], counter);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_key);
        _hasKey = false;
    }
}
