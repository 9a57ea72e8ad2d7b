using System.Buffers.Binary;
using System.Net;

namespace MeshAgent.Integration.Tests.WireGuardInterop;

/// <summary>Builds and parses IPv4 ICMP echo packets by hand (the tunnel carries raw IP).</summary>
internal static class IcmpPackets
{
    public static byte[] EchoRequest(IPAddress source, IPAddress destination, ushort id, ushort sequence, int payloadLength = 56)
        => Build(source, destination, type: 8, id, sequence, Enumerable.Range(0, payloadLength).Select(i => (byte)i).ToArray());

    /// <summary>Turns an echo request into its reply (addresses swapped, type 0), as a host stack would.</summary>
    public static byte[]? ReplyTo(ReadOnlySpan<byte> request)
    {
        if (!TryParseEcho(request, out byte type, out IPAddress? source, out IPAddress? destination, out ushort id, out ushort sequence, out byte[] payload) || type != 8)
        {
            return null;
        }

        return Build(destination!, source!, type: 0, id, sequence, payload);
    }

    public static bool TryParseEcho(ReadOnlySpan<byte> packet, out byte type, out IPAddress? source, out IPAddress? destination, out ushort id, out ushort sequence, out byte[] payload)
    {
        type = 0;
        source = destination = null;
        id = sequence = 0;
        payload = [];
        if (packet.Length < 28 || packet[0] >> 4 != 4 || packet[9] != 1)
        {
            return false;
        }

        int headerLength = (packet[0] & 0xF) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (totalLength > packet.Length || Checksum(packet[..headerLength]) != 0)
        {
            return false;
        }

        ReadOnlySpan<byte> icmp = packet[headerLength..totalLength];
        if (Checksum(icmp) != 0)
        {
            return false;
        }

        type = icmp[0];
        source = new IPAddress(packet.Slice(12, 4));
        destination = new IPAddress(packet.Slice(16, 4));
        id = BinaryPrimitives.ReadUInt16BigEndian(icmp[4..]);
        sequence = BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]);
        payload = icmp[8..].ToArray();
        return true;
    }

    private static byte[] Build(IPAddress source, IPAddress destination, byte type, ushort id, ushort sequence, byte[] payload)
    {
        var packet = new byte[20 + 8 + payload.Length];
        Span<byte> ip = packet.AsSpan(0, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)Random.Shared.Next(ushort.MaxValue));
        ip[8] = 64;  // TTL
        ip[9] = 1;   // ICMP
        source.TryWriteBytes(ip[12..], out _);
        destination.TryWriteBytes(ip[16..], out _);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum(ip));

        Span<byte> icmp = packet.AsSpan(20);
        icmp[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], sequence);
        payload.CopyTo(icmp[8..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum(icmp));
        return packet;
    }

    /// <summary>RFC 1071 Internet checksum; 0 when verifying a correct header.</summary>
    private static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (uint)(data[i] << 8);
        }

        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
