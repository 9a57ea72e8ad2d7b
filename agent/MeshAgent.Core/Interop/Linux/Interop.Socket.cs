using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // <sys/socket.h>
        internal const int AF_UNSPEC = 0;
        internal const int AF_INET = 2;
        internal const int AF_INET6 = 10;
        internal const int AF_NETLINK = 16;

        internal const int SOCK_DGRAM = 2;
        internal const int SOCK_RAW = 3;
        internal const int SOCK_NONBLOCK = 0x800;
        internal const int SOCK_CLOEXEC = 0x80000;

        internal const int SOL_SOCKET = 1;
        internal const int SO_REUSEADDR = 2;
        internal const int SO_SNDBUF = 7;
        internal const int SO_RCVBUF = 8;
        internal const int SO_REUSEPORT = 15;
        internal const int SO_SNDBUFFORCE = 32;
        internal const int SO_RCVBUFFORCE = 33;

        internal const int MSG_CTRUNC = 0x8;
        internal const int MSG_TRUNC = 0x20;
        internal const int MSG_DONTWAIT = 0x40;
        internal const int MSG_WAITFORONE = 0x10000;

        // <netinet/in.h>
        internal const int IPPROTO_UDP = 17;
        internal const int IPPROTO_IPV6 = 41;
        internal const int IPV6_V6ONLY = 26;

        // <netinet/udp.h>: UDP_SEGMENT (GSO, kernel >= 4.18) and UDP_GRO (kernel >= 5.0).
        internal const int SOL_UDP = 17;
        internal const int UDP_SEGMENT = 103;
        internal const int UDP_GRO = 104;

        /// <summary>struct iovec (&lt;sys/uio.h&gt;).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct iovec
        {
            public void* iov_base;
            public nuint iov_len;
        }

        /// <summary>struct msghdr (&lt;sys/socket.h&gt;); glibc uses size_t for msg_iovlen and msg_controllen.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct msghdr
        {
            public void* msg_name;
            public uint msg_namelen;
            public iovec* msg_iov;
            public nuint msg_iovlen;
            public void* msg_control;
            public nuint msg_controllen;
            public int msg_flags;
        }

        /// <summary>struct mmsghdr (&lt;sys/socket.h&gt;, _GNU_SOURCE).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct mmsghdr
        {
            public msghdr msg_hdr;
            public uint msg_len;
        }

        /// <summary>struct cmsghdr (&lt;sys/socket.h&gt;); data follows at CMSG_LEN(0).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct cmsghdr
        {
            public nuint cmsg_len;
            public int cmsg_level;
            public int cmsg_type;
        }

        /// <summary>struct sockaddr_in (&lt;netinet/in.h&gt;); port and address in network byte order.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct sockaddr_in
        {
            public ushort sin_family;
            public ushort sin_port;
            public uint sin_addr;
            public fixed byte sin_zero[8];
        }

        /// <summary>struct sockaddr_in6 (&lt;netinet/in.h&gt;); port and address in network byte order.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct sockaddr_in6
        {
            public ushort sin6_family;
            public ushort sin6_port;
            public uint sin6_flowinfo;
            public fixed byte sin6_addr[16];
            public uint sin6_scope_id;
        }

        // CMSG_* macros of <sys/socket.h> (glibc bits/socket.h): control data is aligned to size_t.
        internal static int CMSG_ALIGN(int length) => (length + nint.Size - 1) & ~(nint.Size - 1);

        internal static unsafe int CMSG_LEN(int length) => CMSG_ALIGN(sizeof(cmsghdr)) + length;

        internal static unsafe int CMSG_SPACE(int length) => CMSG_ALIGN(length) + CMSG_ALIGN(sizeof(cmsghdr));
    }
}
