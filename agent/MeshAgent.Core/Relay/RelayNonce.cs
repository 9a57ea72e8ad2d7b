using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace MeshAgent.Core.Relay;

/// <summary>
/// The 32-byte challenge nonce of the relay handshake. Opaque to the client, which only echoes and signs
/// it; the relay decides what it holds (see <see cref="RelayProtocol"/>). A plain value: no array to share.
/// </summary>
public readonly struct RelayNonce : IEquatable<RelayNonce>
{
    public const int Length = 32;

    private readonly Bytes _bytes;

    /// <summary>Copies 32 bytes. Throws <see cref="ArgumentException"/> on any other length (a caller bug).</summary>
    public RelayNonce(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"a relay nonce is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        bytes.CopyTo(_bytes);
    }

    /// <summary>Borrowed: valid while this value (or the storage holding it) lives.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan() => _bytes;

    public bool Equals(RelayNonce other) => ((ReadOnlySpan<byte>)_bytes).SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => obj is RelayNonce other && Equals(other);

    public override int GetHashCode() => BinaryPrimitives.ReadInt64LittleEndian(((ReadOnlySpan<byte>)_bytes)[24..]).GetHashCode();

    public static bool operator ==(RelayNonce left, RelayNonce right) => left.Equals(right);

    public static bool operator !=(RelayNonce left, RelayNonce right) => !left.Equals(right);

    public override string ToString() => Convert.ToHexStringLower(_bytes);

    [InlineArray(Length)]
    private struct Bytes
    {
        private byte _element0;
    }
}
