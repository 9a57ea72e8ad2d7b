using System.Buffers.Binary;

namespace MeshAgent.Core.Net;

/// <summary>
/// Turns what a TUN device with offloads hands us into wire-ready IP packets (wireguard-go
/// tun/offload_linux.go, done our way):
///  - a packet with NEEDS_CSUM only gets its transport checksum completed;
///  - a TCP super-packet (GSO TCPV4/TCPV6, up to 64 KiB) is cut into segments of gso_size
///    payload bytes, each with its own IP header (length, IPv4 id and checksum), TCP sequence
///    number, flags (FIN/PSH only on the last, CWR only on the first) and full TCP checksum.
/// Each segment is then encrypted separately (protocol notes §4.6 item 7). Never throws on
/// kernel input; malformed input returns false and is counted by the caller.
/// </summary>
public static class GsoSegmenter
{
    private const byte TcpProtocol = 6;
    private const byte UdpProtocol = 17;

    /// <summary>Segments <paramref name="packet"/> will yield (1 for a non-GSO packet), or 0 if malformed.</summary>
    public static int SegmentCount(ReadOnlySpan<byte> packet, in VirtioNetHeader header)
    {
        if (header.GsoType == VirtioGsoType.None)
        {
            return 1;
        }

        if (!TryGetTcpLayout(packet, header, out int headerLength, out _) || header.GsoSize == 0)
        {
            return 0;
        }

        int payload = packet.Length - headerLength;
        return payload <= 0 ? 1 : (payload + header.GsoSize - 1) / header.GsoSize;
    }

    /// <summary>Completes a NEEDS_CSUM checksum in place (non-GSO packets).</summary>
    public static bool TryCompleteChecksum(Span<byte> packet, in VirtioNetHeader header)
    {
        if ((header.Flags & VirtioNetHeaderFlags.NeedsChecksum) == 0)
        {
            return true;
        }

        int start = header.ChecksumStart;
        int field = start + header.ChecksumOffset;
        if (start >= packet.Length || field + 2 > packet.Length)
        {
            return false;
        }

        // The field holds the pseudo-header partial sum; summing over it completes the checksum.
        ushort checksum = InternetChecksum.Compute(packet[start..]);
        if (checksum == 0 && header.ChecksumOffset == 6)
        {
            checksum = 0xFFFF; // UDP: 0 means "no checksum" (RFC 768)
        }

        BinaryPrimitives.WriteUInt16BigEndian(packet[field..], checksum);
        return true;
    }

    /// <summary>
    /// Writes TCP segment <paramref name="index"/> of a GSO super-packet into destination.
    /// Returns its length, or 0 if the input is malformed or destination too small.
    /// </summary>
    public static int WriteSegment(ReadOnlySpan<byte> packet, in VirtioNetHeader header, int index, Span<byte> destination)
    {
        if (!TryGetTcpLayout(packet, header, out int headerLength, out int ipHeaderLength))
        {
            return 0;
        }

        int mss = header.GsoSize;
        int payloadTotal = packet.Length - headerLength;
        int offset = index * mss;
        if (mss == 0 || offset > payloadTotal || (offset == payloadTotal && payloadTotal > 0))
        {
            return 0;
        }

        int payload = Math.Min(mss, payloadTotal - offset);
        int length = headerLength + payload;
        if (destination.Length < length)
        {
            return 0;
        }

        packet[..headerLength].CopyTo(destination);
        packet.Slice(headerLength + offset, payload).CopyTo(destination[headerLength..]);
        Span<byte> segment = destination[..length];
        bool isIPv4 = packet[0] >> 4 == 4;
        bool last = offset + payload >= payloadTotal;
        int tcpLength = length - ipHeaderLength;

        if (isIPv4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[2..], (ushort)length);
            ushort id = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
            BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)(id + index));
            segment[10] = 0;
            segment[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(segment[10..], InternetChecksum.Compute(segment[..ipHeaderLength]));
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)tcpLength);
        }

        Span<byte> tcp = segment[ipHeaderLength..];
        uint sequence = BinaryPrimitives.ReadUInt32BigEndian(packet[(ipHeaderLength + 4)..]);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence + (uint)offset);
        const byte Fin = 0x01, Psh = 0x08, Cwr = 0x80;
        if (!last)
        {
            tcp[13] &= unchecked((byte)~(Fin | Psh));
        }

        if (index > 0)
        {
            tcp[13] &= unchecked((byte)~Cwr);
        }

        tcp[16] = 0;
        tcp[17] = 0;
        uint pseudo = isIPv4
            ? InternetChecksum.PseudoHeader(segment.Slice(12, 4), segment.Slice(16, 4), TcpProtocol, tcpLength)
            : InternetChecksum.PseudoHeader(segment.Slice(8, 16), segment.Slice(24, 16), TcpProtocol, tcpLength);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], InternetChecksum.Compute(tcp, pseudo));
        return length;
    }

    private static bool TryGetTcpLayout(ReadOnlySpan<byte> packet, in VirtioNetHeader header, out int headerLength, out int ipHeaderLength)
    {
        headerLength = ipHeaderLength = 0;
        VirtioGsoType type = header.GsoType & ~VirtioGsoType.Ecn;
        if (packet.Length < 20)
        {
            return false;
        }

        int version = packet[0] >> 4;
        if (type == VirtioGsoType.TcpV4 && version == 4)
        {
            ipHeaderLength = (packet[0] & 0xF) * 4;
            if (ipHeaderLength < 20 || packet.Length < ipHeaderLength + 20 || packet[9] != TcpProtocol)
            {
                return false;
            }
        }
        else if (type == VirtioGsoType.TcpV6 && version == 6)
        {
            ipHeaderLength = 40;
            if (packet.Length < 60 || packet[6] != TcpProtocol)
            {
                return false; // extension headers: not produced by the kernel for TSO in practice
            }
        }
        else
        {
            return false;
        }

        int tcpHeaderLength = (packet[ipHeaderLength + 12] >> 4) * 4;
        headerLength = ipHeaderLength + tcpHeaderLength;
        return tcpHeaderLength >= 20 && packet.Length >= headerLength;
    }
}
