using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace MeshAgent.Core.Config;

/// <summary>
/// The interface's Curve25519 static private key (32 bytes). Secret: <see cref="ToString"/> prints
/// "(hidden)" so the key cannot reach a log by accident; <see cref="RevealBase64"/> is the one
/// deliberate way out.
/// </summary>
/// <remarks>
/// A struct is copied freely and cannot be reliably wiped; callers that need erasure keep the
/// key in their own pinned buffer. Deriving the public key needs X25519 and lives with the crypto code.
/// </remarks>
public readonly struct WireGuardPrivateKey
{
    public const int Length = KeyBytes.Length;

    private readonly KeyBytes _bytes;

    /// <summary>Copies 32 bytes. Throws <see cref="ArgumentException"/> on any other length.</summary>
    public WireGuardPrivateKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"a WireGuard private key is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        bytes.CopyTo(_bytes);
    }

    private WireGuardPrivateKey(KeyBytes bytes) => _bytes = bytes;

    /// <summary>The secret bytes. Borrowed: valid while this value lives; do not copy them anywhere durable.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan() => _bytes;

    /// <summary>Parses canonical base64 of 32 bytes (see <c>wg genkey</c>). Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<char> base64, out WireGuardPrivateKey key)
    {
        bool ok = KeyBytes.TryDecode(base64, out KeyBytes bytes);
        key = new WireGuardPrivateKey(bytes);
        return ok;
    }

    /// <summary>
    /// The key as base64, for writing a config file or handing it to wg(8). The caller owns the
    /// secrecy of the result: never log it.
    /// </summary>
    public string RevealBase64() => KeyBytes.Encode(_bytes);

    /// <summary>Constant-time comparison, so equality checks do not leak key bytes through timing.</summary>
    public bool FixedTimeEquals(in WireGuardPrivateKey other) =>
        CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    public override string ToString() => "(hidden)";
}
