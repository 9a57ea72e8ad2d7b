using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Net;

namespace MeshAgent.Engine.WireGuard;

/// <summary>
/// Synthetic UDP endpoints that stand for "this peer, through relay R" (DESIGN §5), so a relayed path is just
/// another endpoint to the WireGuard engine: roaming, handshakes and the data plane's routing keep working
/// unchanged, and only the two places that put datagrams on the wire (the data plane's send path and
/// <c>UdpOutsideSender</c>) recognise these and hand the datagram to the relay instead.
/// <code>
///   address = 0100:0000:0000:0000 : relay (16 bits) : 0000 : slot (32 bits)      port = 1
///             └ RFC 6666 discard-only prefix 100::/64: never a real peer address, and dropped by routers
///               if one ever leaked onto the wire
/// </code>
/// A slot names one (relay, member) pair; the runtime owns the slot table.
/// </summary>
public static class RelayedEndpoint
{
    private const ushort PrefixWord = 0x0100;
    private const ushort SyntheticPort = 1;

    /// <summary>The endpoint for <paramref name="slot"/> through relay number <paramref name="relay"/>.</summary>
    public static IPEndPoint Create(ushort relay, uint slot)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(bytes, PrefixWord);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[8..], relay);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[12..], slot);
        return new IPEndPoint(new IPAddress(bytes), SyntheticPort);
    }

    /// <summary>True when <paramref name="endpoint"/> is synthetic; then <paramref name="relay"/> and <paramref name="slot"/> say which. No allocation.</summary>
    public static bool TryRead(in UdpEndpoint endpoint, out ushort relay, out uint slot)
    {
        relay = 0;
        slot = 0;
        if (!endpoint.IsIPv6 || endpoint.Port != SyntheticPort)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        endpoint.WriteAddressBytes(bytes);
        return Decode(bytes, out relay, out slot);
    }

    /// <summary>As <see cref="TryRead(in UdpEndpoint, out ushort, out uint)"/> for the control plane's form.</summary>
    public static bool TryRead(IPEndPoint endpoint, out ushort relay, out uint slot)
    {
        relay = 0;
        slot = 0;
        if (endpoint.AddressFamily != AddressFamily.InterNetworkV6 || endpoint.Port != SyntheticPort)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        return endpoint.Address.TryWriteBytes(bytes, out _) && Decode(bytes, out relay, out slot);
    }

    private static bool Decode(ReadOnlySpan<byte> bytes, out ushort relay, out uint slot)
    {
        relay = BinaryPrimitives.ReadUInt16BigEndian(bytes[8..]);
        slot = BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes) == (ulong)PrefixWord << 48
            && BinaryPrimitives.ReadUInt16BigEndian(bytes[10..]) == 0;
    }
}

/// <summary>
/// Puts one sealed WireGuard datagram on a relayed path (<see cref="RelayedEndpoint"/>). borrowed: datagram, for the
/// call only. Called from data-plane threads and the engine's control thread: must not block and must be thread-safe.
/// </summary>
public delegate void RelayedDatagramSender(ushort relay, uint slot, ReadOnlySpan<byte> datagram);
