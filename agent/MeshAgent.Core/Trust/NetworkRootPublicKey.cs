using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using MeshAgent.Core.Config;

namespace MeshAgent.Core.Trust;

/// <summary>
/// The public half of a network's Ed25519 root key (32 bytes): it names the network, and every certificate
/// and revocation of the network must verify under it. Text form <c>meshroot1:</c> + 43 base64url characters.
/// </summary>
public readonly struct NetworkRootPublicKey : IEquatable<NetworkRootPublicKey>
{
    public const int Length = KeyBytes.Length;
    public const string TextPrefix = "meshroot1:";

    private readonly KeyBytes _bytes;

    /// <summary>Copies 32 bytes. Throws <see cref="ArgumentException"/> on any other length.</summary>
    public NetworkRootPublicKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"a network root public key is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        bytes.CopyTo(_bytes);
    }

    /// <summary>The key bytes. Borrowed: valid while this value (or the storage holding it) lives.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan() => _bytes;

    /// <summary>True for <c>default</c>, which is no network.</summary>
    public bool IsZero => ((ReadOnlySpan<byte>)_bytes).IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Verifies a root signature made with <see cref="NetworkRootKey.Sign"/>. Never throws on a bad signature.</summary>
    public bool Verify(string context, ReadOnlySpan<byte> body, ReadOnlySpan<byte> signature) =>
        ContextSignature.Verify(_bytes, context, body, signature);

    /// <summary>Parses <c>meshroot1:</c> + canonical base64url of 32 bytes. Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out NetworkRootPublicKey key)
    {
        key = default;
        Span<byte> bytes = stackalloc byte[Length];
        if (!KeyText.TryDecode(text, TextPrefix, bytes))
        {
            return false;
        }

        key = new NetworkRootPublicKey(bytes);
        return true;
    }

    /// <summary>Parses the text form; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static NetworkRootPublicKey Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out NetworkRootPublicKey key)
            ? key
            : throw new FormatException($"not a network root public key: {KeyText.DescribeInvalid(text, TextPrefix, "network root public key")}");
    }

    public override string ToString() => KeyText.Encode(TextPrefix, _bytes);

    public bool Equals(NetworkRootPublicKey other) => ((ReadOnlySpan<byte>)_bytes).SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => obj is NetworkRootPublicKey other && Equals(other);

    // Public keys are uniformly distributed, so the first 8 bytes hash well enough.
    public override int GetHashCode() => BinaryPrimitives.ReadInt64LittleEndian(_bytes).GetHashCode();

    public static bool operator ==(NetworkRootPublicKey left, NetworkRootPublicKey right) => left.Equals(right);

    public static bool operator !=(NetworkRootPublicKey left, NetworkRootPublicKey right) => !left.Equals(right);
}
