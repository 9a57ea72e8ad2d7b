using System.Buffers.Binary;
using MeshAgent.Core.Net;
using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Stun;

/// <summary>
/// MAPPED-ADDRESS (RFC 8489 §14.1) and XOR-MAPPED-ADDRESS (§14.2) values:
/// <code>
///  0                   1                   2                   3
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |0 0 0 0 0 0 0 0|    Family     |         (X-)Port              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |             (X-)Address (32 bits IPv4 or 128 bits IPv6)       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// Family 0x01 = IPv4 (value 8 bytes), 0x02 = IPv6 (value 20 bytes). The XOR form hides the
/// address from NATs that rewrite addresses they find in payloads (§14.2): X-Port is the port XOR
/// the cookie's top 16 bits, an IPv4 X-Address is XOR the cookie, an IPv6 one XOR cookie ‖ transaction id.
/// </summary>
internal static class StunAddressCodec
{
    public const byte FamilyIPv4 = 0x01;
    public const byte FamilyIPv6 = 0x02;
    public const int IPv4ValueSize = 8;
    public const int IPv6ValueSize = 20;

    /// <summary>Decodes a value; false (never throws) for a wrong length or family.</summary>
    /// <param name="xorKey">Cookie ‖ transaction id (16 bytes, the message's bytes 4–20) for the XOR form; empty for MAPPED-ADDRESS.</param>
    public static bool TryDecode(ReadOnlySpan<byte> value, ReadOnlySpan<byte> xorKey, out UdpEndpoint endpoint)
    {
        endpoint = default;
        if (value.Length < 4)
        {
            return false;
        }

        int addressLength = value[1] switch
        {
            FamilyIPv4 when value.Length == IPv4ValueSize => 4,
            FamilyIPv6 when value.Length == IPv6ValueSize => 16,
            _ => 0,
        };
        if (addressLength == 0)
        {
            return false;
        }

        ushort port = BinaryPrimitives.ReadUInt16BigEndian(value[2..]);
        Span<byte> address = stackalloc byte[16];
        value.Slice(4, addressLength).CopyTo(address);
        if (!xorKey.IsEmpty)
        {
            port ^= BinaryPrimitives.ReadUInt16BigEndian(xorKey);
            for (int i = 0; i < addressLength; i++)
            {
                address[i] ^= xorKey[i];
            }
        }

        endpoint = ToUdpEndpoint(address[..addressLength], port);
        return true;
    }

    /// <summary>Value size for <paramref name="endpoint"/>: 8 (IPv4) or 20 (IPv6).</summary>
    public static int ValueSize(in UdpEndpoint endpoint) => endpoint.IsIPv6 ? IPv6ValueSize : IPv4ValueSize;

    /// <summary>Writes <see cref="ValueSize"/> bytes; <paramref name="xorKey"/> as in <see cref="TryDecode"/>.</summary>
    public static void Encode(in UdpEndpoint endpoint, ReadOnlySpan<byte> xorKey, Span<byte> destination)
    {
        Span<byte> address = stackalloc byte[16];
        int addressLength = endpoint.WriteAddressBytes(address);
        ushort port = endpoint.Port;
        if (!xorKey.IsEmpty)
        {
            port ^= BinaryPrimitives.ReadUInt16BigEndian(xorKey);
            for (int i = 0; i < addressLength; i++)
            {
                address[i] ^= xorKey[i];
            }
        }

        destination[0] = 0;
        destination[1] = addressLength == 4 ? FamilyIPv4 : FamilyIPv6;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], port);
        address[..addressLength].CopyTo(destination[4..]);
    }

    /// <summary>
    /// Builds the endpoint without an <see cref="System.Net.IPAddress"/> (which would allocate on the
    /// parse path): UdpEndpoint's only allocation-free constructor is the sockaddr decoder, so the
    /// address goes through a sockaddr_in6 on the stack. An IPv4 address is written as
    /// ::ffff:a.b.c.d, which the decoder normalizes back to IPv4, as it does for an IPv6
    /// XOR-MAPPED-ADDRESS that happens to hold an IPv4-mapped address.
    /// </summary>
    private static unsafe UdpEndpoint ToUdpEndpoint(ReadOnlySpan<byte> address, ushort port)
    {
        Libc.sockaddr_in6 storage = default;
        storage.sin6_family = Libc.AF_INET6;
        storage.sin6_port = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(port) : port;
        var bytes = new Span<byte>(storage.sin6_addr, 16);
        if (address.Length == 4)
        {
            bytes[10] = 0xff;
            bytes[11] = 0xff;
            address.CopyTo(bytes[12..]);
        }
        else
        {
            address.CopyTo(bytes);
        }

        UdpEndpoint.TryReadSockaddr(&storage, (uint)sizeof(Libc.sockaddr_in6), out UdpEndpoint endpoint);
        return endpoint;
    }
}
