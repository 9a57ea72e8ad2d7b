using System.Buffers.Binary;
using MeshAgent.Core.Trust;

namespace MeshAgent.Core.Relay;

// The four frames of the relay handshake (layouts in RelayProtocol). Each TryRead checks the whole
// header (magic, version, type) and the exact length, so it is safe on any input and never throws;
// each Write returns the frame length and throws only when the destination is too small (a caller bug).

/// <summary>ClientHello: <c>header ‖ client key (32) ‖ padding (44)</c> = 80 bytes. The padding (written as zeros, not checked) makes a Hello longer than the Challenge it triggers.</summary>
public readonly struct ClientHelloFrame(NodePublicKey clientKey)
{
    public const int Length = 80;
    private const int KeyOffset = RelayProtocol.HeaderLength;

    public NodePublicKey ClientKey { get; } = clientKey;

    public static bool TryRead(ReadOnlySpan<byte> frame, out ClientHelloFrame hello)
    {
        hello = default;
        if (frame.Length != Length || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.ClientHello)
        {
            return false;
        }

        hello = new ClientHelloFrame(new NodePublicKey(frame.Slice(KeyOffset, NodePublicKey.Length)));
        return true;
    }

    public int Write(Span<byte> destination)
    {
        Span<byte> frame = destination[..Length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.ClientHello);
        ClientKey.AsSpan().CopyTo(frame[KeyOffset..]);
        frame[(KeyOffset + NodePublicKey.Length)..].Clear();
        return Length;
    }
}

/// <summary>Challenge: <c>header ‖ relay key (32) ‖ nonce (32) ‖ relay time (int64, Unix milliseconds)</c> = 76 bytes.</summary>
public readonly struct ChallengeFrame(NodePublicKey relayKey, RelayNonce nonce, long relayTimeMilliseconds)
{
    public const int Length = 76;
    private const int RelayKeyOffset = RelayProtocol.HeaderLength;
    private const int NonceOffset = RelayKeyOffset + NodePublicKey.Length;
    private const int TimeOffset = NonceOffset + RelayNonce.Length;

    /// <summary>The relay's Ed25519 key; the client signs it into its Auth proof.</summary>
    public NodePublicKey RelayKey { get; } = relayKey;

    public RelayNonce Nonce { get; } = nonce;

    /// <summary>The relay's wall clock when it sent the challenge, for the client's diagnostics (certificate validity is judged by this clock).</summary>
    public long RelayTimeMilliseconds { get; } = relayTimeMilliseconds;

    public static bool TryRead(ReadOnlySpan<byte> frame, out ChallengeFrame challenge)
    {
        challenge = default;
        if (frame.Length != Length || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.Challenge)
        {
            return false;
        }

        challenge = new ChallengeFrame(
            new NodePublicKey(frame.Slice(RelayKeyOffset, NodePublicKey.Length)),
            new RelayNonce(frame.Slice(NonceOffset, RelayNonce.Length)),
            BinaryPrimitives.ReadInt64BigEndian(frame[TimeOffset..]));
        return true;
    }

    public int Write(Span<byte> destination)
    {
        Span<byte> frame = destination[..Length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.Challenge);
        RelayKey.AsSpan().CopyTo(frame[RelayKeyOffset..]);
        Nonce.AsSpan().CopyTo(frame[NonceOffset..]);
        BinaryPrimitives.WriteInt64BigEndian(frame[TimeOffset..], RelayTimeMilliseconds);
        return Length;
    }
}

