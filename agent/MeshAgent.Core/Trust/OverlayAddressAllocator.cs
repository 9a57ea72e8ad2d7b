using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Net;

namespace MeshAgent.Core.Trust;

/// <summary>
/// Picks the overlay addresses an admin writes into a new certificate. IPv4: the lowest free address of
/// the network's CIDR (default <c>100.96.0.0/16</c>, inside the RFC 6598 shared space that home LANs do not
/// use), skipping only the CIDR's own network and broadcast addresses. IPv6: the prefix (default a ULA
/// /64 derived from the root key) followed by host bits hashed from the node key, so a node's IPv6 address
/// is the same whichever admin admits it.
/// </summary>
/// <remarks>
/// Deterministic: the same inputs give the same addresses. Unique within <c>used</c>: the caller passes
/// every overlay address already in a certificate of the network (both families may be mixed). Admins
/// allocating concurrently can still collide on IPv4; the membership layer settles that, not this type.
/// </remarks>
public sealed class OverlayAddressAllocator
{
    public static IPNetwork DefaultIPv4Network { get; } = IPNetwork.Parse("100.96.0.0/16");

    // Domain labels for the hashes (BLAKE2s-256 of label ‖ key [‖ counter]).
    private static readonly byte[] UlaLabel = Encoding.ASCII.GetBytes("meshagent ula v1\0");
    private static readonly byte[] InterfaceIdLabel = Encoding.ASCII.GetBytes("meshagent overlay ipv6 v1\0");

    public OverlayAddressAllocator(IPNetwork ipv4Network, IPNetwork ipv6Prefix)
    {
        if (ipv4Network.BaseAddress?.AddressFamily != AddressFamily.InterNetwork || ipv4Network.PrefixLength > 30)
        {
            throw new ArgumentException($"the overlay IPv4 network must be an IPv4 CIDR of /30 or larger (got {ipv4Network})", nameof(ipv4Network));
        }

        if (ipv6Prefix.BaseAddress?.AddressFamily != AddressFamily.InterNetworkV6 || ipv6Prefix.PrefixLength > 64)
        {
            throw new ArgumentException($"the overlay IPv6 prefix must be an IPv6 prefix of /64 or larger, leaving at least 64 bits to hash the node key into (got {ipv6Prefix})", nameof(ipv6Prefix));
        }

        IPv4Network = ipv4Network;
        IPv6Prefix = ipv6Prefix;
    }

    public IPNetwork IPv4Network { get; }

    public IPNetwork IPv6Prefix { get; }

    /// <summary>The allocator for a network: its CIDR (default <see cref="DefaultIPv4Network"/>) and IPv6 prefix (default <see cref="DeriveIPv6Prefix"/>).</summary>
    public static OverlayAddressAllocator ForNetwork(NetworkRootPublicKey root, IPNetwork? ipv4Network = null, IPNetwork? ipv6Prefix = null) =>
        new(ipv4Network ?? DefaultIPv4Network, ipv6Prefix ?? DeriveIPv6Prefix(root));

    /// <summary>
    /// A unique local /64 (RFC 4193 §3.1: <c>fd</c> + 40-bit global ID + 16-bit subnet ID) whose 56 bits come
    /// from a hash of the root key instead of RFC 4193's random draw: as unlikely to clash with another
    /// network's, and every node computes it from the network key alone.
    /// </summary>
    public static IPNetwork DeriveIPv6Prefix(NetworkRootPublicKey root)
    {
        Span<byte> hash = stackalloc byte[Blake2s.HashSize];
        Blake2s.Hash(UlaLabel, root.AsSpan(), hash);
        Span<byte> address = stackalloc byte[16];
        address[0] = 0xfd;
        hash[..7].CopyTo(address[1..8]);
        return new IPNetwork(new IPAddress(address), 64);
    }

    /// <summary>Both addresses for <paramref name="node"/>; false only when the IPv4 network is full.</summary>
    public bool TryAllocate(NodePublicKey node, IEnumerable<IPAddress> used, [NotNullWhen(true)] out IPAddress? ipv4, out IPAddress? ipv6)
    {
        ArgumentNullException.ThrowIfNull(used);
        IPAddress[] usedList = [.. used];
        ipv6 = AllocateIPv6(node, usedList);
        return TryAllocateIPv4(usedList, out ipv4);
    }

    /// <summary>
    /// The lowest address of the CIDR not in <paramref name="used"/>, excluding the CIDR's first (network)
    /// and last (broadcast) address. False when every other address is taken. IPv6 entries are ignored.
    /// </summary>
    public bool TryAllocateIPv4(IEnumerable<IPAddress> used, [NotNullWhen(true)] out IPAddress? address)
    {
        ArgumentNullException.ThrowIfNull(used);
        address = null;
        var taken = new HashSet<uint>();
        foreach (IPAddress a in used)
        {
            if (a.AddressFamily == AddressFamily.InterNetwork)
            {
                taken.Add(ToUInt32(a));
            }
        }

        uint network = ToUInt32(IPv4Network.BaseAddress);
        uint broadcast = network | (uint)((1UL << (32 - IPv4Network.PrefixLength)) - 1);
        for (uint candidate = network + 1; candidate < broadcast; candidate++)
        {
            if (!taken.Contains(candidate))
            {
                Span<byte> bytes = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(bytes, candidate);
                address = new IPAddress(bytes);
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The prefix followed by host bits from BLAKE2s(label ‖ node key ‖ counter), counter = 0, 1, … until the
    /// address is not in <paramref name="used"/> and its host part is neither all zeros (RFC 4291 §2.6.1
    /// subnet-router anycast) nor all ones. With 64 or more host bits the first try practically always wins.
    /// </summary>
    public IPAddress AllocateIPv6(NodePublicKey node, IEnumerable<IPAddress> used)
    {
        ArgumentNullException.ThrowIfNull(used);
        var taken = new HashSet<IPAddress>(used.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6));
        Span<byte> prefix = stackalloc byte[16];
        IPv6Prefix.BaseAddress.TryWriteBytes(prefix, out _);
        Span<byte> input = stackalloc byte[NodePublicKey.Length + 4];
        node.AsSpan().CopyTo(input);
        Span<byte> hash = stackalloc byte[Blake2s.HashSize];
        Span<byte> candidate = stackalloc byte[16];
        int full = IPv6Prefix.PrefixLength >> 3, rest = IPv6Prefix.PrefixLength & 7;
        byte restMask = (byte)(0xFF << (8 - rest));
        for (uint counter = 0; ; counter++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(input[NodePublicKey.Length..], counter);
            Blake2s.Hash(InterfaceIdLabel, input, hash);
            hash[..16].CopyTo(candidate);
            prefix[..full].CopyTo(candidate); // prefix bits from the prefix, host bits from the hash
            if (rest != 0)
            {
                candidate[full] = (byte)((prefix[full] & restMask) | (candidate[full] & ~restMask));
            }

            if (HostBitsAreUniform(candidate))
            {
                continue;
            }

            var address = new IPAddress(candidate);
            if (!taken.Contains(address))
            {
                return address;
            }
        }
    }

    private bool HostBitsAreUniform(ReadOnlySpan<byte> address)
    {
        bool allZero = true, allOnes = true;
        for (int bit = IPv6Prefix.PrefixLength; bit < 128; bit++)
        {
            bool set = (address[bit >> 3] & (0x80 >> (bit & 7))) != 0;
            allZero &= !set;
            allOnes &= set;
        }

        return allZero || allOnes;
    }

    private static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }
}
