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
    public const int TimestampSize = Tai64N.Size;

    // Noise message 1 spans ephemeral..encrypted timestamp; message 2 ephemeral..encrypted nothing.
    private const int InitiationNoiseLength = HandshakeInitiation.Mac1Offset - HandshakeInitiation.EphemeralOffset;
    private const int ResponseNoiseLength = HandshakeResponse.Mac1Offset - HandshakeResponse.EphemeralOffset;

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
        var state = new HandshakeState(HandshakePattern.IKpsk2, WireGuardConstants.Construction, initiator: true,
            WireGuardConstants.Identifier, localStaticPrivateKey, remoteStaticPublicKey, presharedKey, ephemeralKeys);
        var writer = HandshakeInitiationWriter.Create(message);
        writer.SenderIndex = senderIndex;
        state.WriteMessage(timestamp, writer.Packet.Slice(HandshakeInitiation.EphemeralOffset, InitiationNoiseLength));
        return state;
    }

    /// <summary>
    /// Responder: reads an initiation (mac1 already checked by the caller). On success the
    /// state knows the initiator's static key; the caller finds the peer, checks the timestamp
    /// and calls <see cref="CreateResponse"/>. Never throws on network input.
    /// </summary>
    public static bool TryConsumeInitiation(
        ReadOnlySpan<byte> localStaticPrivateKey,
        ReadOnlySpan<byte> packet,
        Span<byte> timestamp,
        out uint senderIndex,
        out HandshakeState? state)
    {
        senderIndex = 0;
        state = null;
        if (!HandshakeInitiation.TryRead(packet, out HandshakeInitiation message))
        {
            return false;
        }

        var candidate = new HandshakeState(HandshakePattern.IKpsk2, WireGuardConstants.Construction, initiator: false,
            WireGuardConstants.Identifier, localStaticPrivateKey, ReadOnlySpan<byte>.Empty, ReadOnlySpan<byte>.Empty);
        if (!candidate.TryReadMessage(message.Packet.Slice(HandshakeInitiation.EphemeralOffset, InitiationNoiseLength), timestamp, out int length)
            || length != TimestampSize)
        {
            candidate.Dispose();
            return false;
        }

        senderIndex = message.SenderIndex;
        state = candidate;
        return true;
    }

    /// <summary>Responder: writes the response (macs zeroed); the handshake is then complete.</summary>
    public static void CreateResponse(HandshakeState state, ReadOnlySpan<byte> presharedKey, uint senderIndex, uint receiverIndex, Span<byte> message)
    {
        state.SetPreSharedKey(presharedKey);
        var writer = HandshakeResponseWriter.Create(message);
        writer.SenderIndex = senderIndex;
        writer.ReceiverIndex = receiverIndex;
        state.WriteMessage(ReadOnlySpan<byte>.Empty, writer.Packet.Slice(HandshakeResponse.EphemeralOffset, ResponseNoiseLength));
    }

    /// <summary>Initiator: reads the response; true when the handshake completed.</summary>
    public static bool TryConsumeResponse(HandshakeState state, ReadOnlySpan<byte> packet)
    {
        return HandshakeResponse.TryRead(packet, out HandshakeResponse message)
            && state.TryReadMessage(message.Packet.Slice(HandshakeResponse.EphemeralOffset, ResponseNoiseLength), Span<byte>.Empty, out int length)
            && length == 0;
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
