using System.Buffers.Binary;
using MeshAgent.Core.WireGuard;

namespace MeshAgent.Engine.WireGuard;

/// <summary>
/// The transport keys of one completed handshake (wireguard-go "keypair"): two ciphers, the
/// send counter and the receive replay window, plus the indices that identify it on the wire.
/// Sealing is lock-free (the counter is claimed with an atomic increment); the replay window
/// takes a short lock after decryption, as wireguard-go does.
///
/// Transport message (whitepaper §5.4.6):
///   type=4|0|0|0 · receiver index (LE32) · counter (LE64) · AEAD(padded payload) · tag(16)
/// </summary>
public sealed class Keypair : IDisposable
{
    public const int HeaderSize = TransportHeader.HeaderSize;
    public const int TagSize = TransportHeader.TagSize;

    private readonly TransportCipher _send;
    private readonly TransportCipher _receive;
    private readonly object _replayLock = new();
    private readonly ReplayWindow _replay;
    private long _sendCounter = -1;

    internal Keypair(ReadOnlySpan<byte> sendKey, ReadOnlySpan<byte> receiveKey, bool isInitiator, uint localIndex, uint remoteIndex, long createdTimestamp)
    {
        _send = new TransportCipher(sendKey);
        _receive = new TransportCipher(receiveKey);
        IsInitiator = isInitiator;
        LocalIndex = localIndex;
        RemoteIndex = remoteIndex;
        CreatedTimestamp = createdTimestamp;
        _replay = new ReplayWindow();
    }

    /// <summary>True when we sent the initiation: only the initiator rekeys on age/counter (whitepaper §6.2).</summary>
    public bool IsInitiator { get; }

    /// <summary>Our index: peers put it in the receiver field of packets for us.</summary>
    public uint LocalIndex { get; }

    /// <summary>The peer's index: we put it in the receiver field of packets we send.</summary>
    public uint RemoteIndex { get; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> when the handshake completed.</summary>
    public long CreatedTimestamp { get; }

    /// <summary>Counters handed out so far (the next one to use).</summary>
    public ulong SendCounter => (ulong)(Interlocked.Read(ref _sendCounter) + 1);

    /// <summary>
    /// Claims the next send counter. Returns false when the key must not send any more
    /// (REJECT_AFTER_MESSAGES reached).
    /// </summary>
    public bool TryClaimSendCounter(out ulong counter)
    {
        counter = (ulong)Interlocked.Increment(ref _sendCounter);
        return counter < WireGuardConstants.RejectAfterMessages;
    }

    /// <summary>
    /// Seals in place. borrowed: packet, valid for the call. Layout on entry:
    /// packet[0..16) is headroom for the header, packet[16..16+paddedLength) the plaintext
    /// already padded by the caller, and 16 bytes of tailroom after it for the tag.
    /// Returns the transport message length (32 + paddedLength).
    /// </summary>
    public int Seal(Span<byte> packet, int paddedLength, ulong counter)
    {
        int length = HeaderSize + paddedLength + TagSize;
        Span<byte> message = packet[..length];
        TransportHeader.Write(message, RemoteIndex, counter);
        _send.SealInPlace(counter, message[HeaderSize..]);
        return length;
    }

    /// <summary>
    /// Opens a transport message in place: decrypts, then checks the counter against the
    /// replay window (after authentication, so forged packets cannot move the window).
    /// On success the plaintext is message[16..16+plaintextLength). Never throws.
    /// </summary>
    public bool TryOpen(Span<byte> message, out int plaintextLength, out ulong counter)
    {
        plaintextLength = 0;
        counter = 0;
        if (message.Length < HeaderSize + TagSize)
        {
            return false;
        }

        counter = BinaryPrimitives.ReadUInt64LittleEndian(message[8..]);
        if (counter >= WireGuardConstants.RejectAfterMessages || !_receive.TryOpenInPlace(counter, message[HeaderSize..]))
        {
            return false;
        }

        lock (_replayLock)
        {
            if (!_replay.TryAccept(counter, WireGuardConstants.RejectAfterMessages))
            {
                return false;
            }
        }

        plaintextLength = message.Length - HeaderSize - TagSize;
        return true;
    }

    public void Dispose()
    {
        _send.Dispose();
        _receive.Dispose();
    }
}
