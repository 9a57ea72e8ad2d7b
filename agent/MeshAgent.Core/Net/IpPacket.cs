using System.Buffers.Binary;

namespace MeshAgent.Core.Net;

/// <summary>
/// Reads the version and the addresses of a raw IPv4 or IPv6 packet (as it comes out of the TUN
/// device or out of a decrypted WireGuard transport message).
/// </summary>
/// <remarks>
/// Contract: every method is total. Short, truncated or garbage input yields <c>false</c>, never an
/// exception, because the bytes come from the network or from local applications (STYLE rule 7).
/// Returned address spans are borrowed from <c>packet</c>: valid as long as the caller's buffer is.
/// Only the fixed header is checked; options, extension headers and the payload are not parsed.
/// </remarks>
public static class IpPacket
{
    // IPv4 header, RFC 791 section 3.1:
    //
    //  0                   1                   2                   3
    //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |Version|  IHL  |Type of Service|          Total Length         |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |         Identification        |Flags|      Fragment Offset    |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |  Time to Live |    Protocol   |         Header Checksum       |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |                       Source Address                          |  offset 12
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |                    Destination Address                        |  offset 16
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |                    Options (IHL > 5)                          |
    public const int IPv4MinHeaderLength = 20;
    public const int IPv4TotalLengthOffset = 2;
    public const int IPv4SourceOffset = 12;
    public const int IPv4DestinationOffset = 16;
    public const int IPv4AddressLength = 4;

    // IPv6 fixed header, RFC 8200 section 3:
    //
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |Version| Traffic Class |           Flow Label                  |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |         Payload Length        |  Next Header  |   Hop Limit   |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |                    Source Address (128 bits)                  |  offset 8
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |                 Destination Address (128 bits)                 |  offset 24
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    public const int IPv6HeaderLength = 40;
    public const int IPv6PayloadLengthOffset = 4;
    public const int IPv6SourceOffset = 8;
    public const int IPv6DestinationOffset = 24;
    public const int IPv6AddressLength = 16;

    /// <summary>
    /// Reads the version nibble. True only for 4 or 6 with at least the fixed header present
    /// (20 bytes with IHL ≥ 5 for IPv4, 40 bytes for IPv6), so a true result means the
    /// address fields can be read.
    /// </summary>
    public static bool TryGetVersion(ReadOnlySpan<byte> packet, out int version)
    {
        version = 0;
        if (packet.IsEmpty)
        {
            return false;
        }

        int v = packet[0] >> 4;
        if (v == 4)
        {
            // IHL counts 32-bit words; below 5 the header cannot even hold the addresses.
            if (packet.Length < IPv4MinHeaderLength || (packet[0] & 0x0F) < 5)
            {
                return false;
            }
        }
        else if (v == 6)
        {
            if (packet.Length < IPv6HeaderLength)
            {
                return false;
            }
        }
        else
        {
            return false;
        }

        version = v;
        return true;
    }

    /// <summary>Source address: 4 bytes for IPv4, 16 for IPv6. Borrowed from <paramref name="packet"/>.</summary>
    public static bool TryGetSource(ReadOnlySpan<byte> packet, out ReadOnlySpan<byte> address)
    {
        switch (TryGetVersion(packet, out int version) ? version : 0)
        {
            case 4:
                address = packet.Slice(IPv4SourceOffset, IPv4AddressLength);
                return true;
            case 6:
                address = packet.Slice(IPv6SourceOffset, IPv6AddressLength);
                return true;
            default:
                address = default;
                return false;
        }
    }

    /// <summary>Destination address: 4 bytes for IPv4, 16 for IPv6. Borrowed from <paramref name="packet"/>.</summary>
    public static bool TryGetDestination(ReadOnlySpan<byte> packet, out ReadOnlySpan<byte> address)
    {
        switch (TryGetVersion(packet, out int version) ? version : 0)
        {
            case 4:
                address = packet.Slice(IPv4DestinationOffset, IPv4AddressLength);
                return true;
            case 6:
                address = packet.Slice(IPv6DestinationOffset, IPv6AddressLength);
                return true;
            default:
                address = default;
                return false;
        }
    }

    /// <summary>
    /// Length of the packet according to its own header (IPv4 Total Length; IPv6 40 + Payload
    /// Length). False when the header is unreadable or claims more bytes than <paramref name="packet"/>
    /// holds (or, for IPv4, fewer than its header). The receive path uses this to trim padding
    /// after decryption (WireGuard pads plaintext to a multiple of 16).
    /// </summary>
    public static bool TryGetTotalLength(ReadOnlySpan<byte> packet, out int length)
    {
        length = 0;
        if (!TryGetVersion(packet, out int version))
        {
            return false;
        }

        int claimed = version == 4
            ? BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(IPv4TotalLengthOffset, 2))
            : IPv6HeaderLength + BinaryPrimitives.ReadUInt16BigEndian(packet.Slice(IPv6PayloadLengthOffset, 2));
        int minimum = version == 4 ? (packet[0] & 0x0F) * 4 : IPv6HeaderLength;
        if (claimed < minimum || claimed > packet.Length)
        {
            return false;
        }

        length = claimed;
        return true;
    }
}
