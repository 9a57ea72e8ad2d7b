using System.Net;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Net;
using Xunit;
using Libc = MeshAgent.Core.Interop.Linux.Interop.Libc;

namespace MeshAgent.Tests.Interop;

public sealed class UdpEndpointTests
{
    [Fact]
    public unsafe void Ipv4_encodes_as_sockaddr_in_in_network_order()
    {
        var endpoint = new UdpEndpoint(IPAddress.Parse("192.0.2.10"), 51820);
        Libc.sockaddr_in6 storage;
        Assert.Equal((uint)sizeof(Libc.sockaddr_in), endpoint.WriteSockaddr(&storage, Libc.AF_INET));

        var bytes = new ReadOnlySpan<byte>(&storage, sizeof(Libc.sockaddr_in)).ToArray();
        Assert.Equal(new byte[] { 2, 0, 0xCA, 0x6C, 192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0 }, bytes);
        Assert.True(UdpEndpoint.TryReadSockaddr(&storage, (uint)sizeof(Libc.sockaddr_in), out UdpEndpoint decoded));
        Assert.Equal(endpoint, decoded);
    }

    [Fact]
    public unsafe void Ipv4_on_a_dual_stack_socket_is_v4_mapped_and_decodes_back_to_ipv4()
    {
        var endpoint = new UdpEndpoint(IPAddress.Parse("192.0.2.10"), 51820);
        Libc.sockaddr_in6 storage;
        Assert.Equal((uint)sizeof(Libc.sockaddr_in6), endpoint.WriteSockaddr(&storage, Libc.AF_INET6));
        Assert.Equal(
            new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10 },
            new ReadOnlySpan<byte>(storage.sin6_addr, 16).ToArray());

        Assert.True(UdpEndpoint.TryReadSockaddr(&storage, (uint)sizeof(Libc.sockaddr_in6), out UdpEndpoint decoded));
        Assert.False(decoded.IsIPv6);
        Assert.Equal(endpoint, decoded);
        Assert.Equal(new UdpEndpoint(IPAddress.Parse("::ffff:192.0.2.10"), 51820), endpoint);
    }

    [Fact]
    public unsafe void Ipv6_cannot_be_sent_from_an_ipv4_socket()
    {
        var endpoint = new UdpEndpoint(IPAddress.IPv6Loopback, 1);
        Libc.sockaddr_in6 storage;
        Assert.Equal(0u, endpoint.WriteSockaddr(&storage, Libc.AF_INET));
    }

    [Fact]
    public unsafe void Unknown_or_short_sockaddrs_are_rejected_without_throwing()
    {
        Libc.sockaddr_in6 storage = default;
        storage.sin6_family = Libc.AF_NETLINK;
        Assert.False(UdpEndpoint.TryReadSockaddr(&storage, (uint)sizeof(Libc.sockaddr_in6), out _));
        storage.sin6_family = Libc.AF_INET6;
        Assert.False(UdpEndpoint.TryReadSockaddr(&storage, 20, out _));
        storage.sin6_family = Libc.AF_INET;
        Assert.False(UdpEndpoint.TryReadSockaddr(&storage, 8, out _));
    }

    [Fact]
    public unsafe void Sockaddr_round_trips_any_address_and_port()
    {
        Gen<byte[]> addressBytes = Gen.OneOf(
            Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 4),
            Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 16));
        Gen<(byte[] Address, ushort Port, bool DualStack)> cases =
            from address in addressBytes
            from port in ArbMap.Default.GeneratorFor<ushort>()
            from dual in ArbMap.Default.GeneratorFor<bool>()
            select (address, port, dual);

        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(cases), c =>
        {
            var endpoint = new UdpEndpoint(new IPAddress(c.Address), c.Port);
            int family = endpoint.IsIPv6 || c.DualStack ? Libc.AF_INET6 : Libc.AF_INET;
            Libc.sockaddr_in6 storage;
            uint length = endpoint.WriteSockaddr(&storage, family);
            return UdpEndpoint.TryReadSockaddr(&storage, length, out UdpEndpoint decoded)
                && decoded == endpoint
                && decoded.ToIPEndPoint().Equals(new IPEndPoint(new IPAddress(c.Address).IsIPv4MappedToIPv6 ? new IPAddress(c.Address).MapToIPv4() : new IPAddress(c.Address), c.Port));
        }));
    }

    [Fact]
    public void Equality_and_text()
    {
        var a = new UdpEndpoint(IPAddress.Parse("2001:db8::1"), 443);
        Assert.Equal(a, UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::1]:443")));
        Assert.NotEqual(a, new UdpEndpoint(IPAddress.Parse("2001:db8::1"), 444));
        Assert.NotEqual(new UdpEndpoint(IPAddress.Parse("0.0.0.1"), 1), new UdpEndpoint(IPAddress.Parse("::1"), 1));
        Assert.Equal("[2001:db8::1]:443", a.ToString());
        Assert.True(default(UdpEndpoint).IsEmpty);
    }
}
