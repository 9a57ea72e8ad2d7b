using System.Net;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Net;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Tests.WireGuard;

public sealed class RelayedEndpointTests
{
    [Fact]
    public void Relay_and_slot_round_trip_through_both_endpoint_forms()
    {
        Check.QuickThrowOnFailure(Prop.ForAll<ushort, uint>((relay, slot) =>
        {
            IPEndPoint ip = RelayedEndpoint.Create(relay, slot);
            var peer = new PeerEndpoint(ip);
            return RelayedEndpoint.TryRead(ip, out ushort r1, out uint s1) && r1 == relay && s1 == slot
                && RelayedEndpoint.TryRead(UdpEndpoint.FromIPEndPoint(ip), out ushort r2, out uint s2) && r2 == relay && s2 == slot
                && peer.IsRelayed && new PeerEndpoint(peer.Udp).IsRelayed;
        }));
    }

    [Fact]
    public void The_synthetic_address_is_in_the_rfc6666_discard_prefix()
    {
        IPEndPoint ip = RelayedEndpoint.Create(0, 1);
        Assert.True(IPNetwork.Parse("100::/64").Contains(ip.Address), ip.ToString());
    }

    [Theory]
    [InlineData("192.0.2.1", 1)]
    [InlineData("::ffff:192.0.2.1", 1)]
    [InlineData("2001:db8::1", 1)]
    [InlineData("100::1", 41820)]     // the prefix, another port
    [InlineData("100::1:0:1", 1)]     // the prefix, reserved bits (bytes 10–11) set
    [InlineData("100:0:0:1::1", 1)]   // outside the /64
    public void Real_endpoints_are_never_taken_for_relayed_ones(string address, int port)
    {
        var ip = new IPEndPoint(IPAddress.Parse(address), port);
        Assert.False(RelayedEndpoint.TryRead(ip, out _, out _));
        Assert.False(RelayedEndpoint.TryRead(UdpEndpoint.FromIPEndPoint(ip), out _, out _));
        Assert.False(new PeerEndpoint(ip).IsRelayed);
    }

    [Fact]
    public void Reading_a_udp_endpoint_allocates_nothing()
    {
        UdpEndpoint relayed = UdpEndpoint.FromIPEndPoint(RelayedEndpoint.Create(3, 77));
        UdpEndpoint direct = UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 1));
        RelayedEndpoint.TryRead(relayed, out _, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int hits = 0;
        for (int i = 0; i < 10_000; i++)
        {
            hits += RelayedEndpoint.TryRead(relayed, out _, out _) ? 1 : 0;
            hits += RelayedEndpoint.TryRead(direct, out _, out _) ? 1 : 0;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_000, hits);
    }
}
