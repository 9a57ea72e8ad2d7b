using System.Buffers.Binary;
using System.Net;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Trust;
using static MeshAgent.Tests.Trust.TrustFixtures;

namespace MeshAgent.Tests.Trust;

public sealed class OverlayAddressAllocatorTests
{
    private static readonly NetworkRootPublicKey RootKey = Root().PublicKey;

    [Fact]
    public void IPv4_is_the_lowest_free_address_after_the_network_address()
    {
        OverlayAddressAllocator allocator = OverlayAddressAllocator.ForNetwork(RootKey);
        Assert.Equal(IPNetwork.Parse("100.96.0.0/16"), allocator.IPv4Network);
        Assert.True(allocator.TryAllocateIPv4([], out IPAddress? first));
        Assert.Equal(IPAddress.Parse("100.96.0.1"), first);

        Assert.True(allocator.TryAllocateIPv4([IPAddress.Parse("100.96.0.1"), IPAddress.Parse("100.96.0.3"), IPAddress.Parse("fd00::1")], out IPAddress? gap));
        Assert.Equal(IPAddress.Parse("100.96.0.2"), gap);

        // Only the CIDR's own network and broadcast addresses are skipped; x.y.z.255 inside a /16 is fine.
        IPAddress[] firstSubnetFull = [.. Enumerable.Range(1, 254).Select(i => IPAddress.Parse($"100.96.0.{i}"))];
        Assert.True(allocator.TryAllocateIPv4(firstSubnetFull, out IPAddress? dot255));
        Assert.Equal(IPAddress.Parse("100.96.0.255"), dot255);
    }

    [Fact]
    public void A_full_network_yields_no_address_and_never_its_network_or_broadcast_address()
    {
        var allocator = new OverlayAddressAllocator(IPNetwork.Parse("10.0.0.0/30"), IPNetwork.Parse("fd00::/64"));
        var used = new List<IPAddress>();
        while (allocator.TryAllocateIPv4(used, out IPAddress? next))
        {
            used.Add(next!);
        }

        Assert.Equal([IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2")], used);
        using NodeIdentity node = Node();
        Assert.False(allocator.TryAllocate(node.PublicKey, used, out IPAddress? v4, out IPAddress? v6));
        Assert.Null(v4);
        Assert.NotNull(v6);
    }

    [Fact]
    public void IPv4_allocation_matches_a_naive_scan()
    {
        var allocator = new OverlayAddressAllocator(IPNetwork.Parse("192.168.7.16/28"), IPNetwork.Parse("fd00::/64"));
        Gen<int[]> usedOffsets = Gen.SubListOf(Enumerable.Range(-2, 20).ToArray()).Select(l => l.ToArray());
        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(Arb.From(usedOffsets), (int[] offsets) =>
        {
            // Offsets from 192.168.7.16; some fall outside the /28 and must not matter.
            IPAddress[] used = [.. offsets.Select(o => Offset(192, 168, 7, 16, o))];
            IPAddress? naive = Enumerable.Range(1, 14).Select(o => Offset(192, 168, 7, 16, o)).FirstOrDefault(a => !used.Contains(a));
            Assert.Equal(naive is not null, allocator.TryAllocateIPv4(used, out IPAddress? actual));
            Assert.Equal(naive, actual);
        }));
    }

    [Fact]
    public void IPv6_prefix_is_a_ULA_64_derived_from_the_root_key()
    {
        IPNetwork prefix = OverlayAddressAllocator.DeriveIPv6Prefix(RootKey);
        Assert.Equal(64, prefix.PrefixLength);
        Assert.Equal(0xfd, prefix.BaseAddress.GetAddressBytes()[0]);
        Assert.Equal(prefix, OverlayAddressAllocator.DeriveIPv6Prefix(RootKey));
        Assert.NotEqual(prefix, OverlayAddressAllocator.DeriveIPv6Prefix(Root(2).PublicKey));
    }

    [Fact]
    public void IPv6_is_deterministic_per_node_inside_the_prefix_and_avoids_used_addresses()
    {
        OverlayAddressAllocator allocator = OverlayAddressAllocator.ForNetwork(RootKey);
        using NodeIdentity a = Node(1), b = Node(2);
        IPAddress first = allocator.AllocateIPv6(a.PublicKey, []);
        Assert.True(allocator.IPv6Prefix.Contains(first));
        Assert.Equal(first, allocator.AllocateIPv6(a.PublicKey, [IPAddress.Parse("100.96.0.1")]));
        Assert.NotEqual(first, allocator.AllocateIPv6(b.PublicKey, []));

        IPAddress second = allocator.AllocateIPv6(a.PublicKey, [first]);
        Assert.NotEqual(first, second);
        Assert.True(allocator.IPv6Prefix.Contains(second));
        Assert.Equal(second, allocator.AllocateIPv6(a.PublicKey, [first]));
        IPAddress third = allocator.AllocateIPv6(a.PublicKey, [first, second]);
        Assert.DoesNotContain(third, new[] { first, second });
    }

    [Theory]
    [InlineData("fd12:3456::/32")]
    [InlineData("fd12:3456:7800::/40")]
    [InlineData("2001:db8:1:2::/63")]
    public void IPv6_host_bits_fill_everything_after_a_shorter_prefix(string prefixText)
    {
        IPNetwork prefix = IPNetwork.Parse(prefixText);
        var allocator = new OverlayAddressAllocator(OverlayAddressAllocator.DefaultIPv4Network, prefix);
        var seen = new HashSet<IPAddress>();
        for (byte i = 0; i < 20; i++)
        {
            using NodeIdentity node = Node(i);
            IPAddress address = allocator.AllocateIPv6(node.PublicKey, []);
            Assert.True(prefix.Contains(address), $"{address} is outside {prefix}");
            Assert.True(seen.Add(address));
        }
    }

    [Theory]
    [InlineData("10.0.0.0/31", "fd00::/64")]
    [InlineData("fd00::/64", "fd00::/64")]
    [InlineData("10.0.0.0/16", "fd00::/65")]
    [InlineData("10.0.0.0/16", "10.0.0.0/8")]
    public void Unusable_networks_are_refused(string ipv4, string ipv6)
    {
        Assert.Throws<ArgumentException>(() => new OverlayAddressAllocator(IPNetwork.Parse(ipv4), IPNetwork.Parse(ipv6)));
    }

    private static IPAddress Offset(byte a, byte b, byte c, byte d, int offset)
    {
        uint value = (uint)((a << 24) | (b << 16) | (c << 8) | d) + (uint)offset;
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
