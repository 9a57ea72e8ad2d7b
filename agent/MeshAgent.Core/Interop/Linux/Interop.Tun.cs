using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // <linux/if_tun.h> ioctls: _IOW('T', nr, int) / _IOW('T', nr, unsigned int).
        internal const uint TUNSETIFF = 0x400454CA;
        internal const uint TUNSETOFFLOAD = 0x400454D0;
        internal const uint TUNSETVNETHDRSZ = 0x400454D8;

        // TUNSETIFF ifr_flags.
        internal const short IFF_TUN = 0x0001;
        internal const short IFF_NO_PI = 0x1000;
        internal const short IFF_VNET_HDR = 0x4000;
        internal const short IFF_MULTI_QUEUE = 0x0100;

        // TUNSETOFFLOAD argument bits: what we (userspace) can accept in packets read from the TUN.
        internal const uint TUN_F_CSUM = 0x01;
        internal const uint TUN_F_TSO4 = 0x02;
        internal const uint TUN_F_TSO6 = 0x04;
        internal const uint TUN_F_TSO_ECN = 0x08;
        // USO bits need kernel >= 6.2 (and uapi headers >= 6.2 to be checked by gcc; see LayoutTests).
        internal const uint TUN_F_USO4 = 0x20;
        internal const uint TUN_F_USO6 = 0x40;

        // <net/if.h>
        internal const int IFNAMSIZ = 16;
        internal const uint IFF_UP = 0x1;

        // <linux/virtio_net.h> header flags and GSO types.
        internal const byte VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
        internal const byte VIRTIO_NET_HDR_F_DATA_VALID = 2;
        internal const byte VIRTIO_NET_HDR_F_RSC_INFO = 4;
        internal const byte VIRTIO_NET_HDR_GSO_NONE = 0;
        internal const byte VIRTIO_NET_HDR_GSO_TCPV4 = 1;
        internal const byte VIRTIO_NET_HDR_GSO_UDP = 3;
        internal const byte VIRTIO_NET_HDR_GSO_TCPV6 = 4;
        // Kernel >= 6.2 (USO); not in older uapi headers.
        internal const byte VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
        internal const byte VIRTIO_NET_HDR_GSO_ECN = 0x80;

        /// <summary>struct ifreq (&lt;net/if.h&gt;), reduced to the union members we use.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct ifreq
        {
            public fixed byte ifr_name[IFNAMSIZ];
            public ifreq_ifru ifr_ifru;
        }

        /// <summary>
        /// The anonymous <c>ifr_ifru</c> union. <see cref="ifru_map"/> is its largest member and gives the
        /// union its size (24 bytes on LP64, 16 on ILP32), so the kernel never reads past our struct.
        /// </summary>
        [StructLayout(LayoutKind.Explicit)]
        internal struct ifreq_ifru
        {
            [FieldOffset(0)] public short ifru_flags;
            [FieldOffset(0)] public int ifru_ivalue;
            [FieldOffset(0)] public ifmap ifru_map;
        }

        /// <summary>struct ifmap (&lt;net/if.h&gt;).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct ifmap
        {
            public nuint mem_start;
            public nuint mem_end;
            public ushort base_addr;
            public byte irq;
            public byte dma;
            public byte port;
        }

        /// <summary>
        /// struct virtio_net_hdr (&lt;linux/virtio_net.h&gt;), 10 bytes. The 16-bit fields are
        /// __virtio16: little-endian on a TUN of a little-endian host (legacy virtio byte order).
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct virtio_net_hdr
        {
            public byte flags;
            public byte gso_type;
            public ushort hdr_len;
            public ushort gso_size;
            public ushort csum_start;
            public ushort csum_offset;
        }
    }
}