/// <summary>
/// Auth: <c>header ‖ client key (32) ‖ nonce (32) ‖ signature (64) ‖ cert length (uint16) ‖ certificate</c>.
/// The certificate is opaque here (the relay decodes it with <see cref="MembershipCertificate.TryDecode"/>); it is
/// at least one byte and the frame ends with it.
/// </summary>
public readonly ref struct AuthFrame
{
    public const int SignatureLength = 64;
    public const int FixedLength = CertificateOffset;
    private const int ClientKeyOffset = RelayProtocol.HeaderLength;
    private const int NonceOffset = ClientKeyOffset + NodePublicKey.Length;
    private const int SignatureOffset = NonceOffset + RelayNonce.Length;
    private const int CertificateLengthOffset = SignatureOffset + SignatureLength;
    private const int CertificateOffset = CertificateLengthOffset + 2;

    /// <summary>The longest certificate an Auth frame can carry (the frame must fit <see cref="RelayProtocol.MaxFrameLength"/>).</summary>
    public const int MaxCertificateLength = RelayProtocol.MaxFrameLength - FixedLength;

    public AuthFrame(NodePublicKey clientKey, RelayNonce nonce, ReadOnlySpan<byte> signature, ReadOnlySpan<byte> certificate)
    {
        ClientKey = clientKey;
        Nonce = nonce;
        Signature = signature;
        Certificate = certificate;
    }

    public NodePublicKey ClientKey { get; }

    public RelayNonce Nonce { get; }

    /// <summary>Borrowed from the frame it was read from.</summary>
    public ReadOnlySpan<byte> Signature { get; }

    /// <summary>The encoded certificate. Borrowed from the frame it was read from.</summary>
    public ReadOnlySpan<byte> Certificate { get; }

    /// <summary>Length of an Auth frame carrying <paramref name="certificateLength"/> bytes of certificate.</summary>
    public static int LengthFor(int certificateLength) => FixedLength + certificateLength;

    public static bool TryRead(ReadOnlySpan<byte> frame, out AuthFrame auth)
    {
        auth = default;
        if (frame.Length <= FixedLength || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.Auth)
        {
            return false;
        }

        int certificateLength = BinaryPrimitives.ReadUInt16BigEndian(frame[CertificateLengthOffset..]);
        if (certificateLength == 0 || frame.Length != FixedLength + certificateLength)
        {
            return false;
        }

        auth = new AuthFrame(
            new NodePublicKey(frame.Slice(ClientKeyOffset, NodePublicKey.Length)),
            new RelayNonce(frame.Slice(NonceOffset, RelayNonce.Length)),
            frame.Slice(SignatureOffset, SignatureLength),
            frame.Slice(CertificateOffset, certificateLength));
        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> for a signature that is not 64 bytes or a certificate that is empty or too long.</summary>
    public int Write(Span<byte> destination)
    {
        if (Signature.Length != SignatureLength)
        {
            throw new ArgumentException($"an Auth signature is {SignatureLength} bytes, got {Signature.Length}", nameof(destination));
        }

        if (Certificate.Length is 0 or > MaxCertificateLength)
        {
            throw new ArgumentException($"an Auth certificate is 1..{MaxCertificateLength} bytes, got {Certificate.Length}", nameof(destination));
        }

        int length = LengthFor(Certificate.Length);
        Span<byte> frame = destination[..length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.Auth);
        ClientKey.AsSpan().CopyTo(frame[ClientKeyOffset..]);
        Nonce.AsSpan().CopyTo(frame[NonceOffset..]);
        Signature.CopyTo(frame[SignatureOffset..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[CertificateLengthOffset..], (ushort)Certificate.Length);
        Certificate.CopyTo(frame[CertificateOffset..]);
        return length;
    }
}

/// <summary>
/// Welcome: <c>header ‖ nonce (32) ‖ session token (8) ‖ keepalive interval (uint16 s) ‖ idle timeout (uint16 s)</c> = 48 bytes.
/// The nonce echoes the Auth it answers, so only someone who saw the Challenge can forge a Welcome. Token
/// and both intervals are non-zero.
/// </summary>
public readonly struct WelcomeFrame(RelayNonce nonce, ulong token, ushort keepaliveSeconds, ushort idleTimeoutSeconds)
{
    public const int Length = 48;
    private const int NonceOffset = RelayProtocol.HeaderLength;
    private const int TokenOffset = NonceOffset + RelayNonce.Length;
    private const int KeepaliveOffset = TokenOffset + RelayProtocol.TokenLength;
    private const int IdleOffset = KeepaliveOffset + 2;

    public RelayNonce Nonce { get; } = nonce;

    public ulong Token { get; } = token;

    /// <summary>How often the client should send a Keepalive when it sends nothing else.</summary>
    public ushort KeepaliveSeconds { get; } = keepaliveSeconds;

    /// <summary>The relay drops a session that sent nothing for this long.</summary>
    public ushort IdleTimeoutSeconds { get; } = idleTimeoutSeconds;

    public static bool TryRead(ReadOnlySpan<byte> frame, out WelcomeFrame welcome)
    {
        welcome = default;
        if (frame.Length != Length || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.Welcome)
        {
            return false;
        }

        ulong token = RelayProtocol.ReadToken(frame[TokenOffset..]);
        ushort keepalive = BinaryPrimitives.ReadUInt16BigEndian(frame[KeepaliveOffset..]);
        ushort idle = BinaryPrimitives.ReadUInt16BigEndian(frame[IdleOffset..]);
        if (token == 0 || keepalive == 0 || idle == 0)
        {
            return false;
        }

        welcome = new WelcomeFrame(new RelayNonce(frame.Slice(NonceOffset, RelayNonce.Length)), token, keepalive, idle);
        return true;
    }

    public int Write(Span<byte> destination)
    {
        Span<byte> frame = destination[..Length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.Welcome);
        Nonce.AsSpan().CopyTo(frame[NonceOffset..]);
        RelayProtocol.WriteToken(frame[TokenOffset..], Token);
        BinaryPrimitives.WriteUInt16BigEndian(frame[KeepaliveOffset..], KeepaliveSeconds);
        BinaryPrimitives.WriteUInt16BigEndian(frame[IdleOffset..], IdleTimeoutSeconds);
        return Length;
    }
}

/// <summary>Refused: <c>header ‖ nonce (32) ‖ reason (1)</c> = 37 bytes. The nonce echoes the refused Auth.</summary>
public readonly struct RefusedFrame(RelayNonce nonce, RelayRefusal reason)
{
    public const int Length = 37;
    private const int NonceOffset = RelayProtocol.HeaderLength;
    private const int ReasonOffset = NonceOffset + RelayNonce.Length;

    public RelayNonce Nonce { get; } = nonce;

    public RelayRefusal Reason { get; } = reason;

    public static bool TryRead(ReadOnlySpan<byte> frame, out RefusedFrame refused)
    {
        refused = default;
        if (frame.Length != Length || !RelayProtocol.TryReadHeader(frame, out RelayFrameType type) || type != RelayFrameType.Refused
            || !RelayRefusalExtensions.IsDefined(frame[ReasonOffset]))
        {
            return false;
        }

        refused = new RefusedFrame(new RelayNonce(frame.Slice(NonceOffset, RelayNonce.Length)), (RelayRefusal)frame[ReasonOffset]);
        return true;
    }

    public int Write(Span<byte> destination)
    {
        Span<byte> frame = destination[..Length];
        RelayProtocol.WriteHeader(frame, RelayFrameType.Refused);
        Nonce.AsSpan().CopyTo(frame[NonceOffset..]);
        frame[ReasonOffset] = (byte)Reason;
        return Length;
    }
}
