using System.Buffers.Binary;

namespace MeshAgent.Core.Invitations;

/// <summary>
/// "Token <see cref="TokenId"/> was used": the small record an admin gossips after accepting a join,
/// so that every other admin refuses the same token (<see cref="JoinProtocol"/>, single use across
/// admins). Carries no secret. Kept until <see cref="ExpiresAt"/> — after that the token is refused
/// as expired anyway — so the set every node holds stays bounded by the invitations still alive.
/// <code>
/// offset size
///      0    1  record version = 1
///      1    8  token id
///      9    8  used at, Unix seconds (int64 BE)
///     17    8  token expiry, Unix seconds (int64 BE)
///     25   32  admin identity public key (Ed25519): who accepted the join and signs this record
///     57    1  signature length s
///     58    s  signature over <see cref="GetSignedBytes"/> (Ed25519, 64 bytes, once the trust code
///              signs; the gossip layer verifies it against the admin's certificate before calling
///              <see cref="IInvitationStore.ApplyUsedRecord"/>)
/// </code>
/// Never throws on network input.
/// </summary>
public sealed class UsedTokenRecord
{
    public const byte RecordVersion = 1;
    public const int FixedSize = 58;

    private static ReadOnlySpan<byte> SignatureLabel => "meshagent used token v1\0"u8;

    private readonly byte[] _adminKey;
    private readonly byte[] _signature;

    public UsedTokenRecord(JoinTokenId tokenId, DateTimeOffset usedAt, DateTimeOffset expiresAt, ReadOnlySpan<byte> adminIdentityPublicKey, ReadOnlySpan<byte> signature)
    {
        if (adminIdentityPublicKey.Length != JoinToken.KeySize)
        {
            throw new ArgumentException($"an admin identity key is {JoinToken.KeySize} bytes, got {adminIdentityPublicKey.Length}", nameof(adminIdentityPublicKey));
        }

        if (signature.Length > byte.MaxValue)
        {
            throw new ArgumentException($"a used-token signature is at most {byte.MaxValue} bytes", nameof(signature));
        }

        if (!IsRepresentable(usedAt.ToUnixTimeSeconds()) || !IsRepresentable(expiresAt.ToUnixTimeSeconds()))
        {
            throw new ArgumentException($"used-token times must lie in 1970..9999 (got {usedAt:O} and {expiresAt:O})");
        }

        TokenId = tokenId;
        UsedAt = DateTimeOffset.FromUnixTimeSeconds(usedAt.ToUnixTimeSeconds());
        ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(expiresAt.ToUnixTimeSeconds());
        _adminKey = adminIdentityPublicKey.ToArray();
        _signature = signature.ToArray();
    }

    public JoinTokenId TokenId { get; }

    public DateTimeOffset UsedAt { get; }

    public DateTimeOffset ExpiresAt { get; }

    public ReadOnlySpan<byte> AdminIdentityPublicKey => _adminKey;

    /// <summary>Empty until signed (<see cref="WithSignature"/>).</summary>
    public ReadOnlySpan<byte> Signature => _signature;

    public int Size => FixedSize + _signature.Length;

    /// <summary>A copy carrying <paramref name="signature"/> (the engine signs with the admin's identity key).</summary>
    public UsedTokenRecord WithSignature(ReadOnlySpan<byte> signature) => new(TokenId, UsedAt, ExpiresAt, _adminKey, signature);

    /// <summary>What the admin signs: a domain label and bytes 0..56 of the record (everything but the signature).</summary>
    public byte[] GetSignedBytes()
    {
        var bytes = new byte[SignatureLabel.Length + FixedSize - 1];
        SignatureLabel.CopyTo(bytes);
        WriteFixed(bytes.AsSpan(SignatureLabel.Length));
        return bytes;
    }

    public int Write(Span<byte> destination)
    {
        WriteFixed(destination);
        destination[FixedSize - 1] = (byte)_signature.Length;
        _signature.CopyTo(destination[FixedSize..]);
        return Size;
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        Write(bytes);
        return bytes;
    }

    /// <summary>Exactly one record and nothing after it, or false. Never throws.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out UsedTokenRecord? record)
    {
        record = null;
        if (source.Length < FixedSize || source[0] != RecordVersion || source.Length != FixedSize + source[FixedSize - 1])
        {
            return false;
        }

        long usedAt = BinaryPrimitives.ReadInt64BigEndian(source[9..]);
        long expiresAt = BinaryPrimitives.ReadInt64BigEndian(source[17..]);
        if (!IsRepresentable(usedAt) || !IsRepresentable(expiresAt))
        {
            return false;
        }

        record = new UsedTokenRecord(
            JoinTokenId.Read(source[1..]),
            DateTimeOffset.FromUnixTimeSeconds(usedAt),
            DateTimeOffset.FromUnixTimeSeconds(expiresAt),
            source.Slice(25, JoinToken.KeySize),
            source[FixedSize..]);
        return true;
    }

    private static bool IsRepresentable(long unixSeconds) => unixSeconds is >= 0 and <= 253402300799;

    private void WriteFixed(Span<byte> destination)
    {
        destination[0] = RecordVersion;
        TokenId.Write(destination[1..]);
        BinaryPrimitives.WriteInt64BigEndian(destination[9..], UsedAt.ToUnixTimeSeconds());
        BinaryPrimitives.WriteInt64BigEndian(destination[17..], ExpiresAt.ToUnixTimeSeconds());
        _adminKey.CopyTo(destination[25..]);
    }
}
