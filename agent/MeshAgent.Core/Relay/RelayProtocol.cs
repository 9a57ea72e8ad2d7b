using System.Buffers.Binary;
using MeshAgent.Core.Trust;

namespace MeshAgent.Core.Relay;

/// <summary>
/// The meshrelay wire protocol (DESIGN §1, §5): members reach each other through a relay that forwards
/// opaque payloads (WireGuard messages, already end-to-end encrypted) addressed by node public key.
/// <para>Every frame starts with the same 4-byte header; integers are big-endian (network order):</para>
/// <code>
///  0        1        2        3        4
/// +--------+--------+--------+--------+-------------------------------------------------
/// |  'm'   |  'r'   | ver=1  |  type  |  body ...
/// +--------+--------+--------+--------+-------------------------------------------------
///
///  type  frame            direction   body                                                   length
///  1     ClientHello      c → r       client key (32) ‖ padding (44, zero; ignored)           = 80
///  2     Challenge        r → c       relay key (32) ‖ nonce (32) ‖ relay time (int64 ms)     = 76
///  3     Auth             c → r       client key (32) ‖ nonce (32) ‖ signature (64)           ≥ 134
///                                     ‖ cert length (uint16) ‖ certificate (cert length)
///  4     Welcome          r → c       nonce (32) ‖ session token (8) ‖ keepalive s (uint16)    = 48
///                                     ‖ idle timeout s (uint16)
///  5     Refused          r → c       nonce (32) ‖ reason (1)                                  = 37
///  6     Send             c → r       session token (8) ‖ destination key (32) ‖ payload       ≥ 44
///  7     Recv             r → c       source key (32) ‖ payload                                ≥ 36
///  8     Keepalive        c → r       session token (8)                                        = 12
///  9     KeepaliveAck     r → c       session token (8)                                        = 12
///  10    UnknownPeer      r → c       session token (8) ‖ destination key (32)                 = 44
///  11    SessionUnknown   r → c       session token (8)                                        = 12
///  12    RevocationPush   c → r       session token (8) ‖ revocation (rest of the frame)       ≥ 13
///  13    JoinSend         j → r       network root key (32) ‖ inviter key (32) ‖ join message     76..580
///  14    JoinRecv         r → c       join channel (8) ‖ join message                             ≥ 20
///  15    JoinReply        c → r       session token (8) ‖ join channel (8) ‖ join message         ≥ 28
///  16    JoinDeliver      r → j       join message                                                ≥ 12
///  17    JoinUnreachable  r → j       network root key (32) ‖ inviter key (32)                    = 68
/// </code>
/// <para>
/// <b>Joining through the relay</b> (types 13–17; j = a joiner, which has no certificate yet, c = an authenticated
/// member). A joiner whose inviter cannot be reached directly (NAT, or UDP blocked) sends its join messages
/// (<see cref="Invitations.JoinMessages"/>, already end-to-end encrypted to the inviter's static key) to a relay
/// named in its token, over UDP or the TCP stream, without authenticating: JoinSend names the network (root key)
/// and the inviter (node key), both from the token. The relay opens a <i>join channel</i> for the joiner's link (its
/// UDP source endpoint or TCP connection; random 8-byte id) and forwards the message as JoinRecv to the inviter's
/// session — only when the inviter is authenticated to this relay in exactly that network; otherwise the joiner
/// gets JoinUnreachable (shorter than any JoinSend: no amplification). The inviter answers with JoinReply on the
/// channel id, and the relay delivers the message to the joiner's link as JoinDeliver. It is not an open relay:
/// a join channel carries join messages only (the relay checks the 'm','j' header and the direction: Hello and
/// Request from the joiner, Challenge, Refusal and Response from the inviter), joiner messages are at most
/// <see cref="MaxJoinerMessageLength"/> bytes, channels are rate limited per source address and per channel, capped
/// in number, lifetime and reply volume, and only the one member the joiner names — which must be in the named
/// network — receives anything. The relay learns no secret: the token id travels encrypted inside the Hello.
/// </para>
/// <para>
/// Demultiplexing (one UDP port carries everything, DESIGN §2): 0x6D 'm' cannot start a WireGuard
/// message (types 1–4 with three zero bytes) or a STUN message (top two bits 00), and the second byte
/// 'r' tells relay frames from join messages ('m','j', <see cref="Invitations.JoinMessages"/>).
/// </para>
/// <para>
/// <b>Authentication.</b> ClientHello → Challenge → Auth → Welcome | Refused. The signature in Auth is
/// Ed25519 by the client's node identity over <c>"meshagent relay auth v1" ‖ 0x00 ‖ relay key ‖ nonce ‖
/// client key</c> (<see cref="AuthContext"/>, domain-separated as every signature of the trust records,
/// see <see cref="SigningContexts"/>), so a proof made for one relay and challenge is worth nothing
/// elsewhere. The certificate is the client's encoded <see cref="MembershipCertificate"/>; the relay
/// checks it against the network root keys it accepts, with expiry and revocations. The nonce is opaque
/// to the client; the relay may make it stateless (meshrelay does: a timestamp, random bytes and a MAC
/// binding it to the client key and the source endpoint, so the Auth is valid only from where the
/// Challenge was received — proof of return routability — and only for a few seconds).
/// ClientHello is padded to be longer than the Challenge, so a spoofed Hello cannot be amplified.
/// </para>
/// <para>
/// <b>Sessions.</b> Welcome carries an 8-byte random session token that the client puts in every later
/// frame: the relay authenticates data frames by "token known and arriving from the endpoint (or TCP
/// connection) it was issued to", with no per-packet cryptography. A frame with an unknown token, or a
/// known token from another endpoint, is answered with SessionUnknown (rate limited); a client that
/// receives SessionUnknown for its current token authenticates again. That is also how NAT rebinding
/// is handled: the new source endpoint gets SessionUnknown and re-authenticates (one round trip and
/// two signature checks; rebinding happens every few minutes at worst, so a signed rebind frame would
/// save little and add another signed message to get right). The session lives until it is idle for the
/// announced idle timeout (no frame from the client), its certificate expires, or its node is revoked.
/// Recv frames carry no token: a client accepts them only from the relay it authenticated with, and
/// their payloads are WireGuard messages authenticated end to end.
/// </para>
/// <para>
/// <b>TCP stream relay</b> (for networks that block UDP): the same frames, each preceded by its length
/// as a uint16 (big-endian), on one stream per client. A relay bridges TCP and UDP clients.
/// </para>
/// <para>Every reader here returns false on malformed input and never throws (STYLE rule 7).</para>
/// </summary>
public static class RelayProtocol
{
    public const byte Magic0 = (byte)'m';
    public const byte Magic1 = (byte)'r';
    public const byte Version = 1;
    public const int HeaderLength = 4;

