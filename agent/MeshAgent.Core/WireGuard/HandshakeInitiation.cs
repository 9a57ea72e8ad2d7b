using System.Buffers.Binary;

namespace MeshAgent.Core.WireGuard;

/// <summary>
/// Read-only view of a handshake initiation (message type 1), whitepaper §5.4.2;
/// wireguard-go noise-protocol.go <c>MessageInitiation</c>.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +---------------+-----------------------------------------------+
/// |  type = 1     |              reserved (3 zero bytes)          |   0
/// +---------------+-----------------------------------------------+
/// |                  sender index (uint32 LE)                     |   4
/// +---------------------------------------------------------------+
/// |             unencrypted ephemeral (32, X25519 public)         |   8
/// +---------------------------------------------------------------+
/// |     encrypted static (32 + 16 tag, ChaCha20-Poly1305)         |  40
/// +---------------------------------------------------------------+
/// |     encrypted timestamp (12 TAI64N + 16 tag)                  |  88
/// +---------------------------------------------------------------+
/// |     mac1 (16) = MAC(HASH("mac1----" ‖ Sr), bytes 0..115)      | 116
/// +---------------------------------------------------------------+
/// |     mac2 (16) = MAC(cookie, bytes 0..131) or zeros            | 132
/// +---------------------------------------------------------------+  148
/// </code>
/// Borrowed: the view is valid only while the packet buffer it was read from is.
/// </summary>
public readonly ref struct HandshakeInitiation
{
    public const int Size = 148;
    public const int SenderIndexOffset = 4;
    public const int EphemeralOffset = 8;
    public const int EphemeralSize = 32;
    public const int EncryptedStaticOffset = 40;
    public const int EncryptedStaticSize = 32 + 16;
    public const int EncryptedTimestampOffset = 88;
    public const int EncryptedTimestampSize = Tai64N.Size + 16;
    public const int Mac1Offset = 116;
    public const int Mac2Offset = 132;
    public const int MacSize = 16;

    private readonly ReadOnlySpan<byte> _packet;

    private HandshakeInitiation(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>
    /// Accepts exactly <see cref="Size"/> bytes starting with the type-1 field; anything else gives
    /// false. Never throws. No field is authenticated yet: check mac1 before trusting any of them.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out HandshakeInitiation message)
    {
        if (packet.Length != Size || !WireGuardMessage.HasTypeField(packet, MessageType.HandshakeInitiation))
        {
            message = default;
            return false;
        }

        message = new HandshakeInitiation(packet);
        return true;
    }

    /// <summary>The whole message (148 bytes).</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    public uint SenderIndex => BinaryPrimitives.ReadUInt32LittleEndian(_packet[SenderIndexOffset..]);

    public ReadOnlySpan<byte> Ephemeral => _packet.Slice(EphemeralOffset, EphemeralSize);

    public ReadOnlySpan<byte> EncryptedStatic => _packet.Slice(EncryptedStaticOffset, EncryptedStaticSize);

    public ReadOnlySpan<byte> EncryptedTimestamp => _packet.Slice(EncryptedTimestampOffset, EncryptedTimestampSize);

    public ReadOnlySpan<byte> Mac1 => _packet.Slice(Mac1Offset, MacSize);

    public ReadOnlySpan<byte> Mac2 => _packet.Slice(Mac2Offset, MacSize);

    /// <summary>The bytes mac1 authenticates: everything before it.</summary>
    public ReadOnlySpan<byte> Mac1Input => _packet[..Mac1Offset];

    /// <summary>The bytes mac2 authenticates: everything before it, mac1 included.</summary>
    public ReadOnlySpan<byte> Mac2Input => _packet[..Mac2Offset];
}

/// <summary>
/// Writable view over a handshake initiation being built in place: the handshake code writes
/// the ephemeral key and ciphertexts straight into <see cref="Ephemeral"/>,
/// <see cref="EncryptedStatic"/> and <see cref="EncryptedTimestamp"/>, then computes mac1 over
/// <see cref="Mac1Input"/> into <see cref="Mac1"/>, then mac2. Offsets: <see cref="HandshakeInitiation"/>.
/// Borrowed: valid while the destination buffer is.
/// </summary>
public readonly ref struct HandshakeInitiationWriter
{
    private readonly Span<byte> _packet;

    private HandshakeInitiationWriter(Span<byte> packet) => _packet = packet;

    /// <summary>
    /// Takes the first <see cref="HandshakeInitiation.Size"/> bytes of <paramref name="destination"/>,
    /// writes the type field and zeroes every other byte (so an unset mac2 is the all-zero "no
    /// cookie" value the protocol expects).
    /// </summary>
    /// <exception cref="ArgumentException">The destination is shorter than 148 bytes (a caller bug).</exception>
    public static HandshakeInitiationWriter Create(Span<byte> destination)
    {
        if (destination.Length < HandshakeInitiation.Size)
        {
            throw new ArgumentException(
                $"A handshake initiation needs {HandshakeInitiation.Size} bytes but the destination has {destination.Length}; pass a larger buffer.",
                nameof(destination));
        }

        Span<byte> packet = destination[..HandshakeInitiation.Size];
        packet.Clear();
        WireGuardMessage.WriteTypeField(packet, MessageType.HandshakeInitiation);
        return new HandshakeInitiationWriter(packet);
    }

    /// <summary>The whole message (148 bytes), ready to send once the macs are written.</summary>
    public Span<byte> Packet => _packet;

    public uint SenderIndex
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_packet[HandshakeInitiation.SenderIndexOffset..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_packet[HandshakeInitiation.SenderIndexOffset..], value);
    }

    public Span<byte> Ephemeral => _packet.Slice(HandshakeInitiation.EphemeralOffset, HandshakeInitiation.EphemeralSize);

    public Span<byte> EncryptedStatic => _packet.Slice(HandshakeInitiation.EncryptedStaticOffset, HandshakeInitiation.EncryptedStaticSize);

    public Span<byte> EncryptedTimestamp => _packet.Slice(HandshakeInitiation.EncryptedTimestampOffset, HandshakeInitiation.EncryptedTimestampSize);

    public Span<byte> Mac1 => _packet.Slice(HandshakeInitiation.Mac1Offset, HandshakeInitiation.MacSize);

    public Span<byte> Mac2 => _packet.Slice(HandshakeInitiation.Mac2Offset, HandshakeInitiation.MacSize);

    public ReadOnlySpan<byte> Mac1Input => _packet[..HandshakeInitiation.Mac1Offset];

    public ReadOnlySpan<byte> Mac2Input => _packet[..HandshakeInitiation.Mac2Offset];
}
