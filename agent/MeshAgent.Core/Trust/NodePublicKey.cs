using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using MeshAgent.Core.Config;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.Trust;

/// <summary>
/// A node's Ed25519 identity public key (32 bytes): what its certificate names and what signs its member
/// state. Its WireGuard static public key is derived from it (<see cref="TryGetWireGuardPublicKey"/>).
/// Text form <c>meshnode1:</c> + 43 base64url characters. Ordered by bytes, for deterministic sorting.
/// </summary>
public readonly struct NodePublicKey : IEquatable<NodePublicKey>, IComparable<NodePublicKey>
{
    public const int Length = KeyBytes.Length;
    public const string TextPrefix = "meshnode1:";

    private readonly KeyBytes _bytes;

    /// <summary>Copies 32 bytes. Throws <see cref="ArgumentException"/> on any other length.</summary>
    public NodePublicKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"a node public key is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        bytes.CopyTo(_bytes);
    }

    /// <summary>The key bytes. Borrowed: valid while this value (or the storage holding it) lives.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan() => _bytes;

    public bool IsZero => ((ReadOnlySpan<byte>)_bytes).IndexOfAnyExcept((byte)0) < 0;

    /// <summary>
    /// The node's WireGuard (X25519) static public key, the Montgomery form of this Edwards point. False when
    /// the bytes are not a valid Ed25519 point of large order: such a key can neither sign nor handshake.
    /// </summary>
    public bool TryGetWireGuardPublicKey(out WireGuardPublicKey key)
    {
        Span<byte> x = stackalloc byte[WireGuardPublicKey.Length];
        bool ok = Ed25519ToX25519.TryConvertPublicKey(_bytes, x);
        key = ok ? new WireGuardPublicKey(x) : default;
        return ok;
    }

    /// <summary>Verifies a signature made with <see cref="NodeIdentity.Sign"/>. Never throws on a bad signature.</summary>
    public bool Verify(string context, ReadOnlySpan<byte> body, ReadOnlySpan<byte> signature) =>
        ContextSignature.Verify(_bytes, context, body, signature);

    /// <summary>Parses <c>meshnode1:</c> + canonical base64url of 32 bytes. Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out NodePublicKey key)
    {
        key = default;
        Span<byte> bytes = stackalloc byte[Length];
        if (!KeyText.TryDecode(text, TextPrefix, bytes))
        {
            return false;
        }

        key = new NodePublicKey(bytes);
        return true;
    }

    /// <summary>Parses the text form; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static NodePublicKey Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out NodePublicKey key)
            ? key
            : throw new FormatException($"not a node public key: {KeyText.DescribeInvalid(text, TextPrefix, "node public key")}");
    }

    public override string ToString() => KeyText.Encode(TextPrefix, _bytes);

    public int CompareTo(NodePublicKey other) => ((ReadOnlySpan<byte>)_bytes).SequenceCompareTo(other._bytes);

    public bool Equals(NodePublicKey other) => ((ReadOnlySpan<byte>)_bytes).SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => obj is NodePublicKey other && Equals(other);

    public override int GetHashCode() => BinaryPrimitives.ReadInt64LittleEndian(_bytes).GetHashCode();

    public static bool operator ==(NodePublicKey left, NodePublicKey right) => left.Equals(right);

    public static bool operator !=(NodePublicKey left, NodePublicKey right) => !left.Equals(right);
}
