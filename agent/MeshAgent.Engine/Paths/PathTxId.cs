using System.Buffers.Binary;

namespace MeshAgent.Engine.Paths;

/// <summary>
/// The 12-byte transaction id that pairs a <see cref="PathPing"/> with its <see cref="PathPong"/>
/// (12 bytes as STUN's, RFC 8489 §5, and Tailscale disco's). Random, so a pong cannot be produced
/// for a ping that was not received. A value: two words, no allocation as a dictionary key.
/// </summary>
public readonly struct PathTxId : IEquatable<PathTxId>
{
    public const int Size = 12;

    private readonly ulong _high;
    private readonly uint _low;

    /// <exception cref="ArgumentException"><paramref name="bytes"/> is shorter than 12 bytes (a caller bug; network input goes through the frame codec).</exception>
    public PathTxId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size)
        {
            throw new ArgumentException($"a path transaction id is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }

        _high = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _low = BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]);
    }

    /// <summary>A fresh id from <paramref name="random"/> (the engine's injected source, so simulations replay).</summary>
    public static PathTxId NewRandom(Random random)
    {
        Span<byte> bytes = stackalloc byte[Size];
        random.NextBytes(bytes);
        return new PathTxId(bytes);
    }

    /// <summary>Writes the 12 bytes; <paramref name="destination"/> must hold at least 12.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], _low);
    }

    public bool Equals(PathTxId other) => _high == other._high && _low == other._low;

    public override bool Equals(object? obj) => obj is PathTxId other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low);

    public static bool operator ==(PathTxId left, PathTxId right) => left.Equals(right);

    public static bool operator !=(PathTxId left, PathTxId right) => !left.Equals(right);

    public override string ToString() => $"{_high:x16}{_low:x8}";
}
