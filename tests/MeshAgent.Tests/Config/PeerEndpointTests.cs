using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Config;
using Xunit;

namespace MeshAgent.Tests.Config;

public class PeerEndpointTests
{
    [Theory]
    [InlineData("192.95.5.67:1234", "192.95.5.67", 1234, "192.95.5.67:1234")]
    [InlineData("[2607:5300:60:6b0::c05f:543]:2468", "2607:5300:60:6b0::c05f:543", 2468, "[2607:5300:60:6b0::c05f:543]:2468")]
    [InlineData("[::ffff:10.0.0.1]:1", "::ffff:10.0.0.1", 1, "[::ffff:10.0.0.1]:1")]
    [InlineData("test.wireguard.com:18981", null, 18981, "test.wireguard.com:18981")]
    [InlineData("localhost:65535", null, 65535, "localhost:65535")]
    [InlineData("my_host.example.:1", null, 1, "my_host.example.:1")]
    [InlineData("[fe80::1%lo]:51820", "fe80::1%lo", 51820, "[fe80::1%lo]:51820")]
    public void ParsesTheThreeForms(string text, string? address, int port, string printed)
    {
        Assert.True(PeerEndpoint.TryParse(text, out PeerEndpoint? endpoint, out string? error), error);
        Assert.Equal(port, endpoint!.Port);
        Assert.Equal(address is null ? null : IPAddress.Parse(address), endpoint.Address);
        Assert.Equal(address is null, endpoint.IsHostName);
        Assert.Equal(printed, endpoint.ToString());
    }

    [Theory]
    [InlineData("1.2.3.4")]
    [InlineData(":51820")]
    [InlineData("1.2.3.4:")]
    [InlineData("1.2.3.4:+5")]
    [InlineData("1.2.3.4:123456")]
    [InlineData("[::1]")]
    [InlineData("[::1]51820")]
    [InlineData("[fe80::1%]:1")]
    [InlineData("[nothex]:1")]
    [InlineData("-bad.example.com:1")]
    [InlineData("a..b:1")]
    [InlineData("1.2.3:1")]
    public void RejectsMalformedEndpoints(string text)
    {
        Assert.False(PeerEndpoint.TryParse(text, out PeerEndpoint? endpoint, out string? error));
        Assert.Null(endpoint);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public async Task LiteralResolvesWithoutDns()
    {
        PeerEndpoint.TryParse("[2001:db8::1]:51820", out PeerEndpoint? endpoint, out _);
        int calls = 0;
        IPEndPoint resolved = await endpoint!.ResolveAsync((_, _, _) => { calls++; return Task.FromResult(Array.Empty<IPAddress>()); });
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 51820), resolved);
        Assert.Equal(0, calls);

        EndpointResolutionException e = await Assert.ThrowsAsync<EndpointResolutionException>(() => endpoint.ResolveAsync(AddressFamily.InterNetwork));
        Assert.Contains("[2001:db8::1]:51820 is IPv6 but an IPv4 address is required", e.Message);
    }

    [Fact]
    public async Task HostNameResolvesThroughTheSystemResolver()
    {
        // localhost comes from /etc/hosts: no network needed.
        PeerEndpoint.TryParse("localhost:51820", out PeerEndpoint? endpoint, out _);
        IPEndPoint v4 = await endpoint!.ResolveAsync(AddressFamily.InterNetwork);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 51820), v4);
    }

    [Fact]
    public async Task HostNameUsesFirstAddressOfTheRequestedFamily()
    {
        PeerEndpoint.TryParse("vpn.example.com:7", out PeerEndpoint? endpoint, out _);
        IPAddress[] answer = [IPAddress.Parse("2001:db8::5"), IPAddress.Parse("198.51.100.5"), IPAddress.Parse("198.51.100.6")];
        string? askedHost = null;
        Task<IPAddress[]> Resolver(string host, AddressFamily family, CancellationToken ct)
        {
            askedHost = host;
            return Task.FromResult(answer);
        }

        Assert.Equal(new IPEndPoint(answer[0], 7), await endpoint!.ResolveAsync(Resolver));
        Assert.Equal(new IPEndPoint(answer[1], 7), await endpoint.ResolveAsync(Resolver, AddressFamily.InterNetwork));
        Assert.Equal("vpn.example.com", askedHost);
    }

    [Fact]
    public async Task ResolutionFailuresNameTheHost()
    {
        PeerEndpoint.TryParse("nowhere.invalid:7", out PeerEndpoint? endpoint, out _);

        EndpointResolutionException empty = await Assert.ThrowsAsync<EndpointResolutionException>(
            () => endpoint!.ResolveAsync((_, _, _) => Task.FromResult(Array.Empty<IPAddress>())));
        Assert.Contains("'nowhere.invalid' resolved to no IPv4 or IPv6 address", empty.Message);

        EndpointResolutionException failed = await Assert.ThrowsAsync<EndpointResolutionException>(
            () => endpoint!.ResolveAsync((_, _, _) => Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound))));
        Assert.Contains("resolving endpoint host 'nowhere.invalid' failed", failed.Message);
        Assert.IsType<SocketException>(failed.InnerException);
    }
}
