using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace MeshAgent.Core.Config;

/// <summary>
/// Optional symmetric key mixed into the handshake (the "psk" of Noise_IKpsk2, WireGuard paper
/// section 5.2). Secret: <see cref="ToString"/> prints "(hidden)"; <see cref="RevealBase64"/> is the
/// deliberate way out. The all-zero key is what WireGuard uses when none is configured.
/// </summary>
public readonly struct PresharedKey
{
    public const int Length = KeyBytes.Length;

    private readonly KeyBytes _bytes;

    /// <summary>Copies 32 bytes. Throws <see cref="ArgumentException"/> on any other length.</summary>
    public PresharedKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"a WireGuard preshared key is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        bytes.CopyTo(_bytes);
    }

    private PresharedKey(KeyBytes bytes) => _bytes = bytes;

    /// <summary>The secret bytes. Borrowed: valid while this value lives.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan() => _bytes;

    /// <summary>Parses canonical base64 of 32 bytes (see <c>wg genpsk</c>). Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<char> base64, out PresharedKey key)
    {
        bool ok = KeyBytes.TryDecode(base64, out KeyBytes bytes);
        key = new PresharedKey(bytes);
        return ok;
    }

    /// <summary>The key as base64. The caller owns the secrecy of the result: never log it.</summary>
    public string RevealBase64() => KeyBytes.Encode(_bytes);

    /// <summary>Constant-time comparison.</summary>
    public bool FixedTimeEquals(in PresharedKey other) =>
        CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    public override string ToString() => "(hidden)";
}
