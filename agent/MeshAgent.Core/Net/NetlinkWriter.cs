using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>
/// Builds one rtnetlink request in a caller's buffer: nlmsghdr, a family header (ifinfomsg, ifaddrmsg,
/// rtmsg), then rtattr TLVs. Every part starts 4-byte aligned (NLMSG_ALIGN / RTA_ALIGN) and padding is zero.
/// </summary>
/// <remarks>
/// Layout (&lt;linux/netlink.h&gt;, &lt;linux/rtnetlink.h&gt;; host byte order except addresses):
/// <code>
/// +----------------------+------------------------+---------+----------------------+-----+
/// | nlmsghdr (16 bytes)  | family header, aligned | rtattr  | value, pad to 4      | ... |
/// | len type flags seq pid |                      | len type|                      |     |
/// +----------------------+------------------------+---------+----------------------+-----+
/// </code>
/// </remarks>
internal ref struct NetlinkWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    /// <summary>Starts a message; <paramref name="buffer"/> is cleared so padding is zero.</summary>
    public NetlinkWriter(Span<byte> buffer, ushort type, ushort flags, uint sequence)
    {
        buffer.Clear();
        _buffer = buffer;
        var header = new Libc.nlmsghdr { nlmsg_type = type, nlmsg_flags = flags, nlmsg_seq = sequence };
        MemoryMarshal.Write(_buffer, in header);
        _length = Libc.NLMSG_HDRLEN;
    }

    /// <summary>Appends the fixed family header (ifinfomsg, ifaddrmsg, rtmsg).</summary>
    public void WriteFamilyHeader<T>(in T value)
        where T : unmanaged
    {
        MemoryMarshal.Write(_buffer[_length..], in value);
        _length += Libc.NLMSG_ALIGN(Unsafe.SizeOf<T>());
    }

    /// <summary>Appends an attribute with a raw value (addresses: network byte order).</summary>
    public void WriteAttribute(ushort type, scoped ReadOnlySpan<byte> value)
    {
        var attribute = new Libc.rtattr { rta_len = (ushort)Libc.RTA_LENGTH(value.Length), rta_type = type };
        MemoryMarshal.Write(_buffer[_length..], in attribute);
        value.CopyTo(_buffer[(_length + Libc.RTA_LENGTH(0))..]);
        _length += Libc.RTA_SPACE(value.Length);
    }

    /// <summary>Appends a u32 attribute in host byte order (IFLA_MTU, RTA_OIF, RTA_TABLE, ...).</summary>
    public void WriteAttribute(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(uint)];
        MemoryMarshal.Write(bytes, in value);
        WriteAttribute(type, bytes);
    }

    /// <summary>Appends a NUL-terminated ASCII string attribute (IFLA_IFNAME).</summary>
    public void WriteAttribute(ushort type, string value)
    {
        Span<byte> bytes = stackalloc byte[value.Length + 1];
        bytes[Encoding.ASCII.GetBytes(value, bytes)] = 0;
        WriteAttribute(type, bytes);
    }

    /// <summary>Writes nlmsg_len and returns the message length.</summary>
    public readonly int Finish()
    {
        MemoryMarshal.Write(_buffer, (uint)_length);
        return _length;
    }
}
