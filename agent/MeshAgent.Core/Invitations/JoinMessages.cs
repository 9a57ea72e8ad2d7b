using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.Invitations;

/// <summary>The five messages of the join exchange (<see cref="JoinProtocol"/>), in the header's type byte.</summary>
public enum JoinMessageType : byte
{
    Hello = 1,
    Challenge = 2,
    Refusal = 3,
    Request = 4,
    Response = 5,
}

/// <summary>How an inviter answered a join. Values are wire bytes; 0 is invalid.</summary>
public enum JoinStatus : byte
{
    Accepted = 1,
    TokenUsed = 2,
    TokenExpired = 3,
    UnknownToken = 4,
    NameTaken = 5,

    /// <summary>The admin refused for another reason, given in <see cref="JoinResponse.Reason"/> (address pool full, ...).</summary>
    Refused = 6,
}

/// <summary>
/// Clear header of every join message, and the wire codecs of the encrypted bodies.
/// <code>
///  0        1        2        3        4                                 8
/// +--------+--------+--------+--------+--------------------------------+---------------
/// |  'm'   |  'j'   | ver=1  |  type  |  session id (uint32 BE)         |  body ...
/// +--------+--------+--------+--------+--------------------------------+---------------
///  Hello     body = Noise message 1: e (32) ‖ AEAD(token id (8))          = 56 bytes
///  Challenge body = Noise message 2: e (32) ‖ AEAD(empty)                 = 48 bytes
///  Refusal   body = Noise message 2: e (32) ‖ AEAD(status (1)), psk = 0   = 49 bytes
///  Request   body = AEAD_T1(JoinRequest), AD = header
///  Response  body = AEAD_T2(JoinResponse), AD = header
/// </code>
/// The joiner picks the session id at random; it lets an engine tell concurrent joins apart when
/// they all arrive from one relay. The first byte 0x6D cannot start a WireGuard message (types 1..4)
/// or a STUN message (top two bits 00), so an agent can demultiplex join traffic on its own port.
/// All readers here never throw on network input.
/// </summary>
public static class JoinMessages
{
    public const int HeaderSize = 8;
    public const byte Version = 1;
    private const byte Magic0 = (byte)'m';
    private const byte Magic1 = (byte)'j';

    /// <summary>Writes the 8-byte header.</summary>
    public static void WriteHeader(Span<byte> destination, JoinMessageType type, uint sessionId)
    {
        destination[0] = Magic0;
        destination[1] = Magic1;
        destination[2] = Version;
        destination[3] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], sessionId);
    }

    /// <summary>True when <paramref name="message"/> starts like a join message of a known type ("looks like" demultiplexing).</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> message, out JoinMessageType type, out uint sessionId)
    {
        type = default;
        sessionId = 0;
        if (message.Length < HeaderSize || message[0] != Magic0 || message[1] != Magic1 || message[2] != Version
            || message[3] is < (byte)JoinMessageType.Hello or > (byte)JoinMessageType.Response)
        {
            return false;
        }

        type = (JoinMessageType)message[3];
        sessionId = BinaryPrimitives.ReadUInt32BigEndian(message[4..]);
        return true;
    }

    internal static bool IsDefined(JoinStatus status) => status is >= JoinStatus.Accepted and <= JoinStatus.Refused;
}

/// <summary>
/// Message 3's plaintext: what the joiner asks for, after the handshake proved the secret.
/// <code>
/// offset size
///      0    8  token id
///      8   32  joiner identity public key (Ed25519)
///     40   64  proof: Ed25519 signature by that key over "meshagent join v1 proof\0" ‖ h
///    104    1  requested node name length n (0 = let the admin choose, e.g. the token's suggestion)
///    105    n  requested node name, UTF-8
/// </code>
/// </summary>
public sealed class JoinRequest
{
    public const int FixedSize = 105;
    public const int MaxNameBytes = 63;

    private readonly byte[] _identityKey;
    private readonly byte[] _proof;

    /// <summary>Throws <see cref="ArgumentException"/> on a key that is not 32 bytes, a proof that is not 64, or a bad name.</summary>
    public JoinRequest(JoinTokenId tokenId, ReadOnlySpan<byte> joinerIdentityPublicKey, ReadOnlySpan<byte> proof, string? requestedName)
    {
        if (joinerIdentityPublicKey.Length != Ed25519.PublicKeySize || proof.Length != Ed25519.SignatureSize)
        {
            throw new ArgumentException($"a join request needs a {Ed25519.PublicKeySize}-byte identity key and a {Ed25519.SignatureSize}-byte proof (got {joinerIdentityPublicKey.Length} and {proof.Length})");
        }

        requestedName = string.IsNullOrEmpty(requestedName) ? null : requestedName;
        string? problem = requestedName is null ? null : NameRules.Check("the requested node name", requestedName, MaxNameBytes);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(requestedName));
        }

        TokenId = tokenId;
        _identityKey = joinerIdentityPublicKey.ToArray();
        _proof = proof.ToArray();
        RequestedName = requestedName;
    }

    public JoinTokenId TokenId { get; }

    public ReadOnlySpan<byte> JoinerIdentityPublicKey => _identityKey;

    public ReadOnlySpan<byte> Proof => _proof;

    /// <summary>The name the joiner asked for (`join --name`), or null.</summary>
    public string? RequestedName { get; }

    public int Size => FixedSize + (RequestedName is null ? 0 : Encoding.UTF8.GetByteCount(RequestedName));

    /// <summary>Writes <see cref="Size"/> bytes; returns that count.</summary>
    public int Write(Span<byte> destination)
    {
        TokenId.Write(destination);
        _identityKey.CopyTo(destination[8..]);
        _proof.CopyTo(destination[40..]);
        int nameLength = RequestedName is null ? 0 : Encoding.UTF8.GetBytes(RequestedName, destination[FixedSize..]);
        destination[104] = (byte)nameLength;
        return FixedSize + nameLength;
    }

    /// <summary>Exactly one request and nothing after it, or false. Never throws.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out JoinRequest? request)
    {
        request = null;
        if (source.Length < FixedSize || source.Length != FixedSize + source[104] || source[104] > MaxNameBytes)
        {
            return false;
        }

        ReadOnlySpan<byte> name = source[FixedSize..];
        if (!Utf8.IsValid(name))
        {
            return false;
        }

        string? requestedName = name.IsEmpty ? null : Encoding.UTF8.GetString(name);
        if (requestedName is not null && NameRules.Check("name", requestedName, MaxNameBytes) is not null)
        {
            return false;
        }

        request = new JoinRequest(JoinTokenId.Read(source), source.Slice(8, 32), source.Slice(40, 64), requestedName);
        return true;
    }
}

