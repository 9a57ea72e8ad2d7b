using System.Buffers.Binary;
using MeshAgent.Core.Noise;

namespace MeshAgent.Core.WireGuard;

/// <summary>
/// WireGuard's handshake as Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s with the prologue
/// "WireGuard v1 zx2c4 Jason@zx2c4.com" (whitepaper §5.4; protocol notes §4.2): the Noise
/// messages sit inside the WireGuard frames at fixed offsets.
///
///   initiation (148): type|0|0|0 · sender · [ e(32) · s(32+16) · TAI64N(12+16) ] · mac1 · mac2
///                                          ^ offset 8, Noise message 1 (108 bytes)
///   response    (92): type|0|0|0 · sender · receiver · [ e(32) · empty(0+16) ] · mac1 · mac2
///                                                     ^ offset 12, Noise message 2 (48 bytes)
/// mac1/mac2 are not part of Noise; <see cref="CookieGenerator"/> fills them.
/// </summary>
public static class WireGuardNoise
{
    public const int InitiationSize = 148;
    public const int ResponseSize = 92;
    public const int TimestampSize = 12;
    private const int InitiationNoiseOffset = 8;
    private const int InitiationNoiseLength = 108;
    private const int ResponseNoiseOffset = 12;
    private const int ResponseNoiseLength = 48;

    public static ReadOnlySpan<byte> Construction => "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8;

    public static ReadOnlySpan<byte> Identifier => "WireGuard v1 zx2c4 Jason@zx2c4.com"u8;

    /// <summary>
    /// Initiator: starts a handshake and writes the initiation (macs zeroed) into message.
    /// The returned state is kept until the response arrives.
    /// </summary>
    public static HandshakeState CreateInitiation(
        ReadOnlySpan<byte> localStaticPrivateKey,
        ReadOnlySpan<byte> remoteStaticPublicKey,
        ReadOnlySpan<byte> presharedKey,
        uint senderIndex,
        ReadOnlySpan<byte> timestamp,
        Span<byte> message,
        IEphemeralKeySource? ephemeralKeys = null)
    {
        var state = new HandshakeState(HandshakePattern.IKpsk2, Construction, initiator: true, Identifier,
            localStaticPrivateKey, remoteStaticPublicKey, presharedKey, ephemeralKeys);
        message = message[..InitiationSize];
        message.Clear();
        message[0] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(message[4..], senderIndex);
        state.WriteMessage(timestamp, message.Slice(InitiationNoiseOffset, InitiationNoiseLength));
        return state;
    }

    /// <summary>
    /// Responder: reads an initiation (mac1 already checked by the caller). On success the
    /// state knows the initiator's static key; the caller finds the peer, checks the timestamp
    /// and calls <see cref="CreateResponse"/>. Never throws on network input.
    /// </summary>
    public static bool TryConsumeInitiation(
        ReadOnlySpan<byte> localStaticPrivateKey,
        ReadOnlySpan<byte> message,
        Span<byte> timestamp,
        out uint senderIndex,
        out HandshakeState? state)
    {
        senderIndex = 0;
        state = null;
        if (message.Length != InitiationSize || message[0] != 1 || message[1] != 0 || message[2] != 0 || message[3] != 0)
        {
            return false;
        }

        var candidate = new HandshakeState(HandshakePattern.IKpsk2, Construction, initiator: false, Identifier,
            localStaticPrivateKey, ReadOnlySpan<byte>.Empty, ReadOnlySpan<byte>.Empty);
        if (!candidate.TryReadMessage(message.Slice(InitiationNoiseOffset, InitiationNoiseLength), timestamp, out int length)
            || length != TimestampSize)
        {
            candidate.Dispose();
            return false;
        }

        senderIndex = BinaryPrimitives.ReadUInt32LittleEndian(message[4..]);
        state = candidate;
        return true;
    }

    /// <summary>Responder: writes the response (macs zeroed); the handshake is then complete.</summary>
    public static void CreateResponse(HandshakeState state, ReadOnlySpan<byte> presharedKey, uint senderIndex, uint receiverIndex, Span<byte> message)
    {
        state.SetPreSharedKey(presharedKey);
        message = message[..ResponseSize];
        message.Clear();
        message[0] = 2;
        BinaryPrimitives.WriteUInt32LittleEndian(message[4..], senderIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(message[8..], receiverIndex);
        state.WriteMessage(ReadOnlySpan<byte>.Empty, message.Slice(ResponseNoiseOffset, ResponseNoiseLength));
    }

    /// <summary>Initiator: reads the response; true when the handshake completed.</summary>
    public static bool TryConsumeResponse(HandshakeState state, ReadOnlySpan<byte> message)
    {
        if (message.Length != ResponseSize || message[0] != 2 || message[1] != 0 || message[2] != 0 || message[3] != 0)
        {
            return false;
        }

        return state.TryReadMessage(message.Slice(ResponseNoiseOffset, ResponseNoiseLength), Span<byte>.Empty, out int length) && length == 0;
    }

    /// <summary>
    /// Transport keys after completion (whitepaper §5.4.5): the initiator sends with the first
    /// Split key and receives with the second; the responder the other way round.
    /// </summary>
    public static void DeriveTransportKeys(HandshakeState state, Span<byte> sendKey, Span<byte> receiveKey)
    {
        if (state.IsInitiator)
        {
            state.Split(sendKey, receiveKey);
        }
        else
        {
            state.Split(receiveKey, sendKey);
        }
    }
}