    /// <summary>Session tokens, 8 bytes; 0 is never issued (a client uses it for "no session").</summary>
    public const int TokenLength = 8;

    /// <summary>The longest frame: what a TCP length prefix can describe. UDP frames are smaller still (the datagram limit).</summary>
    public const int MaxFrameLength = ushort.MaxValue;

    /// <summary>Length prefix of a frame on the TCP stream relay.</summary>
    public const int TcpLengthPrefix = 2;

    /// <summary>Bytes a Send frame adds before the payload: header, token, destination key.</summary>
    public const int SendOverhead = HeaderLength + TokenLength + NodePublicKey.Length;

    /// <summary>Bytes a Recv frame adds before the payload: header, source key.</summary>
    public const int RecvOverhead = HeaderLength + NodePublicKey.Length;

    /// <summary>Largest payload a Send frame can carry (TCP bound; over UDP the path MTU is the practical one).</summary>
    public const int MaxPayloadLength = MaxFrameLength - SendOverhead;

    /// <summary>Join channel ids, 8 bytes, chosen at random by the relay; 0 is never issued.</summary>
    public const int JoinChannelLength = 8;

    /// <summary>
    /// Largest join message a joiner may send through a relay: a Hello is 64 bytes and a Request at most 192 (header,
    /// a 168-byte JoinRequest with a 63-byte name, the AEAD tag); the bound leaves room for a later version.
    /// </summary>
    public const int MaxJoinerMessageLength = 512;

