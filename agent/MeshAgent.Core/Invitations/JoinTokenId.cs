using System.Buffers.Binary;
using System.Globalization;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.Invitations;

/// <summary>
/// Names a join token without revealing its secret: the first 8 bytes of
/// BLAKE2s-256("meshagent join v1 token id" ‖ secret). Admins store, log and gossip the id
/// (<see cref="UsedTokenRecord"/>); recovering the 128-bit secret from it means inverting BLAKE2s.
/// 64 bits keep accidental collisions negligible for any number of invitations a network issues.
/// Text form: 16 lowercase hex digits.
/// </summary>
public readonly record struct JoinTokenId(ulong Value)
{
    public const int Size = 8;

    private static ReadOnlySpan<byte> Label => "meshagent join v1 token id"u8;

    public static JoinTokenId FromSecret(ReadOnlySpan<byte> secret)
    {
        Span<byte> hash = stackalloc byte[Blake2s.HashSize];
        Blake2s.Hash(Label, secret, hash);
        return Read(hash);
    }

    /// <summary>Reads 8 bytes, big-endian. The span must hold at least 8 bytes (caller obligation).</summary>
    public static JoinTokenId Read(ReadOnlySpan<byte> bytes) => new(BinaryPrimitives.ReadUInt64BigEndian(bytes));

    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt64BigEndian(destination, Value);

    /// <summary>Parses 16 hex digits (either case). Never throws.</summary>
    public static bool TryParse(string? text, out JoinTokenId id)
    {
        if (text is { Length: 16 } && ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value))
        {
            id = new JoinTokenId(value);
            return true;
        }

        id = default;
        return false;
    }

    public override string ToString() => Value.ToString("x16", CultureInfo.InvariantCulture);
}
