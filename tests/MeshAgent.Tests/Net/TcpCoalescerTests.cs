using System.Buffers.Binary;
using MeshAgent.Core.Net;

namespace MeshAgent.Tests.Net;

/// <summary>GRO for the TUN: segments cut by <see cref="GsoSegmenter"/> merge back into one super-packet.</summary>
public sealed class TcpCoalescerTests
{
    private sealed class Recorder : IVirtioPacketWriter
    {
        public List<(VirtioNetHeader Header, byte[] Packet)> Written { get; } = [];

        public void Write(ReadOnlySpan<byte> virtioHeader, ReadOnlySpan<byte> packet)
        {
            Assert.True(VirtioNetHeader.TryRead(virtioHeader, out VirtioNetHeader header));
            Written.Add((header, packet.ToArray()));
        }
    }

    private static List<byte[]> Segments(bool ipv6, int payload, byte flags = 0x10) => Segments(ipv6, payload, flags, out _, out _);

    private static List<byte[]> Segments(bool ipv6, int payload, byte flags, out byte[] superPacket, out VirtioNetHeader superHeader)
    {
        int ipLength = ipv6 ? 40 : 20;
        var packet = new byte[ipLength + 32 + payload];
        new Random(payload).NextBytes(packet.AsSpan(ipLength + 32));
        if (ipv6)
        {
            packet[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)(32 + payload));
            packet[6] = 6; packet[7] = 64; packet[8] = 0xfd; packet[23] = 1; packet[24] = 0xfd; packet[39] = 2;
        }
        else
        {
            packet[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
            packet[6] = 0x40; // DF
            packet[8] = 64; packet[9] = 6; packet[12] = 10; packet[15] = 1; packet[16] = 10; packet[19] = 2;
        }

        Span<byte> tcp = packet.AsSpan(ipLength);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], 5201);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], 1000);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], 77);
        tcp[12] = 8 << 4;
        tcp[13] = flags;
        tcp[20] = 1; tcp[21] = 1; tcp[22] = 8; tcp[23] = 10; // NOP NOP TS
        var header = new VirtioNetHeader { GsoType = ipv6 ? VirtioGsoType.TcpV6 : VirtioGsoType.TcpV4, GsoSize = 1348, Flags = VirtioNetHeaderFlags.NeedsChecksum, ChecksumStart = (ushort)ipLength, ChecksumOffset = 16 };
        superPacket = packet;
        superHeader = header;
        var result = new List<byte[]>();
        var buffer = new byte[2000];
        for (int i = 0; i < GsoSegmenter.SegmentCount(packet, header); i++)
        {
            result.Add(buffer.AsSpan(0, GsoSegmenter.WriteSegment(packet, header, i, buffer)).ToArray());
        }

        return result;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void In_order_segments_of_one_flow_become_one_super_packet(bool ipv6)
    {
        List<byte[]> segments = Segments(ipv6, 40 * 1348 + 100);
        var recorder = new Recorder();
        var coalescer = new TcpCoalescer(recorder);
        foreach (byte[] segment in segments)
        {
            coalescer.Add(segment);
        }

        coalescer.Flush();
        (VirtioNetHeader header, byte[] packet) = Assert.Single(recorder.Written);
        Assert.Equal(ipv6 ? VirtioGsoType.TcpV6 : VirtioGsoType.TcpV4, header.GsoType);
        Assert.Equal(1348, header.GsoSize);
        int ipLength = ipv6 ? 40 : 20;
        Assert.Equal(ipLength + 32 + 40 * 1348 + 100, packet.Length);
        // Resegmenting the super-packet gives back the original segments, byte for byte.
        var again = new byte[2000];
        for (int i = 0; i < segments.Count; i++)
        {
            int length = GsoSegmenter.WriteSegment(packet, header, i, again);
            Assert.Equal(segments[i], again.AsSpan(0, length).ToArray());
        }
    }

    [Fact]
    public void A_gap_a_different_flow_or_control_flags_break_the_group()
    {
        List<byte[]> segments = Segments(false, 10 * 1348);
        var recorder = new Recorder();
        var coalescer = new TcpCoalescer(recorder);
        coalescer.Add(segments[0]);
        coalescer.Add(segments[1]);
        coalescer.Add(segments[3]); // gap: 2 is missing
        coalescer.Add(segments[4]);
        byte[] otherFlow = (byte[])segments[5].Clone();
        otherFlow[20] ^= 1; // source port
        coalescer.Add(otherFlow);
        coalescer.Flush();

        Assert.Equal(3, recorder.Written.Count);
        Assert.Equal(VirtioGsoType.TcpV4, recorder.Written[0].Header.GsoType);
        Assert.Equal(VirtioGsoType.TcpV4, recorder.Written[1].Header.GsoType);
        Assert.Equal(VirtioGsoType.None, recorder.Written[2].Header.GsoType);

        // SYN/FIN packets and non-TCP pass through unchanged and in order.
        var passthrough = new Recorder();
        var c2 = new TcpCoalescer(passthrough);
        List<byte[]> fin = Segments(false, 1000, flags: 0x11);
        c2.Add(fin[0]);
        c2.Add(new byte[] { 0x45, 0, 0, 20 });
        c2.Flush();
        Assert.Equal(2, passthrough.Written.Count);
        Assert.Equal(fin[0], passthrough.Written[0].Packet);
    }

    private sealed class NullWriter : IVirtioPacketWriter
    {
        public int Count;

        public void Write(ReadOnlySpan<byte> virtioHeader, ReadOnlySpan<byte> packet) => Count++;
    }

    [Fact]
    public void Segmenting_and_coalescing_allocate_nothing_per_packet()
    {
        List<byte[]> segments = Segments(false, 45 * 1348, 0x10, out byte[] superPacket, out VirtioNetHeader header);
        var writer = new NullWriter();
        var coalescer = new TcpCoalescer(writer);
        var segment = new byte[2000];
        void Round()
        {
            for (int j = 0; j < segments.Count; j++)
            {
                int length = GsoSegmenter.WriteSegment(superPacket, header, j, segment);
                coalescer.Add(segment.AsSpan(0, length));
            }

            coalescer.Flush();
        }

        // Warm up past tiered compilation (call counting starts after a 100 ms delay, then tier-1 code is
        // installed; a single warm-up round left the measured loop exposed to that, and the test flaked).
        for (int i = 0; i < 300; i++)
        {
            Round();
        }

        Thread.Sleep(300);
        for (int i = 0; i < 300; i++)
        {
            Round();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            Round();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(800, writer.Count);
    }
}
