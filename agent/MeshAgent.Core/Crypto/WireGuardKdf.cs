using System.Security.Cryptography;

namespace MeshAgent.Core.Crypto;

/// <summary>
/// WireGuard's KDF1/2/3 (wireguard-go <c>noise-helpers.go</c>; the whitepaper's HKDF over HMAC-BLAKE2s):
/// prk = HMAC(key, input); t0 = HMAC(prk, 0x01); t1 = HMAC(prk, t0 ‖ 0x02); t2 = HMAC(prk, t1 ‖ 0x03).
/// In the handshake <paramref name="key"/> is the chaining key.
/// </summary>
/// <remarks>
/// Every output is 32 bytes. Outputs may alias <c>key</c> or <c>input</c> — <c>(ck, k) = KDF2(ck, x)</c> is the
/// usual call — because both are consumed into prk before any output is written; outputs must not alias each other.
/// </remarks>
public static class WireGuardKdf
{
    public const int OutputSize = HmacBlake2s.MacSize;

    public static void Kdf1(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t0)
    {
        CryptoArgs.RequireLength(t0.Length, OutputSize, nameof(t0));
        Span<byte> prk = stackalloc byte[OutputSize];
        HmacBlake2s.Compute(key, input, prk);
        HmacBlake2s.Compute(prk, [0x01], t0);
        CryptographicOperations.ZeroMemory(prk);
    }

    public static void Kdf2(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t0, Span<byte> t1)
    {
        CryptoArgs.RequireLength(t0.Length, OutputSize, nameof(t0));
        CryptoArgs.RequireLength(t1.Length, OutputSize, nameof(t1));
        Span<byte> prk = stackalloc byte[OutputSize];
        HmacBlake2s.Compute(key, input, prk);
        HmacBlake2s.Compute(prk, [0x01], t0);
        HmacBlake2s.Compute(prk, t0, [0x02], t1);
        CryptographicOperations.ZeroMemory(prk);
    }

    public static void Kdf3(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t0, Span<byte> t1, Span<byte> t2)
    {
        CryptoArgs.RequireLength(t0.Length, OutputSize, nameof(t0));
        CryptoArgs.RequireLength(t1.Length, OutputSize, nameof(t1));
        CryptoArgs.RequireLength(t2.Length, OutputSize, nameof(t2));
        Span<byte> prk = stackalloc byte[OutputSize];
        HmacBlake2s.Compute(key, input, prk);
        HmacBlake2s.Compute(prk, [0x01], t0);
        HmacBlake2s.Compute(prk, t0, [0x02], t1);
        HmacBlake2s.Compute(prk, t1, [0x03], t2);
        CryptographicOperations.ZeroMemory(prk);
    }
}
