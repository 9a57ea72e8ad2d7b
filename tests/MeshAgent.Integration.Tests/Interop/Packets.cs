using System.Buffers.Binary;
using System.Net;

namespace MeshAgent.Integration.Tests.Interop;

/// <summary>Just enough IPv4/ICMP/UDP building and parsing for the TUN tests (RFC 791, 792, 768, 1071).</summary>
internal static class Packets
{
    public const int IPv4HeaderLength = 20;
    public const byte ProtocolIcmp = 1;
    public const byte ProtocolUdp = 17;

    /// <summary>Writes an IPv4 ICMP echo request (RFC 792) with <paramref name="payloadLength"/> pattern bytes; returns its length.</summary>
    public static int WriteEchoRequest(Span<byte> packet, IPAddress source, IPAddress destination, ushort id, ushort sequence, int payloadLength)
    {
        int icmpLength = 8 + payloadLength;
        int total = WriteIPv4Header(packet, source, destination, ProtocolIcmp, icmpLength);
        Span<byte> icmp = packet.Slice(IPv4HeaderLength, icmpLength);
        icmp.Clear();
        icmp[0] = 8; // echo request
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], sequence);
        for (int i = 0; i < payloadLength; i++)
        {
            icmp[8 + i] = (byte)(i + sequence);
        }

        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum(icmp));
        return total;
    }

    /// <summary>Whether <paramref name="packet"/> is the IPv4 echo reply to the request with these fields. Does not allocate.</summary>
    public static bool IsEchoReply(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, ushort id, ushort sequence, int payloadLength)
    {
        if (!TryReadIPv4(packet, out byte protocol, out ReadOnlySpan<byte> source, out ReadOnlySpan<byte> destination, out ReadOnlySpan<byte> icmp)
            || protocol != ProtocolIcmp || !source.SequenceEqual(from) || !destination.SequenceEqual(to) || icmp.Length != 8 + payloadLength)
        {
            return false;
        }

        if (icmp[0] != 0 || BinaryPrimitives.ReadUInt16BigEndian(icmp[4..]) != id || BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]) != sequence
            || Checksum(icmp) != 0)
        {
            return false;
        }

        for (int i = 0; i < payloadLength; i++)
        {
            if (icmp[8 + i] != (byte)(i + sequence))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Parses an IPv4 header without options (addresses as 4-byte spans); false for anything else, such as the
    /// IPv6 router solicitations and MLD reports the kernel also sends out of a fresh interface.
    /// </summary>
    public static bool TryReadIPv4(ReadOnlySpan<byte> packet, out byte protocol, out ReadOnlySpan<byte> source, out ReadOnlySpan<byte> destination, out ReadOnlySpan<byte> payload)
    {
        protocol = 0;
        source = destination = payload = default;
        if (packet.Length < IPv4HeaderLength || packet[0] != 0x45)
        {
            return false;
        }

        int total = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (total > packet.Length || total < IPv4HeaderLength)
        {
            return false;
        }

        protocol = packet[9];
        source = packet.Slice(12, 4);
        destination = packet.Slice(16, 4);
        payload = packet[IPv4HeaderLength..total];
        return true;
    }

    /// <summary>The Internet checksum (RFC 1071); 0 when verifying data that includes its checksum.</summary>
    public static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if ((data.Length & 1) != 0)
        {
            sum += (uint)(data[^1] << 8);
        }

        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    private static int WriteIPv4Header(Span<byte> packet, IPAddress source, IPAddress destination, byte protocol, int payloadLength)
    {
        int total = IPv4HeaderLength + payloadLength;
        Span<byte> header = packet[..IPv4HeaderLength];
        header.Clear();
        header[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 0x1234);
        header[8] = 64;
        header[9] = protocol;
        source.TryWriteBytes(header[12..], out _);
        destination.TryWriteBytes(header[16..], out _);
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], Checksum(header));
        return total;
    }
}
