using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace MeshAgent.Core.Config;

/// <summary>
/// A peer's Curve25519 static public key (32 bytes). Text form: standard base64, as printed by
/// <c>wg pubkey</c>. Equality is by value; the peer table keys on it.
/// </summary>
public readonly struct WireGuardPublicKey : IEquatable<WireGuardPublicKey>
{
    public const int Length = KeyBytes.Length;

    private readonly KeyBytes _bytes;

    /// <summary>Copies 32 bytes. Throws <see cref="ArgumentException"/> on any other length.</summary>
    public WireGuardPublicKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"a WireGuard public key is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        bytes.CopyTo(_bytes);
    }

    private WireGuardPublicKey(KeyBytes bytes) => _bytes = bytes;

    /// <summary>The key bytes. Borrowed: valid while this value (or the storage holding it) lives.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan() => _bytes;

    /// <summary>True for the all-zero value (<c>default</c>), which no real peer has.</summary>
    public bool IsZero => ((ReadOnlySpan<byte>)_bytes).IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Parses canonical base64 of 32 bytes (see <c>wg pubkey</c>). Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<char> base64, out WireGuardPublicKey key)
    {
        bool ok = KeyBytes.TryDecode(base64, out KeyBytes bytes);
        key = new WireGuardPublicKey(bytes);
        return ok;
    }

    /// <summary>Parses canonical base64 of 32 bytes; throws <see cref="FormatException"/> naming the problem.</summary>
    public static WireGuardPublicKey Parse(string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        if (!TryParse(base64, out WireGuardPublicKey key))
        {
            throw new FormatException($"public key '{base64}' {KeyBytes.DescribeInvalid(base64)}");
        }

        return key;
    }

    public string ToBase64() => KeyBytes.Encode(_bytes);

    /// <summary>Base64, as wg(8) prints it. Public keys are not secret.</summary>
    public override string ToString() => ToBase64();

    public bool Equals(WireGuardPublicKey other) => ((ReadOnlySpan<byte>)_bytes).SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => obj is WireGuardPublicKey other && Equals(other);

    // Public keys are uniformly distributed, so the first 8 bytes hash well enough.
    public override int GetHashCode() => BinaryPrimitives.ReadInt64LittleEndian(_bytes).GetHashCode();

    public static bool operator ==(WireGuardPublicKey left, WireGuardPublicKey right) => left.Equals(right);

    public static bool operator !=(WireGuardPublicKey left, WireGuardPublicKey right) => !left.Equals(right);
}
