using System.Net;
using MeshAgent.Engine.Routing;
using MeshAgent.Tests.Net;
using Xunit;

namespace MeshAgent.Tests.Routing;

public class AllowedIpsTableTests
{
    private sealed class Peer(string name)
    {
        public override string ToString() => name;
    }

    private static readonly Peer A = new("a");
    private static readonly Peer B = new("b");
    private static readonly Peer C = new("c");
    private static readonly Peer D = new("d");
    private static readonly Peer E = new("e");

    private static IPNetwork P(string text) => IPNetwork.Parse(text);

    private static Peer? Find(AllowedIpsTable<Peer> table, string address) => table.Lookup(IPAddress.Parse(address).GetAddressBytes());

    [Fact]
    public void EmptyTableMatchesNothing()
    {
        AllowedIpsTable<Peer> table = AllowedIpsTable<Peer>.Empty;
        Assert.Null(Find(table, "10.0.0.1"));
        Assert.Null(Find(table, "::"));
        Assert.Equal(0, table.Count);
        Assert.Null(new AllowedIpsTable<Peer>.Builder().Build().LookupDestination(IpPacketTests.IPv4("1.1.1.1", "2.2.2.2")));
    }

    [Fact]
    public void LongestPrefixWinsForIPv4()
    {
        AllowedIpsTable<Peer> table = new AllowedIpsTable<Peer>.Builder()
            .Add(P("192.168.4.0/24"), A)
            .Add(P("192.168.4.4/32"), B)
            .Add(P("192.168.0.0/16"), C)
            .Add(P("192.95.5.64/27"), D)
            .Add(P("192.95.5.64/27"), C) // same prefix again: the owner moves to C
            .Add(P("0.0.0.0/0"), E)
            .Build();

        Assert.Equal(A, Find(table, "192.168.4.20"));
        Assert.Equal(B, Find(table, "192.168.4.4"));
        Assert.Equal(C, Find(table, "192.168.200.182"));
        Assert.Equal(C, Find(table, "192.95.5.68"));
        Assert.Equal(E, Find(table, "192.95.5.96"));
        Assert.Equal(E, Find(table, "8.8.8.8"));
        Assert.Null(Find(table, "::1"));
        Assert.Empty(table.EntriesFor(D));
        Assert.Equal(5, table.Count);
    }

    [Fact]
    public void LongestPrefixWinsForIPv6()
    {
        AllowedIpsTable<Peer> table = new AllowedIpsTable<Peer>.Builder()
            .Add(P("2607:5300:6000:6b00::c05f:543/128"), D)
            .Add(P("2607:5300:6000:6b00::/64"), C)
            .Add(P("2607:5300::/32"), B)
            .Add(P("::/0"), A)
            .Add(P("2404:6800::/32"), E)
            .Build();

        Assert.Equal(D, Find(table, "2607:5300:6000:6b00::c05f:543"));
        Assert.Equal(C, Find(table, "2607:5300:6000:6b00::c02e:1ee"));
        Assert.Equal(B, Find(table, "2607:5300:6000:6b01::1"));
        Assert.Equal(E, Find(table, "2404:6800:4004:807::200e"));
        Assert.Equal(A, Find(table, "2404:6801::1"));
        Assert.Equal(A, Find(table, "::"));
        Assert.Null(Find(table, "10.0.0.1"));
    }

    [Fact]
    public void FamiliesAreSeparateEvenForMappedAddresses()
    {
        AllowedIpsTable<Peer> table = new AllowedIpsTable<Peer>.Builder()
            .Add(P("0.0.0.0/0"), A)
            .Add(P("::ffff:0:0/96"), B)
            .Build();

        Assert.Equal(A, Find(table, "10.0.0.1"));
        Assert.Equal(B, Find(table, "::ffff:10.0.0.1"));
        Assert.Null(Find(table, "2001:db8::1"));
    }

