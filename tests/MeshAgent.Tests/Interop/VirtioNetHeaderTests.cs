using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Net;
using Xunit;
using Libc = MeshAgent.Core.Interop.Linux.Interop.Libc;

namespace MeshAgent.Tests.Interop;

public sealed class VirtioNetHeaderTests
{
    [Fact]
    public void Encodes_a_tso_header_little_endian_at_the_kernel_offsets()
    {
        // A TCP/IPv4 superpacket: 20-byte IP + 20-byte TCP headers, MSS 1448, checksum at 20 + 16.
        var header = new VirtioNetHeader
        {
            Flags = VirtioNetHeaderFlags.NeedsChecksum,
            GsoType = VirtioGsoType.TcpV4,
            HeaderLength = 40,
            GsoSize = 1448,
            ChecksumStart = 20,
            ChecksumOffset = 16,
        };
        Span<byte> bytes = stackalloc byte[VirtioNetHeader.Size];

        Assert.Equal(10, header.Write(bytes));
        Assert.Equal(new byte[] { 0x01, 0x01, 0x28, 0x00, 0xa8, 0x05, 0x14, 0x00, 0x10, 0x00 }, bytes.ToArray());
        Assert.True(VirtioNetHeader.TryRead(bytes, out VirtioNetHeader decoded));
        Assert.Equal(header, decoded);
    }

    [Fact]
    public void Codec_offsets_match_struct_virtio_net_hdr()
    {
        // The struct itself is checked against gcc by LayoutTests; this ties the span codec to it.
        Assert.Equal(VirtioNetHeader.Size, Marshal.SizeOf<Libc.virtio_net_hdr>());
        Assert.Equal(VirtioNetHeader.FlagsOffset, (int)Marshal.OffsetOf<Libc.virtio_net_hdr>(nameof(Libc.virtio_net_hdr.flags)));
        Assert.Equal(VirtioNetHeader.GsoTypeOffset, (int)Marshal.OffsetOf<Libc.virtio_net_hdr>(nameof(Libc.virtio_net_hdr.gso_type)));
        Assert.Equal(VirtioNetHeader.HdrLenOffset, (int)Marshal.OffsetOf<Libc.virtio_net_hdr>(nameof(Libc.virtio_net_hdr.hdr_len)));
        Assert.Equal(VirtioNetHeader.GsoSizeOffset, (int)Marshal.OffsetOf<Libc.virtio_net_hdr>(nameof(Libc.virtio_net_hdr.gso_size)));
        Assert.Equal(VirtioNetHeader.CsumStartOffset, (int)Marshal.OffsetOf<Libc.virtio_net_hdr>(nameof(Libc.virtio_net_hdr.csum_start)));
        Assert.Equal(VirtioNetHeader.CsumOffsetOffset, (int)Marshal.OffsetOf<Libc.virtio_net_hdr>(nameof(Libc.virtio_net_hdr.csum_offset)));
    }

    [Fact]
    public void Decoding_matches_the_native_struct_on_this_little_endian_host()
    {
        Assert.True(BitConverter.IsLittleEndian, "TUN virtio headers are little-endian; a big-endian host would need TUNSETVNETLE");
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), VirtioNetHeader.Size)), bytes =>
        {
            var native = MemoryMarshal.Read<Libc.virtio_net_hdr>(bytes);
            return VirtioNetHeader.TryRead(bytes, out VirtioNetHeader header)
                && (byte)header.Flags == native.flags && (byte)header.GsoType == native.gso_type
                && header.HeaderLength == native.hdr_len && header.GsoSize == native.gso_size
                && header.ChecksumStart == native.csum_start && header.ChecksumOffset == native.csum_offset;
        }));
    }

    [Fact]
    public void Write_then_read_round_trips_every_header()
    {
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), VirtioNetHeader.Size)), bytes =>
        {
            // Every 10-byte string is a header: read → write reproduces it byte for byte.
            Span<byte> written = stackalloc byte[VirtioNetHeader.Size];
            return VirtioNetHeader.TryRead(bytes, out VirtioNetHeader header)
                && header.Write(written) == VirtioNetHeader.Size
                && written.SequenceEqual(bytes);
        }));
    }

    [Fact]
    public void Short_input_is_rejected_without_throwing()
    {
        for (int length = 0; length < VirtioNetHeader.Size; length++)
        {
            Assert.False(VirtioNetHeader.TryRead(new byte[length], out VirtioNetHeader header));
            Assert.Equal(default, header);
        }

        Assert.Throws<ArgumentException>(() => default(VirtioNetHeader).Write(new byte[9]));
    }

    [Fact]
    public void Public_enums_carry_the_kernel_values()
    {
        Assert.Equal(Libc.VIRTIO_NET_HDR_F_NEEDS_CSUM, (byte)VirtioNetHeaderFlags.NeedsChecksum);
        Assert.Equal(Libc.VIRTIO_NET_HDR_F_DATA_VALID, (byte)VirtioNetHeaderFlags.DataValid);
        Assert.Equal(Libc.VIRTIO_NET_HDR_GSO_TCPV4, (byte)VirtioGsoType.TcpV4);
        Assert.Equal(Libc.VIRTIO_NET_HDR_GSO_TCPV6, (byte)VirtioGsoType.TcpV6);
        Assert.Equal(Libc.VIRTIO_NET_HDR_GSO_UDP_L4, (byte)VirtioGsoType.UdpL4);
        Assert.Equal(Libc.VIRTIO_NET_HDR_GSO_ECN, (byte)VirtioGsoType.Ecn);
        Assert.Equal(Libc.TUN_F_CSUM | Libc.TUN_F_TSO4 | Libc.TUN_F_TSO6, (uint)TunOffloads.Tcp);
        Assert.Equal(Libc.TUN_F_USO4 | Libc.TUN_F_USO6, (uint)(TunOffloads.All & ~TunOffloads.Tcp));
    }
}
