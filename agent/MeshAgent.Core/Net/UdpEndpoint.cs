using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>
/// A UDP address and port as a value (no allocation), for batch IO. IPv4-mapped IPv6 addresses
/// (what a dual-stack socket reports for IPv4 peers) are normalized to IPv4, so one peer has one endpoint.
/// </summary>
public readonly struct UdpEndpoint : IEquatable<UdpEndpoint>
{
    // The 16 address bytes in network order, kept as two raw words (IPv4 uses the first 4 bytes).
    private readonly ulong _address0;
    private readonly ulong _address1;

    public UdpEndpoint(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, ushort.MaxValue);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        address.TryWriteBytes(bytes, out _);
        _address0 = MemoryMarshal.Read<ulong>(bytes);
        _address1 = MemoryMarshal.Read<ulong>(bytes[8..]);
        IsIPv6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        ScopeId = IsIPv6 ? (uint)address.ScopeId : 0;
        Port = (ushort)port;
    }

    private UdpEndpoint(ReadOnlySpan<byte> address, bool isIPv6, ushort port, uint scopeId)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        address.CopyTo(bytes);
        _address0 = MemoryMarshal.Read<ulong>(bytes);
        _address1 = MemoryMarshal.Read<ulong>(bytes[8..]);
        IsIPv6 = isIPv6;
        Port = port;
        ScopeId = scopeId;
    }

    public bool IsIPv6 { get; }

    // The first 4 address bytes as they lie in memory (network order), independent of host endianness.
    private uint IPv4Word => MemoryMarshal.Read<uint>(MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(in _address0)));

    public ushort Port { get; }

    /// <summary>IPv6 scope (interface index) for link-local addresses; 0 otherwise.</summary>
    public uint ScopeId { get; }

    /// <summary>The default value: no address (IPv4 0.0.0.0, port 0).</summary>
    public bool IsEmpty => _address0 == 0 && _address1 == 0 && Port == 0 && !IsIPv6;

    public static UdpEndpoint FromIPEndPoint(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        return new UdpEndpoint(endPoint.Address, endPoint.Port);
    }

    /// <summary>Writes the address bytes (4 or 16, network order); returns how many.</summary>
    public int WriteAddressBytes(Span<byte> destination)
    {
        int length = IsIPv6 ? 16 : 4;
        Span<byte> bytes = stackalloc byte[16];
        MemoryMarshal.Write(bytes, in _address0);
        MemoryMarshal.Write(bytes[8..], in _address1);
        bytes[..length].CopyTo(destination);
        return length;
    }

    /// <summary>Allocates: for logs and the control plane, not per packet.</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        int length = WriteAddressBytes(bytes);
        return IsIPv6 ? new IPAddress(bytes[..length], ScopeId) : new IPAddress(bytes[..length]);
    }

    /// <summary>Allocates: for logs and the control plane, not per packet.</summary>
    public IPEndPoint ToIPEndPoint() => new(ToIPAddress(), Port);

    public bool Equals(UdpEndpoint other) =>
        _address0 == other._address0 && _address1 == other._address1 && Port == other.Port &&
        IsIPv6 == other.IsIPv6 && ScopeId == other.ScopeId;

    public override bool Equals(object? obj) => obj is UdpEndpoint other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_address0, _address1, Port, IsIPv6, ScopeId);

    public static bool operator ==(UdpEndpoint left, UdpEndpoint right) => left.Equals(right);

    public static bool operator !=(UdpEndpoint left, UdpEndpoint right) => !left.Equals(right);

    public override string ToString() => ToIPEndPoint().ToString();

    /// <summary>
    /// Encodes as the sockaddr a socket of <paramref name="socketFamily"/> expects: sockaddr_in for AF_INET,
    /// sockaddr_in6 for AF_INET6 (IPv4 as ::ffff:a.b.c.d). Returns the length, or 0 if an IPv6 endpoint
    /// cannot be sent from an AF_INET socket.
    /// </summary>
    internal unsafe uint WriteSockaddr(Libc.sockaddr_in6* storage, int socketFamily)
    {
        if (socketFamily == Libc.AF_INET)
        {
            if (IsIPv6)
            {
                return 0;
            }

            var v4 = (Libc.sockaddr_in*)storage;
            *v4 = default;
            v4->sin_family = Libc.AF_INET;
            v4->sin_port = NetworkOrder(Port);
            v4->sin_addr = IPv4Word;
            return (uint)sizeof(Libc.sockaddr_in);
        }

        *storage = default;
        storage->sin6_family = Libc.AF_INET6;
        storage->sin6_port = NetworkOrder(Port);
        var address = new Span<byte>(storage->sin6_addr, 16);
        if (IsIPv6)
        {
            MemoryMarshal.Write(address, in _address0);
            MemoryMarshal.Write(address[8..], in _address1);
            storage->sin6_scope_id = ScopeId;
        }
        else
        {
            address[10] = 0xff;
            address[11] = 0xff;
            MemoryMarshal.Write(address[12..], IPv4Word);
        }

        return (uint)sizeof(Libc.sockaddr_in6);
    }

    /// <summary>Decodes a sockaddr_in / sockaddr_in6 the kernel wrote. Returns false (never throws) for anything else.</summary>
    internal static unsafe bool TryReadSockaddr(void* storage, uint length, out UdpEndpoint endpoint)
    {
        ushort family = *(ushort*)storage;
        if (family == Libc.AF_INET && length >= sizeof(Libc.sockaddr_in))
        {
            var v4 = (Libc.sockaddr_in*)storage;
            uint address = v4->sin_addr;
            endpoint = new UdpEndpoint(new ReadOnlySpan<byte>(&address, 4), isIPv6: false, NetworkOrder(v4->sin_port), 0);
            return true;
        }

        if (family == Libc.AF_INET6 && length >= sizeof(Libc.sockaddr_in6))
        {
            var v6 = (Libc.sockaddr_in6*)storage;
            var address = new ReadOnlySpan<byte>(v6->sin6_addr, 16);
            ushort port = NetworkOrder(v6->sin6_port);
            bool mapped = address[..10].IndexOfAnyExcept((byte)0) < 0 && address[10] == 0xff && address[11] == 0xff;
            endpoint = mapped
                ? new UdpEndpoint(address[12..], isIPv6: false, port, 0)
                : new UdpEndpoint(address, isIPv6: true, port, v6->sin6_scope_id);
            return true;
        }

        endpoint = default;
        return false;
    }

    // Host <-> network byte order for a 16-bit port (the swap is its own inverse).
    private static ushort NetworkOrder(ushort value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;
}