    [Fact]
    public void HostRoutesAndDivergingSiblings()
    {
        AllowedIpsTable<Peer> table = new AllowedIpsTable<Peer>.Builder()
            .Add(P("10.0.0.1/32"), A)
            .Add(P("10.0.0.2/32"), B)
            .Add(P("10.0.0.0/31"), C)
            .Add(P("255.255.255.255/32"), D)
            .Add(P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), E)
            .Add(P("::1/128"), A)
            .Build();

        Assert.Equal(A, Find(table, "10.0.0.1"));
        Assert.Equal(B, Find(table, "10.0.0.2"));
        Assert.Equal(C, Find(table, "10.0.0.0"));
        Assert.Null(Find(table, "10.0.0.3"));
        Assert.Equal(D, Find(table, "255.255.255.255"));
        Assert.Null(Find(table, "255.255.255.254"));
        Assert.Equal(E, Find(table, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
        Assert.Null(Find(table, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
        Assert.Equal(A, Find(table, "::1"));
        Assert.Null(Find(table, "::"));

        // Six prefixes need at most 2·6−2 nodes (one branch per divergence, per family).
        Assert.InRange(table.NodeCount, 6, 10);
    }

    [Fact]
    public void HostBitsAreMaskedLikeWireGuard()
    {
        AllowedIpsTable<Peer> table = new AllowedIpsTable<Peer>.Builder()
            .Add(IPAddress.Parse("10.1.2.3"), 8, A)
            .Add(IPAddress.Parse("fd00::1:2:3"), 64, B)
            .Build();

        Assert.Equal([P("10.0.0.0/8")], table.EntriesFor(A));
        Assert.Equal([P("fd00::/64")], table.EntriesFor(B));
        Assert.Equal(A, Find(table, "10.200.0.1"));
    }

    [Fact]
    public void RemoveRemovePeerAndConditionalRemove()
    {
        var builder = new AllowedIpsTable<Peer>.Builder()
            .Add(P("10.0.0.0/8"), A)
            .Add(P("10.1.0.0/16"), B)
            .Add(P("10.1.1.0/24"), B)
            .Add(P("fd00::/8"), B)
            .Add(P("192.168.0.0/16"), C);

        Assert.False(builder.Remove(P("192.168.0.0/16"), A)); // owned by C: untouched
        Assert.True(builder.Remove(P("192.168.0.0/16"), C));
        Assert.False(builder.Remove(P("192.168.0.0/16")));
        Assert.Equal(3, builder.RemovePeer(B));
        Assert.Equal(0, builder.RemovePeer(B));

        AllowedIpsTable<Peer> table = builder.Build();
        Assert.Equal(A, Find(table, "10.1.1.1"));
        Assert.Null(Find(table, "fd00::1"));
        Assert.Null(Find(table, "192.168.1.1"));
        Assert.Empty(table.EntriesFor(B));
        Assert.Equal(1, table.Count);

        Assert.True(builder.Remove(P("10.0.0.0/8")));
        Assert.Null(Find(builder.Build(), "10.1.1.1"));
    }

    [Fact]
    public void BuiltTablesAreImmutableSnapshots()
    {
        var builder = new AllowedIpsTable<Peer>.Builder().Add(P("10.0.0.0/8"), A);
        AllowedIpsTable<Peer> first = builder.Build();

        builder.Add(P("10.0.0.0/8"), B).Add(P("fd00::/8"), C);
        AllowedIpsTable<Peer> second = builder.Build();
        builder.Clear();

        Assert.Equal(A, Find(first, "10.1.1.1"));
        Assert.Null(Find(first, "fd00::1"));
        Assert.Equal(B, Find(second, "10.1.1.1"));
        Assert.Equal(C, Find(second, "fd00::1"));
        Assert.Equal(0, builder.Build().Count);

        AllowedIpsTable<Peer> copy = second.ToBuilder().Add(P("10.2.0.0/16"), D).Build();
        Assert.Equal(D, Find(copy, "10.2.3.4"));
        Assert.Equal(B, Find(copy, "10.3.3.4"));
        Assert.Equal(B, Find(second, "10.2.3.4"));
    }

    [Fact]
    public void EntriesForKeepsInsertionOrderAndMovedPrefixesGoLast()
    {
        AllowedIpsTable<Peer> table = new AllowedIpsTable<Peer>.Builder()
            .Add(P("10.3.0.0/16"), A)
            .Add(P("fd00::/64"), A)
            .Add(P("10.1.0.0/16"), A)
            .Add(P("10.9.0.0/16"), B)
            .Add(P("10.9.0.0/16"), A)
            .Build();

        Assert.Equal([P("10.3.0.0/16"), P("fd00::/64"), P("10.1.0.0/16"), P("10.9.0.0/16")], table.EntriesFor(A));
        Assert.Empty(table.EntriesFor(B));
        Assert.Empty(table.EntriesFor(E));
        Assert.All(table.Entries, e => Assert.Same(A, e.Peer));
    }

    [Fact]
    public void PeersAreComparedByReference()
    {
        var twin = new Peer("a");
        AllowedIpsTable<Peer> table = new AllowedIpsTable<Peer>.Builder().Add(P("10.0.0.0/8"), A).Build();
        Assert.Empty(table.EntriesFor(twin));
        Assert.False(table.IsAllowedSource(IpPacketTests.IPv4("10.0.0.1", "10.9.9.9"), twin));
        Assert.True(table.IsAllowedSource(IpPacketTests.IPv4("10.0.0.1", "10.9.9.9"), A));
    }

    [Fact]
    public void PacketLookupsUseTheRightAddress()
    {
        AllowedIpsTable<Peer> table = new AllowedIpsTable<Peer>.Builder()
            .Add(P("10.0.0.2/32"), A)
            .Add(P("10.0.0.0/24"), B)
            .Add(P("fd00::2/128"), C)
            .Build();

        byte[] outbound = IpPacketTests.IPv4("10.0.0.1", "10.0.0.2", payload: 8);
        Assert.Equal(A, table.LookupDestination(outbound));
        Assert.Equal(B, table.LookupSource(outbound));
        Assert.True(table.IsAllowedSource(outbound, B));
        Assert.False(table.IsAllowedSource(outbound, A)); // A sending from B's address: spoofed

        byte[] v6 = IpPacketTests.IPv6("fd00::2", "fd00::9");
        Assert.Equal(C, table.LookupSource(v6));
        Assert.Null(table.LookupDestination(v6));
        Assert.True(table.IsAllowedSource(v6, C));
    }

    [Fact]
    public void MalformedInputIsNullNeverAnException()
    {
        AllowedIpsTable<Peer> table = new AllowedIpsTable<Peer>.Builder().Add(P("0.0.0.0/0"), A).Add(P("::/0"), A).Build();
        byte[] packet = IpPacketTests.IPv4("10.0.0.1", "10.0.0.2");

        Assert.Null(table.Lookup([]));
        Assert.Null(table.Lookup(new byte[5]));
        Assert.Null(table.Lookup(new byte[15]));
        Assert.Null(table.LookupDestination([]));
        Assert.Null(table.LookupDestination(packet.AsSpan(0, 19)));
        Assert.Null(table.LookupSource([0x60, 0, 0]));
        Assert.False(table.IsAllowedSource(packet.AsSpan(0, 10), A));
        Assert.False(table.IsAllowedSource(packet, null!));
        Assert.Equal(A, table.LookupDestination(packet));
    }

    [Fact]
    public void BuilderRejectsNullPeersAndBadLengths()
    {
        var builder = new AllowedIpsTable<Peer>.Builder();
        Assert.Throws<ArgumentNullException>(() => builder.Add(P("10.0.0.0/8"), null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Add(IPAddress.Loopback, 33, A));
    }
}
