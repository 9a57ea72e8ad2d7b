using System.Buffers.Binary;

namespace MeshAgent.Core.WireGuard;

/// <summary>
/// Read-only view of a handshake response (message type 2), whitepaper §5.4.3;
/// wireguard-go noise-protocol.go <c>MessageResponse</c>.
/// <code>
/// +---------------+-----------------------------------------------+
/// |  type = 2     |              reserved (3 zero bytes)          |   0
/// +---------------+-----------------------------------------------+
/// |                  sender index (uint32 LE)                     |   4
/// +---------------------------------------------------------------+
/// |     receiver index (uint32 LE) = the initiator's sender index |   8
/// +---------------------------------------------------------------+
/// |             unencrypted ephemeral (32, X25519 public)         |  12
/// +---------------------------------------------------------------+
/// |     encrypted nothing (0 + 16 tag)                            |  44
/// +---------------------------------------------------------------+
/// |     mac1 (16) over bytes 0..59                                |  60
/// +---------------------------------------------------------------+
/// |     mac2 (16) over bytes 0..75, or zeros                      |  76
/// +---------------------------------------------------------------+  92
/// </code>
/// Borrowed: the view is valid only while the packet buffer it was read from is.
/// </summary>
public readonly ref struct HandshakeResponse
{
    public const int Size = 92;
    public const int SenderIndexOffset = 4;
    public const int ReceiverIndexOffset = 8;
    public const int EphemeralOffset = 12;
    public const int EphemeralSize = 32;
    public const int EncryptedNothingOffset = 44;
    public const int EncryptedNothingSize = 16;
    public const int Mac1Offset = 60;
    public const int Mac2Offset = 76;
    public const int MacSize = 16;

    private readonly ReadOnlySpan<byte> _packet;

    private HandshakeResponse(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>
    /// Accepts exactly <see cref="Size"/> bytes starting with the type-2 field; anything else gives
    /// false. Never throws. No field is authenticated yet.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out HandshakeResponse message)
    {
        if (packet.Length != Size || !WireGuardMessage.HasTypeField(packet, MessageType.HandshakeResponse))
        {
            message = default;
            return false;
        }

        message = new HandshakeResponse(packet);
        return true;
    }

    /// <summary>The whole message (92 bytes).</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    public uint SenderIndex => BinaryPrimitives.ReadUInt32LittleEndian(_packet[SenderIndexOffset..]);

    public uint ReceiverIndex => BinaryPrimitives.ReadUInt32LittleEndian(_packet[ReceiverIndexOffset..]);

    public ReadOnlySpan<byte> Ephemeral => _packet.Slice(EphemeralOffset, EphemeralSize);

    public ReadOnlySpan<byte> EncryptedNothing => _packet.Slice(EncryptedNothingOffset, EncryptedNothingSize);

    public ReadOnlySpan<byte> Mac1 => _packet.Slice(Mac1Offset, MacSize);

    public ReadOnlySpan<byte> Mac2 => _packet.Slice(Mac2Offset, MacSize);

    /// <summary>The bytes mac1 authenticates: everything before it.</summary>
    public ReadOnlySpan<byte> Mac1Input => _packet[..Mac1Offset];

    /// <summary>The bytes mac2 authenticates: everything before it, mac1 included.</summary>
    public ReadOnlySpan<byte> Mac2Input => _packet[..Mac2Offset];
}

/// <summary>
/// Writable view over a handshake response being built in place (see
/// <see cref="HandshakeInitiationWriter"/> for the order of filling). Offsets: <see cref="HandshakeResponse"/>.
/// Borrowed: valid while the destination buffer is.
/// </summary>
public readonly ref struct HandshakeResponseWriter
{
    private readonly Span<byte> _packet;

    private HandshakeResponseWriter(Span<byte> packet) => _packet = packet;

    /// <summary>
    /// Takes the first <see cref="HandshakeResponse.Size"/> bytes of <paramref name="destination"/>,
    /// writes the type field and zeroes every other byte.
    /// </summary>
    /// <exception cref="ArgumentException">The destination is shorter than 92 bytes (a caller bug).</exception>
    public static HandshakeResponseWriter Create(Span<byte> destination)
    {
        if (destination.Length < HandshakeResponse.Size)
        {
            throw new ArgumentException(
                $"A handshake response needs {HandshakeResponse.Size} bytes but the destination has {destination.Length}; pass a larger buffer.",
                nameof(destination));
        }

        Span<byte> packet = destination[..HandshakeResponse.Size];
        packet.Clear();
        WireGuardMessage.WriteTypeField(packet, MessageType.HandshakeResponse);
        return new HandshakeResponseWriter(packet);
    }

    /// <summary>The whole message (92 bytes).</summary>
    public Span<byte> Packet => _packet;

    public uint SenderIndex
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_packet[HandshakeResponse.SenderIndexOffset..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_packet[HandshakeResponse.SenderIndexOffset..], value);
    }

    public uint ReceiverIndex
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_packet[HandshakeResponse.ReceiverIndexOffset..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_packet[HandshakeResponse.ReceiverIndexOffset..], value);
    }

    public Span<byte> Ephemeral => _packet.Slice(HandshakeResponse.EphemeralOffset, HandshakeResponse.EphemeralSize);

    public Span<byte> EncryptedNothing => _packet.Slice(HandshakeResponse.EncryptedNothingOffset, HandshakeResponse.EncryptedNothingSize);

    public Span<byte> Mac1 => _packet.Slice(HandshakeResponse.Mac1Offset, HandshakeResponse.MacSize);

    public Span<byte> Mac2 => _packet.Slice(HandshakeResponse.Mac2Offset, HandshakeResponse.MacSize);

    public ReadOnlySpan<byte> Mac1Input => _packet[..HandshakeResponse.Mac1Offset];

    public ReadOnlySpan<byte> Mac2Input => _packet[..HandshakeResponse.Mac2Offset];
}
