using System.Buffers.Binary;
using MeshAgent.Core.Net;

namespace MeshAgent.Tests.Net;

public sealed class GsoSegmenterTests
{
    /// <summary>RFC 1071, 16 bits at a time: the reference the fast sum is compared with.</summary>
    private static ushort NaiveChecksum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        uint sum = initial;
        for (int i = 0; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (data.Length % 2 == 1)
        {
            sum += (uint)data[^1] << 8;
        }

        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    [Fact]
    public void Fast_checksum_matches_the_naive_one_on_random_data()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 3000; trial++)
        {
            var data = new byte[rng.Next(0, 3000)];
            rng.NextBytes(data);
            uint initial = (uint)rng.Next(0, 0x1FFFF);
            Assert.Equal(NaiveChecksum(data, initial), InternetChecksum.Compute(data, initial));
        }
    }

    private static byte[] TcpSuperPacket(bool ipv6, int payloadLength, out VirtioNetHeader header)
    {
        int ipLength = ipv6 ? 40 : 20;
        int tcpLength = 32; // with 12 bytes of options (timestamps)
        var packet = new byte[ipLength + tcpLength + payloadLength];
        var rng = new Random(payloadLength);
        rng.NextBytes(packet.AsSpan(ipLength + tcpLength));
        if (ipv6)
        {
            packet[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)(tcpLength + payloadLength));
            packet[6] = 6;
            packet[7] = 64;
            packet[8] = 0xfd; packet[23] = 1;
            packet[24] = 0xfd; packet[39] = 2;
        }
        else
        {
            packet[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)Math.Min(packet.Length, 65535));
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 1000);
            packet[8] = 64;
            packet[9] = 6;
            packet[12] = 10; packet[15] = 1;
            packet[16] = 10; packet[19] = 2;
        }

        Span<byte> tcp = packet.AsSpan(ipLength);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], 5201);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], 0xFFFFF000); // wraps during segmentation
        tcp[12] = (byte)((tcpLength / 4) << 4);
        tcp[13] = 0x18 | 0x01 | 0x80; // PSH ACK FIN CWR
        header = new VirtioNetHeader
        {
            Flags = VirtioNetHeaderFlags.NeedsChecksum,
            GsoType = ipv6 ? VirtioGsoType.TcpV6 : VirtioGsoType.TcpV4,
            HeaderLength = (ushort)(ipLength + tcpLength),
            GsoSize = 1348,
            ChecksumStart = (ushort)ipLength,
            ChecksumOffset = 16,
        };
        return packet;
    }

    [Theory]
    [InlineData(false, 60000)]
    [InlineData(true, 60000)]
    [InlineData(false, 1348)]
    [InlineData(true, 5000)]
    public void Tcp_super_packets_become_valid_segments(bool ipv6, int payloadLength)
    {
        byte[] packet = TcpSuperPacket(ipv6, payloadLength, out VirtioNetHeader header);
        int ipLength = ipv6 ? 40 : 20;
        int count = GsoSegmenter.SegmentCount(packet, header);
        Assert.Equal((payloadLength + 1347) / 1348, count);

        var reassembled = new List<byte>();
        var segment = new byte[2000];
        for (int i = 0; i < count; i++)
        {
            int length = GsoSegmenter.WriteSegment(packet, header, i, segment);
            Assert.True(length > 0);
            Span<byte> s = segment.AsSpan(0, length);
            Span<byte> tcp = s[ipLength..];
            if (!ipv6)
            {
                Assert.Equal(length, BinaryPrimitives.ReadUInt16BigEndian(s[2..]));
                Assert.Equal(0, NaiveChecksum(s[..20]) == 0 ? 0 : 1);
                Assert.Equal((ushort)(1000 + i), BinaryPrimitives.ReadUInt16BigEndian(s[4..]));
            }
            else
            {
                Assert.Equal(length - 40, BinaryPrimitives.ReadUInt16BigEndian(s[4..]));
            }

            uint pseudo = ipv6
                ? InternetChecksum.PseudoHeader(s.Slice(8, 16), s.Slice(24, 16), 6, tcp.Length)
                : InternetChecksum.PseudoHeader(s.Slice(12, 4), s.Slice(16, 4), 6, tcp.Length);
            Assert.Equal(0, NaiveChecksum(tcp, pseudo));
            Assert.Equal(unchecked(0xFFFFF000u + (uint)(i * 1348)), BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]));
            bool last = i == count - 1;
            Assert.Equal(last, (tcp[13] & 0x01) != 0);   // FIN only on the last
            Assert.Equal(last, (tcp[13] & 0x08) != 0);   // PSH only on the last
            Assert.Equal(i == 0, (tcp[13] & 0x80) != 0); // CWR only on the first
            reassembled.AddRange(tcp[32..].ToArray());
        }

        Assert.Equal(packet.AsSpan(ipLength + 32).ToArray(), reassembled.ToArray());
    }

    [Fact]
    public void Needs_checksum_completion_gives_a_valid_udp_checksum()
    {
        var packet = new byte[20 + 8 + 100];
        new Random(3).NextBytes(packet.AsSpan(28));
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[9] = 17;
        packet[12] = 10; packet[15] = 1; packet[16] = 10; packet[19] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), 108);
        uint pseudo = InternetChecksum.PseudoHeader(packet.AsSpan(12, 4), packet.AsSpan(16, 4), 17, 108);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(26), (ushort)pseudo); // what the kernel leaves
        var header = new VirtioNetHeader { Flags = VirtioNetHeaderFlags.NeedsChecksum, ChecksumStart = 20, ChecksumOffset = 6 };

        Assert.True(GsoSegmenter.TryCompleteChecksum(packet, header));
        Assert.Equal(0, NaiveChecksum(packet.AsSpan(20), InternetChecksum.PseudoHeader(packet.AsSpan(12, 4), packet.AsSpan(16, 4), 17, 108)));
    }

    [Fact]
    public void Malformed_super_packets_are_refused_without_throwing()
    {
        var rng = new Random(9);
        var segment = new byte[70000];
        for (int i = 0; i < 2000; i++)
        {
            var packet = new byte[rng.Next(0, 200)];
            rng.NextBytes(packet);
            var header = new VirtioNetHeader { GsoType = (VirtioGsoType)rng.Next(0, 6), GsoSize = (ushort)rng.Next(0, 100), Flags = VirtioNetHeaderFlags.NeedsChecksum, ChecksumStart = (ushort)rng.Next(0, 300), ChecksumOffset = (ushort)rng.Next(0, 20) };
            int count = GsoSegmenter.SegmentCount(packet, header);
            for (int j = 0; j < Math.Min(count, 5); j++)
            {
                GsoSegmenter.WriteSegment(packet, header, j, segment);
            }

            GsoSegmenter.TryCompleteChecksum(packet, header);
        }
    }
}
