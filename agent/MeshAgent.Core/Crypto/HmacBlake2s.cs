using System.Security.Cryptography;

namespace MeshAgent.Core.Crypto;

/// <summary>
/// HMAC (RFC 2104) over BLAKE2s-256 with BLAKE2s's 64-byte block, as WireGuard's HMAC
/// (wireguard-go <c>hmac.New(blake2s.New256, key)</c>). No official test vectors exist; the tests check it
/// differentially against a literal RFC 2104 construction and through wireguard-go's KDF vectors.
/// </summary>
public static class HmacBlake2s
{
    public const int MacSize = Blake2s.HashSize;

    private const byte InnerPad = 0x36, OuterPad = 0x5c;

    /// <summary>
    /// mac32 = HMAC-BLAKE2s(key, data). Keys longer than 64 bytes are hashed first (RFC 2104 §2).
    /// <paramref name="mac32"/> may alias <paramref name="key"/> or <paramref name="data"/>: both are consumed before it is written.
    /// </summary>
    public static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac32) =>
        Compute(key, data, default, mac32);

    /// <summary>HMAC-BLAKE2s(key, data1 ‖ data2) without concatenating (the HKDF expand steps).</summary>
    internal static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2, Span<byte> mac32)
    {
        CryptoArgs.RequireLength(mac32.Length, MacSize, nameof(mac32));

        Span<byte> pad = stackalloc byte[Blake2s.BlockSize];
        Span<byte> inner = stackalloc byte[Blake2s.HashSize];
        pad.Clear();
        if (key.Length > Blake2s.BlockSize)
        {
            Blake2s.Hash(key, pad[..Blake2s.HashSize]);
        }
        else
        {
            key.CopyTo(pad);
        }

        XorInPlace(pad, InnerPad);
        var state = new Blake2s(Blake2s.HashSize);
        state.Update(pad);
        state.Update(data1);
        state.Update(data2);
        state.Finish(inner);

        XorInPlace(pad, InnerPad ^ OuterPad);
        state = new Blake2s(Blake2s.HashSize);
        state.Update(pad);
        state.Update(inner);
        state.Finish(mac32);

        CryptographicOperations.ZeroMemory(pad);
        CryptographicOperations.ZeroMemory(inner);
    }

    private static void XorInPlace(Span<byte> buffer, byte value)
    {
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] ^= value;
        }
    }
}
