namespace MeshAgent.Core.WireGuard;

/// <summary>
/// The first byte of every WireGuard message (whitepaper §5.4; wireguard-go noise-protocol.go
/// <c>MessageInitiationType</c> … <c>MessageTransportType</c>). On the wire it is followed by three
/// reserved zero bytes, so the first four bytes read as a little-endian uint32 equal this value.
/// </summary>
public enum MessageType : byte
{
    HandshakeInitiation = 1,
    HandshakeResponse = 2,
    CookieReply = 3,
    TransportData = 4,
}

/// <summary>
/// Classifies a datagram received on the shared UDP socket. Both methods are total: any byte
/// sequence, of any length, gives an answer and never an exception.
/// </summary>
public static class WireGuardMessage
{
    /// <summary>Bytes of the type field: the type byte and three reserved zero bytes.</summary>
    public const int TypeFieldSize = 4;

    /// <summary>
    /// True when <paramref name="packet"/> is a WireGuard message of a known type with the size
    /// that type requires: exactly 148 / 92 / 64 bytes for types 1–3, at least 32 (header plus an
    /// empty, authenticated payload) for transport data. This is the check wireguard-go's receive
    /// loop makes before handing a message to a worker.
    /// </summary>
    public static bool TryGetType(ReadOnlySpan<byte> packet, out MessageType type)
    {
        type = default;
        if (!LooksLikeWireGuard(packet))
        {
            return false;
        }

        var candidate = (MessageType)packet[0];
        bool sizeFits = candidate switch
        {
            MessageType.HandshakeInitiation => packet.Length == HandshakeInitiation.Size,
            MessageType.HandshakeResponse => packet.Length == HandshakeResponse.Size,
            MessageType.CookieReply => packet.Length == CookieReply.Size,
            _ => packet.Length >= TransportHeader.MinSize,
        };
        if (!sizeFits)
        {
            return false;
        }

        type = candidate;
        return true;
    }

    /// <summary>
    /// Demultiplexing test for one UDP socket shared with STUN and our own envelopes (notes §4.6
    /// item 6): byte 0 in 1..4 and bytes 1–3 zero. It deliberately ignores the length, so that a
    /// WireGuard-shaped datagram of the wrong size is counted as a malformed WireGuard drop (by
    /// <see cref="TryGetType"/>) instead of being handed to another protocol's parser.
    /// Non-overlap (the argument of Tailscale's magicsock <c>packetLooksLike</c>): the only STUN
    /// messages we accept are Binding ones (type 0x0001, 0x0101, 0x0111), whose byte 1 is 0x01, so
    /// they never match; our own envelopes start with a byte of 0x40 or above.
    /// </summary>
    public static bool LooksLikeWireGuard(ReadOnlySpan<byte> packet) =>
        packet.Length >= TypeFieldSize
        && packet[0] is >= (byte)MessageType.HandshakeInitiation and <= (byte)MessageType.TransportData
        && packet[1] == 0 && packet[2] == 0 && packet[3] == 0;

    /// <summary>Writes the type field (type byte, then three zero bytes).</summary>
    internal static void WriteTypeField(Span<byte> destination, MessageType type)
    {
        destination[0] = (byte)type;
        destination[1] = 0;
        destination[2] = 0;
        destination[3] = 0;
    }

    /// <summary>True when the first four bytes are exactly the type field of <paramref name="type"/>.</summary>
    internal static bool HasTypeField(ReadOnlySpan<byte> packet, MessageType type) =>
        packet.Length >= TypeFieldSize
        && packet[0] == (byte)type && packet[1] == 0 && packet[2] == 0 && packet[3] == 0;
}