/// <summary>
/// Message 4's plaintext (and, with empty payloads, what a Refusal amounts to).
/// <code>
/// offset size
///      0    1  status (<see cref="JoinStatus"/>)
///      1    2  reason length r (≤ 1024), then r bytes UTF-8: the admin's explanation, may be empty
///      …    4  certificate length c, then c bytes (opaque here; the trust code defines them)
///      …    4  membership snapshot length s, then s bytes (opaque here; the gossip code defines them)
/// </code>
/// Only <see cref="JoinStatus.Accepted"/> carries a certificate. The snapshot should stay small
/// (a UDP datagram): push-pull gossip fills in the rest once the new member is up.
/// </summary>
public sealed class JoinResponse
{
    public const int MaxReasonBytes = 1024;

    private readonly byte[] _certificate;
    private readonly byte[] _membershipSnapshot;

    public JoinResponse(JoinStatus status, string? reason, ReadOnlySpan<byte> certificate, ReadOnlySpan<byte> membershipSnapshot)
    {
        if (!JoinMessages.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "not a join status");
        }

        reason ??= string.Empty;
        if (Encoding.UTF8.GetByteCount(reason) > MaxReasonBytes)
        {
            throw new ArgumentException($"a join refusal reason is at most {MaxReasonBytes} bytes of UTF-8", nameof(reason));
        }

        Status = status;
        Reason = reason;
        _certificate = certificate.ToArray();
        _membershipSnapshot = membershipSnapshot.ToArray();
    }

    public JoinStatus Status { get; }

    /// <summary>Free text from the admin for a refusal; empty when there is none.</summary>
    public string Reason { get; }

    public ReadOnlySpan<byte> Certificate => _certificate;

    public ReadOnlySpan<byte> MembershipSnapshot => _membershipSnapshot;

    public int Size => 1 + 2 + Encoding.UTF8.GetByteCount(Reason) + 4 + _certificate.Length + 4 + _membershipSnapshot.Length;

    public int Write(Span<byte> destination)
    {
        destination[0] = (byte)Status;
        int reasonLength = Encoding.UTF8.GetBytes(Reason, destination[3..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)reasonLength);
        int offset = 3 + reasonLength;
        offset = WriteBlob(destination, offset, _certificate);
        return WriteBlob(destination, offset, _membershipSnapshot);
    }

    /// <summary>Exactly one response and nothing after it, or false. Never throws.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out JoinResponse? response)
    {
        response = null;
        if (source.Length < 3 || !JoinMessages.IsDefined((JoinStatus)source[0]))
        {
            return false;
        }

        int reasonLength = BinaryPrimitives.ReadUInt16BigEndian(source[1..]);
        if (reasonLength > MaxReasonBytes || source.Length - 3 < reasonLength || !Utf8.IsValid(source.Slice(3, reasonLength)))
        {
            return false;
        }

        int offset = 3 + reasonLength;
        if (!TryReadBlob(source, ref offset, out ReadOnlySpan<byte> certificate)
            || !TryReadBlob(source, ref offset, out ReadOnlySpan<byte> snapshot)
            || offset != source.Length)
        {
            return false;
        }

        response = new JoinResponse((JoinStatus)source[0], Encoding.UTF8.GetString(source.Slice(3, reasonLength)), certificate, snapshot);
        return true;
    }

    private static int WriteBlob(Span<byte> destination, int offset, byte[] blob)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination[offset..], (uint)blob.Length);
        blob.CopyTo(destination[(offset + 4)..]);
        return offset + 4 + blob.Length;
    }

    private static bool TryReadBlob(ReadOnlySpan<byte> source, ref int offset, out ReadOnlySpan<byte> blob)
    {
        blob = default;
        if (source.Length - offset < 4)
        {
            return false;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(source[offset..]);
        if (length > (uint)(source.Length - offset - 4))
        {
            return false;
        }

        blob = source.Slice(offset + 4, (int)length);
        offset += 4 + (int)length;
        return true;
    }
}
