using System.Buffers.Binary;

namespace MeshAgent.Engine.Membership;

/// <summary>
/// A member's identity in gossip: its 32-byte node public key, opaque to the membership layer.
/// Held as four big-endian words so equality, hashing and ordering are a few integer operations
/// (a table of thousands of members is probed and sorted by it). <see cref="Prefix"/> (the first
/// eight bytes) orders members and addresses them in anti-entropy digests; node keys are uniform
/// random, so prefixes are uniform and, at 64 bits, unique in any realistic mesh.
/// </summary>
public readonly struct MemberId : IEquatable<MemberId>, IComparable<MemberId>
{
    public const int Size = 32;

    private readonly ulong _w0;
    private readonly ulong _w1;
    private readonly ulong _w2;
    private readonly ulong _w3;

    /// <exception cref="ArgumentException"><paramref name="key"/> is not exactly 32 bytes (a caller bug, not network input: use <see cref="TryRead"/> there).</exception>
    public MemberId(ReadOnlySpan<byte> key)
    {
        if (key.Length != Size)
        {
            throw new ArgumentException($"a member id is a 32-byte node key, got {key.Length} bytes", nameof(key));
        }

        _w0 = BinaryPrimitives.ReadUInt64BigEndian(key);
        _w1 = BinaryPrimitives.ReadUInt64BigEndian(key[8..]);
        _w2 = BinaryPrimitives.ReadUInt64BigEndian(key[16..]);
        _w3 = BinaryPrimitives.ReadUInt64BigEndian(key[24..]);
    }

    /// <summary>The first eight bytes, big-endian: the digest address and sort key.</summary>
    public ulong Prefix => _w0;

    /// <summary>Reads the first 32 bytes of <paramref name="source"/>; false if there are fewer. Never throws.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out MemberId id)
    {
        if (source.Length < Size)
        {
            id = default;
            return false;
        }

        id = new MemberId(source[..Size]);
        return true;
    }

    /// <summary>Writes the 32 key bytes; <paramref name="destination"/> must hold at least 32.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _w0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _w1);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _w2);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _w3);
    }

    public byte[] ToArray()
    {
        byte[] bytes = new byte[Size];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>Deterministic 64-bit mix of the key, identical on every node (unlike <see cref="GetHashCode"/>'s use in .NET collections, this one goes on the wire inside digest hashes).</summary>
    internal ulong StableHash(ulong seed) => Mix64.Combine(Mix64.Combine(Mix64.Combine(Mix64.Combine(seed, _w0), _w1), _w2), _w3);

    public bool Equals(MemberId other) => _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    public override bool Equals(object? obj) => obj is MemberId other && Equals(other);

    // Node keys are uniform random, but test ids may not be: fold all four words.
    public override int GetHashCode() => (int)Mix64.Combine(_w0 ^ _w2, _w1 ^ _w3);

    public int CompareTo(MemberId other)
    {
        int c = _w0.CompareTo(other._w0);
        if (c != 0)
        {
            return c;
        }

        c = _w1.CompareTo(other._w1);
        if (c != 0)
        {
            return c;
        }

        c = _w2.CompareTo(other._w2);
        return c != 0 ? c : _w3.CompareTo(other._w3);
    }

    public static bool operator ==(MemberId left, MemberId right) => left.Equals(right);

    public static bool operator !=(MemberId left, MemberId right) => !left.Equals(right);

    /// <summary>Base64 of the key, as WireGuard prints public keys.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return Convert.ToBase64String(bytes);
    }
}

/// <summary>
/// SplitMix64's finaliser, used to hash member digests identically on every node. Not a
/// cryptographic hash: a member can only hide differences in its own records by crafting
/// collisions, which it could do more simply by not gossiping.
/// </summary>
internal static class Mix64
{
    public static ulong Finalize(ulong x)
    {
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return x;
    }

    public static ulong Combine(ulong state, ulong value) => Finalize(state ^ value) + 0x9E3779B97F4A7C15UL;
}
