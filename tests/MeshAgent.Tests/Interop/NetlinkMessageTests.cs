using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using MeshAgent.Core.Net;
using Xunit;
using Libc = MeshAgent.Core.Interop.Linux.Interop.Libc;

namespace MeshAgent.Tests.Interop;

/// <summary>rtnetlink message building and error decoding without a kernel (the kernel round trips are integration tests).</summary>
public sealed class NetlinkMessageTests
{
    [Fact]
    public void Builds_an_aligned_rtm_newaddr_request()
    {
        var buffer = new byte[128];
        buffer.AsSpan().Fill(0xEE); // the writer must zero padding itself
        var writer = new NetlinkWriter(buffer, Libc.RTM_NEWADDR, Libc.NLM_F_REQUEST | Libc.NLM_F_ACK, sequence: 7);
        writer.WriteFamilyHeader(new Libc.ifaddrmsg { ifa_family = Libc.AF_INET, ifa_prefixlen = 24, ifa_index = 3 });
        writer.WriteAttribute(Libc.IFA_LOCAL, [10, 0, 0, 1]);
        writer.WriteAttribute(Libc.IFLA_IFNAME, "mesh0");
        int length = writer.Finish();

        // 16 nlmsghdr + 8 ifaddrmsg + (4 + 4) IFA_LOCAL + (4 + "mesh0\0" = 10, padded to 12).
        Assert.Equal(16 + 8 + 8 + 12, length);
        byte[] expected =
        [
            44, 0, 0, 0, /* type */ 20, 0, /* flags */ 5, 0, /* seq */ 7, 0, 0, 0, /* pid */ 0, 0, 0, 0,
            /* ifaddrmsg */ 2, 24, 0, 0, 3, 0, 0, 0,
            /* IFA_LOCAL */ 8, 0, 2, 0, 10, 0, 0, 1,
            /* IFLA_IFNAME */ 10, 0, 3, 0, (byte)'m', (byte)'e', (byte)'s', (byte)'h', (byte)'0', 0, 0, 0,
        ];
        Assert.Equal(expected, buffer[..length]);
    }

    [Fact]
    public void Decodes_an_ack()
    {
        byte[] ack = ErrorMessage(0, flags: Libc.NLM_F_CAPPED, echoedPayload: 0, kernelText: null);
        Assert.Equal(0, NetlinkError.Read(ack, out string? text));
        Assert.Null(text);
    }

    [Fact]
    public void Decodes_an_error_with_extended_ack_text_capped_and_uncapped()
    {
        byte[] capped = ErrorMessage(-Libc.ENETDOWN, Libc.NLM_F_CAPPED | Libc.NLM_F_ACK_TLVS, echoedPayload: 0, "Nexthop device is not up");
        Assert.Equal(-Libc.ENETDOWN, NetlinkError.Read(capped, out string? text));
        Assert.Equal("Nexthop device is not up", text);

        // Without NETLINK_CAP_ACK the kernel echoes the request payload before the TLVs.
        byte[] uncapped = ErrorMessage(-Libc.EEXIST, Libc.NLM_F_ACK_TLVS, echoedPayload: 22, "Address already assigned");
        Assert.Equal(-Libc.EEXIST, NetlinkError.Read(uncapped, out text));
        Assert.Equal("Address already assigned", text);
    }

    [Fact]
    public void Truncated_or_garbled_errors_do_not_throw()
    {
        byte[] good = ErrorMessage(-Libc.EINVAL, Libc.NLM_F_CAPPED | Libc.NLM_F_ACK_TLVS, 0, "bad");
        for (int length = 0; length < good.Length; length++)
        {
            _ = NetlinkError.Read(good.AsSpan(0, length), out _);
        }

        byte[] garbled = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(garbled.AsSpan(36), 0xFFFF); // TLV length beyond the message
        Assert.Equal(-Libc.EINVAL, NetlinkError.Read(garbled, out string? text));
        Assert.Null(text);
    }

    [Fact]
    public void Error_messages_name_the_attempt_the_errno_and_the_kernel_text()
    {
        Assert.Equal(
            "adding address 10.0.0.1/24 to mesh0 failed: file exists (EEXIST)",
            NetlinkError.Format("adding address 10.0.0.1/24 to mesh0", Libc.EEXIST, null));
        Assert.Equal(
            "adding route 10.78.0.0/16 to mesh0 failed: network is down (ENETDOWN): Nexthop device is not up",
            NetlinkError.Format("adding route 10.78.0.0/16 to mesh0", Libc.ENETDOWN, "Nexthop device is not up"));
        Assert.EndsWith(
            "permission denied (EPERM) — run as root or grant CAP_NET_ADMIN",
            NetlinkError.Format("setting link mesh0 up", Libc.EPERM, null));
    }

    [Fact]
    public void Looks_up_the_loopback_link_through_netlink_and_if_nametoindex()
    {
        // Read-only queries of the test's own namespace: nothing is changed.
        using var netlink = Netlink.Open();
        int index = netlink.GetLinkIndex("lo");
        Assert.True(index > 0);
        Assert.Equal(Netlink.GetInterfaceIndex("lo"), index);

        var error = Assert.Throws<NativeCallException>(() => netlink.GetLinkIndex("nosuchlink0"));
        Assert.Equal(Libc.ENODEV, error.Errno);
        Assert.StartsWith("looking up interface nosuchlink0 failed: no such device (ENODEV)", error.Message);

        var direct = Assert.Throws<NativeCallException>(() => Netlink.GetInterfaceIndex("nosuchlink0"));
        Assert.Equal("looking up interface nosuchlink0 failed: no such device (ENODEV)", direct.Message);
    }

    /// <summary>An NLMSG_ERROR as the kernel lays it out (net/netlink/af_netlink.c netlink_ack).</summary>
    private static byte[] ErrorMessage(int error, ushort flags, int echoedPayload, string? kernelText)
    {
        int tlvLength = kernelText is null ? 0 : Libc.RTA_SPACE(Encoding.ASCII.GetByteCount(kernelText) + 1);
        int total = Libc.NLMSG_HDRLEN + Marshal.SizeOf<Libc.nlmsgerr>() + Libc.NLMSG_ALIGN(echoedPayload) + tlvLength;
        byte[] message = new byte[total];
        var header = new Libc.nlmsghdr { nlmsg_len = (uint)total, nlmsg_type = Libc.NLMSG_ERROR, nlmsg_flags = flags, nlmsg_seq = 1 };
        MemoryMarshal.Write(message, in header);
        var body = new Libc.nlmsgerr
        {
            error = error,
            msg = new Libc.nlmsghdr { nlmsg_len = (uint)(Libc.NLMSG_HDRLEN + echoedPayload), nlmsg_type = Libc.RTM_NEWADDR, nlmsg_seq = 1 },
        };
        MemoryMarshal.Write(message.AsSpan(Libc.NLMSG_HDRLEN), in body);
        if (kernelText is not null)
        {
            int offset = Libc.NLMSG_HDRLEN + Marshal.SizeOf<Libc.nlmsgerr>() + Libc.NLMSG_ALIGN(echoedPayload);
            byte[] text = Encoding.ASCII.GetBytes(kernelText + "\0");
            var attribute = new Libc.rtattr { rta_len = (ushort)Libc.RTA_LENGTH(text.Length), rta_type = Libc.NLMSGERR_ATTR_MSG };
            MemoryMarshal.Write(message.AsSpan(offset), in attribute);
            text.CopyTo(message, offset + Libc.RTA_LENGTH(0));
        }

        return message;
    }
}
