using System.Buffers.Binary;

namespace MeshAgent.Core.WireGuard;

/// <summary>
/// Read-only view of a transport data message (type 4), whitepaper §5.4.6; wireguard-go
/// noise-protocol.go <c>MessageTransport</c>, send.go, receive.go.
/// <code>
/// +---------------+-----------------------------------------------+
/// |  type = 4     |              reserved (3 zero bytes)          |   0
/// +---------------+-----------------------------------------------+
/// |     receiver index (uint32 LE): the receiver's session index  |   4
/// +---------------------------------------------------------------+
/// |     counter (uint64 LE): the AEAD nonce, checked by the       |   8
/// |     receiver's replay window after decryption                 |
/// +---------------------------------------------------------------+
/// |     encrypted payload (IP packet zero-padded to a multiple    |  16
/// |     of 16, capped at the MTU; empty for a keepalive)          |
/// +---------------------------------------------------------------+
/// |     Poly1305 tag (16)                                         |  16 + n
/// +---------------------------------------------------------------+  32 + n
/// </code>
/// Borrowed: the view is valid only while the packet buffer it was read from is. This is on the
/// per-packet receive path: reading allocates nothing.
/// </summary>
public readonly ref struct TransportHeader
{
    /// <summary>Type field, receiver index and counter.</summary>
    public const int HeaderSize = 16;

    /// <summary>Poly1305 tag after the ciphertext.</summary>
    public const int TagSize = 16;

    /// <summary>A transport message with an empty payload: the smallest valid one.</summary>
    public const int KeepaliveSize = HeaderSize + TagSize;

    /// <summary>Smallest acceptable transport message (wireguard-go <c>MinMessageSize</c>).</summary>
    public const int MinSize = KeepaliveSize;

    /// <summary>Plaintext is zero-padded to a multiple of this (wireguard-go <c>PaddingMultiple</c>).</summary>
    public const int PaddingMultiple = 16;

    public const int ReceiverIndexOffset = 4;
    public const int CounterOffset = 8;

    /// <summary>Where the ciphertext (then the tag) starts.</summary>
    public const int PayloadOffset = HeaderSize;

    private readonly ReadOnlySpan<byte> _packet;

    private TransportHeader(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>
    /// Accepts any message of at least <see cref="MinSize"/> bytes starting with the type-4 field;
    /// anything else gives false. Never throws, never allocates. Nothing is authenticated until
    /// the payload decrypts under the session's key with <see cref="Counter"/> as nonce.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out TransportHeader message)
    {
        if (packet.Length < MinSize || !WireGuardMessage.HasTypeField(packet, MessageType.TransportData))
        {
            message = default;
            return false;
        }

        message = new TransportHeader(packet);
        return true;
    }

    /// <summary>The whole message.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    public uint ReceiverIndex => BinaryPrimitives.ReadUInt32LittleEndian(_packet[ReceiverIndexOffset..]);

    public ulong Counter => BinaryPrimitives.ReadUInt64LittleEndian(_packet[CounterOffset..]);

    /// <summary>Ciphertext followed by the tag (at least <see cref="TagSize"/> bytes).</summary>
    public ReadOnlySpan<byte> EncryptedPayload => _packet[PayloadOffset..];

    /// <summary>
    /// Writes the 16-byte header at the start of <paramref name="destination"/> (the headroom in
    /// front of the plaintext, STYLE rule 2) and returns <see cref="HeaderSize"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The destination is shorter than 16 bytes (a caller bug).</exception>
    public static int Write(Span<byte> destination, uint receiverIndex, ulong counter)
    {
        if (destination.Length < HeaderSize)
        {
            ThrowDestinationTooShort(destination.Length);
        }

        WireGuardMessage.WriteTypeField(destination, MessageType.TransportData);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[ReceiverIndexOffset..], receiverIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[CounterOffset..], counter);
        return HeaderSize;
    }

    /// <summary>
    /// Length of the plaintext after padding, as wireguard-go send.go <c>calculatePaddingSize</c>:
    /// round up to a multiple of 16, but never beyond <paramref name="mtu"/> (padding hides the exact
    /// length without making a full-MTU packet exceed the path MTU). An <paramref name="mtu"/> of 0
    /// means "no cap". A plaintext longer than the MTU (which the caller should have segmented) has
    /// its remainder modulo the MTU padded, as wireguard-go does.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative length or MTU, or a length so large that
    /// padding would overflow <see cref="int"/> (a caller bug).</exception>
    public static int PaddedLength(int plaintextLength, int mtu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(plaintextLength, int.MaxValue - PaddingMultiple);
        ArgumentOutOfRangeException.ThrowIfNegative(mtu);

        int lastUnit = plaintextLength;
        if (mtu == 0)
        {
            return RoundUpToPaddingMultiple(lastUnit);
        }

        if (lastUnit > mtu)
        {
            lastUnit %= mtu;
        }

        int paddedUnit = Math.Min(RoundUpToPaddingMultiple(lastUnit), mtu);
        return plaintextLength + (paddedUnit - lastUnit);
    }

    private static int RoundUpToPaddingMultiple(int length) =>
        (length + PaddingMultiple - 1) & ~(PaddingMultiple - 1);

    private static void ThrowDestinationTooShort(int length) =>
        throw new ArgumentException(
            $"A transport header needs {HeaderSize} bytes but the destination has {length}; leave {HeaderSize} bytes of headroom.",
            "destination");
}
