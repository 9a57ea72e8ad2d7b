using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MeshAgent.Core.Stun;

/// <summary>
/// The 96-bit transaction id of a STUN message (RFC 8489 §5), as a value. A client picks it
/// uniformly at random from a cryptographically strong source (§6) and matches responses by it,
/// so an off-path attacker cannot forge a response without seeing the request.
/// </summary>
public readonly struct StunTransactionId : IEquatable<StunTransactionId>
{
    public const int Size = 12;

    // Bytes 0–7 and 8–11, big-endian, so ToString and comparisons follow wire order.
    private readonly ulong _high;
    private readonly uint _low;

    private StunTransactionId(ulong high, uint low)
    {
        _high = high;
        _low = low;
    }

    /// <summary>Reads the first 12 bytes of <paramref name="bytes"/>.</summary>
    /// <exception cref="ArgumentException">Fewer than 12 bytes (a caller bug: parsers check lengths first).</exception>
    public static StunTransactionId Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size)
        {
            throw new ArgumentException($"a STUN transaction id is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }

        return new StunTransactionId(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]));
    }

    /// <summary>A fresh id from the operating system's CSPRNG.</summary>
    public static StunTransactionId NewRandom()
    {
        Span<byte> bytes = stackalloc byte[Size];
        RandomNumberGenerator.Fill(bytes);
        return Read(bytes);
    }

    /// <summary>Writes the 12 bytes to the start of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], _low);
    }

    public bool Equals(StunTransactionId other) => _high == other._high && _low == other._low;

    public override bool Equals(object? obj) => obj is StunTransactionId other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low);

    public static bool operator ==(StunTransactionId left, StunTransactionId right) => left.Equals(right);

    public static bool operator !=(StunTransactionId left, StunTransactionId right) => !left.Equals(right);

    /// <summary>24 lowercase hex digits in wire order.</summary>
    public override string ToString() => $"{_high:x16}{_low:x8}";
}
