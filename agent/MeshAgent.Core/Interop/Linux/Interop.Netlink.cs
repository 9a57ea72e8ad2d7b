using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // <linux/netlink.h>
        internal const int NETLINK_ROUTE = 0;
        internal const int SOL_NETLINK = 270;
        internal const int NETLINK_CAP_ACK = 10;
        internal const int NETLINK_EXT_ACK = 11;

        internal const ushort NLMSG_NOOP = 1;
        internal const ushort NLMSG_ERROR = 2;
        internal const ushort NLMSG_DONE = 3;

        internal const ushort NLM_F_REQUEST = 0x01;
        internal const ushort NLM_F_MULTI = 0x02;
        internal const ushort NLM_F_ACK = 0x04;
        internal const ushort NLM_F_REPLACE = 0x100;
        internal const ushort NLM_F_EXCL = 0x200;
        internal const ushort NLM_F_CREATE = 0x400;
        // Flags of an NLMSG_ERROR reply: request not echoed (NETLINK_CAP_ACK), TLVs follow (NETLINK_EXT_ACK).
        internal const ushort NLM_F_CAPPED = 0x100;
        internal const ushort NLM_F_ACK_TLVS = 0x200;

        internal const ushort NLMSGERR_ATTR_MSG = 1;

        internal const int NLMSG_ALIGNTO = 4;
        internal const int NLMSG_HDRLEN = 16;

        // <linux/rtnetlink.h> message types.
        internal const ushort RTM_NEWLINK = 16;
        internal const ushort RTM_DELLINK = 17;
        internal const ushort RTM_GETLINK = 18;
        internal const ushort RTM_NEWADDR = 20;
        internal const ushort RTM_DELADDR = 21;
        internal const ushort RTM_NEWROUTE = 24;
        internal const ushort RTM_DELROUTE = 25;

        // rtmsg fields.
        internal const byte RT_TABLE_UNSPEC = 0;
        internal const byte RT_TABLE_MAIN = 254;
        internal const byte RT_SCOPE_UNIVERSE = 0;
        internal const byte RT_SCOPE_LINK = 253;
        internal const byte RT_SCOPE_NOWHERE = 255;
        internal const byte RTPROT_STATIC = 4;
        internal const byte RTN_UNICAST = 1;

        // Route attributes (enum rtattr_type_t).
        internal const ushort RTA_DST = 1;
        internal const ushort RTA_OIF = 4;
        internal const ushort RTA_PRIORITY = 6;
        internal const ushort RTA_TABLE = 15;

        // <linux/if_addr.h> address attributes.
        internal const ushort IFA_ADDRESS = 1;
        internal const ushort IFA_LOCAL = 2;

        // <linux/if_link.h> link attributes.
        internal const ushort IFLA_IFNAME = 3;
        internal const ushort IFLA_MTU = 4;

        /// <summary>struct nlmsghdr (&lt;linux/netlink.h&gt;), host byte order.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct nlmsghdr
        {
            public uint nlmsg_len;
            public ushort nlmsg_type;
            public ushort nlmsg_flags;
            public uint nlmsg_seq;
            public uint nlmsg_pid;
        }

        /// <summary>struct nlmsgerr (&lt;linux/netlink.h&gt;): negative errno (0 = ACK), then the request header.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct nlmsgerr
        {
            public int error;
            public nlmsghdr msg;
        }

        /// <summary>struct sockaddr_nl (&lt;linux/netlink.h&gt;).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct sockaddr_nl
        {
            public ushort nl_family;
            public ushort nl_pad;
            public uint nl_pid;
            public uint nl_groups;
        }

        /// <summary>struct rtattr (&lt;linux/rtnetlink.h&gt;); payload follows at RTA_LENGTH(0).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct rtattr
        {
            public ushort rta_len;
            public ushort rta_type;
        }

        /// <summary>struct ifinfomsg (&lt;linux/rtnetlink.h&gt;).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct ifinfomsg
        {
            public byte ifi_family;
            public byte __ifi_pad;
            public ushort ifi_type;
            public int ifi_index;
            public uint ifi_flags;
            public uint ifi_change;
        }

        /// <summary>struct ifaddrmsg (&lt;linux/if_addr.h&gt;).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct ifaddrmsg
        {
            public byte ifa_family;
            public byte ifa_prefixlen;
            public byte ifa_flags;
            public byte ifa_scope;
            public uint ifa_index;
        }

        /// <summary>struct rtmsg (&lt;linux/rtnetlink.h&gt;).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct rtmsg
        {
            public byte rtm_family;
            public byte rtm_dst_len;
            public byte rtm_src_len;
            public byte rtm_tos;
            public byte rtm_table;
            public byte rtm_protocol;
            public byte rtm_scope;
            public byte rtm_type;
            public uint rtm_flags;
        }

        // NLMSG_* and RTA_* macros: netlink messages and attributes are 4-byte aligned.
        internal static int NLMSG_ALIGN(int length) => (length + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);

        internal static int NLMSG_LENGTH(int length) => length + NLMSG_HDRLEN;

        internal static int NLMSG_SPACE(int length) => NLMSG_ALIGN(NLMSG_LENGTH(length));

        internal static int RTA_ALIGN(int length) => (length + 3) & ~3;

        internal static int RTA_LENGTH(int length) => RTA_ALIGN(4) + length;

        internal static int RTA_SPACE(int length) => RTA_ALIGN(RTA_LENGTH(length));
    }
}
