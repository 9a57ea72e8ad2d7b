using System.Buffers.Binary;
using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>virtio_net_hdr flags (&lt;linux/virtio_net.h&gt; VIRTIO_NET_HDR_F_*).</summary>
[Flags]
public enum VirtioNetHeaderFlags : byte
{
    None = 0,

    /// <summary>The L4 checksum is partial: fill in the 16 bits at CsumStart + CsumOffset.</summary>
    NeedsChecksum = Libc.VIRTIO_NET_HDR_F_NEEDS_CSUM,

    /// <summary>The checksum was already validated.</summary>
    DataValid = Libc.VIRTIO_NET_HDR_F_DATA_VALID,

    /// <summary>csum_* fields carry receive-segment-coalescing info (not produced by TUN).</summary>
    RscInfo = Libc.VIRTIO_NET_HDR_F_RSC_INFO,
}

/// <summary>virtio_net_hdr GSO types (VIRTIO_NET_HDR_GSO_*). <see cref="Ecn"/> is a bit OR-ed onto a TCP type.</summary>
public enum VirtioGsoType : byte
{
    None = Libc.VIRTIO_NET_HDR_GSO_NONE,
    TcpV4 = Libc.VIRTIO_NET_HDR_GSO_TCPV4,

    /// <summary>UFO (IP-level fragmentation of UDP); we never ask the kernel for it.</summary>
    Udp = Libc.VIRTIO_NET_HDR_GSO_UDP,
    TcpV6 = Libc.VIRTIO_NET_HDR_GSO_TCPV6,

    /// <summary>UDP segmentation (USO, kernel &gt;= 6.2 with TUN_F_USO4/6).</summary>
    UdpL4 = Libc.VIRTIO_NET_HDR_GSO_UDP_L4,
    Ecn = Libc.VIRTIO_NET_HDR_GSO_ECN,
}

/// <summary>
/// The virtio_net_hdr that precedes every packet on a TUN opened with IFF_VNET_HDR: it carries the
/// checksum-offload and GSO metadata of a (possibly 64 KiB) superpacket.
/// </summary>
/// <remarks>
/// Layout (&lt;linux/virtio_net.h&gt;, virtio 1.x spec §5.1.6 "struct virtio_net_hdr", legacy form without
/// num_buffers; the 16-bit fields are little-endian, which is what a TUN on a little-endian host uses):
/// <code>
///  0       1          2         4          6            8             10
///  +-------+----------+---------+----------+------------+-------------+
///  | flags | gso_type | hdr_len | gso_size | csum_start | csum_offset |
///  +-------+----------+---------+----------+------------+-------------+
/// </code>
/// We use the 10-byte form (TUNSETVNETHDRSZ 10, the kernel default and wireguard-go's choice). The 12-byte
/// form adds num_buffers, which only matters for virtio's mergeable receive buffers; TUN never uses it.
/// </remarks>
public struct VirtioNetHeader : IEquatable<VirtioNetHeader>
{
    /// <summary>Bytes on the wire.</summary>
    public const int Size = 10;

    internal const int FlagsOffset = 0;
    internal const int GsoTypeOffset = 1;
    internal const int HdrLenOffset = 2;
    internal const int GsoSizeOffset = 4;
    internal const int CsumStartOffset = 6;
    internal const int CsumOffsetOffset = 8;

    public VirtioNetHeaderFlags Flags;
    public VirtioGsoType GsoType;

    /// <summary>Length of the headers (IP + L4) preceding the payload of each segment.</summary>
    public ushort HeaderLength;

    /// <summary>Payload bytes per segment when <see cref="GsoType"/> is not None.</summary>
    public ushort GsoSize;

    /// <summary>Offset (from the start of the packet) where checksumming starts.</summary>
    public ushort ChecksumStart;

    /// <summary>Offset (from <see cref="ChecksumStart"/>) where the checksum is stored.</summary>
    public ushort ChecksumOffset;

    /// <summary>Decodes a header. Returns false (never throws) when <paramref name="source"/> is shorter than <see cref="Size"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out VirtioNetHeader header)
    {
        if (source.Length < Size)
        {
            header = default;
            return false;
        }

        header = new VirtioNetHeader
        {
            Flags = (VirtioNetHeaderFlags)source[FlagsOffset],
            GsoType = (VirtioGsoType)source[GsoTypeOffset],
            HeaderLength = BinaryPrimitives.ReadUInt16LittleEndian(source[HdrLenOffset..]),
            GsoSize = BinaryPrimitives.ReadUInt16LittleEndian(source[GsoSizeOffset..]),
            ChecksumStart = BinaryPrimitives.ReadUInt16LittleEndian(source[CsumStartOffset..]),
            ChecksumOffset = BinaryPrimitives.ReadUInt16LittleEndian(source[CsumOffsetOffset..]),
        };
        return true;
    }

    /// <summary>Encodes into the first <see cref="Size"/> bytes of <paramref name="destination"/>; returns <see cref="Size"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Size"/> (a caller bug).</exception>
    public readonly int Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"a virtio_net_hdr needs {Size} bytes, the destination has {destination.Length}", nameof(destination));
        }

        destination[FlagsOffset] = (byte)Flags;
        destination[GsoTypeOffset] = (byte)GsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[HdrLenOffset..], HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[GsoSizeOffset..], GsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[CsumStartOffset..], ChecksumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[CsumOffsetOffset..], ChecksumOffset);
        return Size;
    }

    public readonly bool Equals(VirtioNetHeader other) =>
        Flags == other.Flags && GsoType == other.GsoType && HeaderLength == other.HeaderLength &&
        GsoSize == other.GsoSize && ChecksumStart == other.ChecksumStart && ChecksumOffset == other.ChecksumOffset;

    public override readonly bool Equals(object? obj) => obj is VirtioNetHeader other && Equals(other);

    public override readonly int GetHashCode() =>
        HashCode.Combine(Flags, GsoType, HeaderLength, GsoSize, ChecksumStart, ChecksumOffset);

    public static bool operator ==(VirtioNetHeader left, VirtioNetHeader right) => left.Equals(right);

    public static bool operator !=(VirtioNetHeader left, VirtioNetHeader right) => !left.Equals(right);

    public override readonly string ToString() =>
        $"virtio_net_hdr(flags={Flags}, gso={GsoType}, hdr_len={HeaderLength}, gso_size={GsoSize}, csum={ChecksumStart}+{ChecksumOffset})";
}