    /// <summary>Signing context of the Auth proof (see the class remarks for the signed bytes).</summary>
    public const string AuthContext = "meshagent relay auth v1";

    /// <summary>Length of the body signed in Auth: relay key ‖ nonce ‖ client key.</summary>
    public const int AuthSignedLength = NodePublicKey.Length + RelayNonce.Length + NodePublicKey.Length;

    /// <summary>
    /// True when <paramref name="datagram"/> starts with the relay magic ('m','r'), whatever its version or
    /// type: the "looks like" test that routes a datagram to the relay code (which then counts a frame it
    /// cannot read as malformed instead of handing it to another protocol).
    /// </summary>
    public static bool LooksLikeRelayFrame(ReadOnlySpan<byte> datagram) =>
        datagram.Length >= 2 && datagram[0] == Magic0 && datagram[1] == Magic1;

    /// <summary>Reads the header of a frame of this version and a known type. Never throws.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> frame, out RelayFrameType type)
    {
        type = default;
        if (frame.Length < HeaderLength || frame[0] != Magic0 || frame[1] != Magic1 || frame[2] != Version
            || frame[3] is < (byte)RelayFrameType.ClientHello or > (byte)RelayFrameType.JoinUnreachable)
        {
            return false;
        }

        type = (RelayFrameType)frame[3];
        return true;
    }

    /// <summary>Writes the 4-byte header. <paramref name="destination"/> must hold at least <see cref="HeaderLength"/> bytes.</summary>
    public static void WriteHeader(Span<byte> destination, RelayFrameType type)
    {
        destination[0] = Magic0;
        destination[1] = Magic1;
        destination[2] = Version;
        destination[3] = (byte)type;
    }

    /// <summary>Writes the body the Auth signature covers: relay key ‖ nonce ‖ client key (<see cref="AuthSignedLength"/> bytes).</summary>
    public static void WriteAuthSignedBody(NodePublicKey relayKey, in RelayNonce nonce, NodePublicKey clientKey, Span<byte> destination)
    {
        relayKey.AsSpan().CopyTo(destination);
        nonce.AsSpan().CopyTo(destination[NodePublicKey.Length..]);
        clientKey.AsSpan().CopyTo(destination[(NodePublicKey.Length + RelayNonce.Length)..]);
    }

    /// <summary>Signs the Auth proof with the client's identity; 64-byte signature.</summary>
    public static void SignAuth(NodeIdentity client, NodePublicKey relayKey, in RelayNonce nonce, Span<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(client);
        Span<byte> body = stackalloc byte[AuthSignedLength];
        WriteAuthSignedBody(relayKey, nonce, client.PublicKey, body);
        client.Sign(AuthContext, body, signature);
    }

    /// <summary>True when <paramref name="signature"/> is <paramref name="clientKey"/>'s Auth proof for this relay and nonce. Never throws on a bad signature.</summary>
    public static bool VerifyAuth(NodePublicKey clientKey, NodePublicKey relayKey, in RelayNonce nonce, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != AuthFrame.SignatureLength)
        {
            return false;
        }

        Span<byte> body = stackalloc byte[AuthSignedLength];
        WriteAuthSignedBody(relayKey, nonce, clientKey, body);
        return clientKey.Verify(AuthContext, body, signature);
    }

    internal static ulong ReadToken(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt64BigEndian(source);

    internal static void WriteToken(Span<byte> destination, ulong token) => BinaryPrimitives.WriteUInt64BigEndian(destination, token);
}
