using System.Net;
using System.Net.Sockets;
using System.Text;
using MeshAgent.Integration.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.HarnessTests;

[Collection(NetnsCollection.Name)]
public sealed class NatRouterTests(ITestOutputHelper output)
{
    private const int InsidePort = 40000;

    [Theory]
    [InlineData(NatType.Cone)]
    [InlineData(NatType.Symmetric)]
    public async Task Udp_from_behind_the_nat_arrives_from_the_routers_public_address_and_replies_come_back(NatType type)
    {
        await using var lab = await Lab.CreateAsync(output);
        var site = await lab.AddNatSiteAsync("a", type);
        var server = await lab.AddPublicHostAsync("srv");
        var host = site.Hosts[0];
        using var inside = host.Namespace.OpenUdpSocket(new IPEndPoint(host.Address, InsidePort));
        using var server1 = server.Namespace.OpenUdpSocket(new IPEndPoint(server.Address, 7001));
        using var server2 = server.Namespace.OpenUdpSocket(new IPEndPoint(server.Address, 7002));
        using var stranger = server.Namespace.OpenUdpSocket(new IPEndPoint(server.Address, 7003));

        await inside.SendToAsync(Encoding.ASCII.GetBytes("one"), SocketFlags.None, server1.LocalEndPoint!);
        await inside.SendToAsync(Encoding.ASCII.GetBytes("two"), SocketFlags.None, server2.LocalEndPoint!);
        var (text1, mapped1) = await ReceiveAsync(server1) ?? throw new TimeoutException("nothing reached the server's port 7001 through the NAT");
        var (text2, mapped2) = await ReceiveAsync(server2) ?? throw new TimeoutException("nothing reached the server's port 7002 through the NAT");

        Assert.Equal(("one", "two"), (text1, text2));
        Assert.Equal(site.PublicAddress, mapped1.Address);
        Assert.Equal(site.PublicAddress, mapped2.Address);
        if (type == NatType.Cone)
        {
            // Endpoint-independent and port-preserving: one mapping for both destinations.
            Assert.Equal(InsidePort, mapped1.Port);
            Assert.Equal(mapped1.Port, mapped2.Port);
        }
        else
        {
            // Address- and port-dependent: a fresh random port per destination.
            Assert.NotEqual(mapped1.Port, mapped2.Port);
        }

        await server1.SendToAsync(Encoding.ASCII.GetBytes("reply"), SocketFlags.None, mapped1);
        var reply = await ReceiveAsync(inside) ?? throw new TimeoutException("the server's reply did not come back through the NAT");
        Assert.Equal(("reply", new IPEndPoint(server.Address, 7001)), reply);

        // Filtering: a port the host never sent to cannot use the mapping.
        await stranger.SendToAsync(Encoding.ASCII.GetBytes("unsolicited"), SocketFlags.None, mapped1);
        Assert.Null(await ReceiveAsync(inside, TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task A_udp_blocked_nat_drops_outbound_udp_but_passes_icmp()
    {
        await using var lab = await Lab.CreateAsync(output);
        var site = await lab.AddNatSiteAsync("b", NatType.UdpBlocked);
        var server = await lab.AddPublicHostAsync("srv");
        var host = site.Hosts[0];
        using var inside = host.Namespace.OpenUdpSocket(new IPEndPoint(host.Address, InsidePort));
        using var listener = server.Namespace.OpenUdpSocket(new IPEndPoint(server.Address, 7001));

        await host.Namespace.PingAsync(server.Address);
        await inside.SendToAsync(Encoding.ASCII.GetBytes("blocked?"), SocketFlags.None, listener.LocalEndPoint!);

        Assert.Null(await ReceiveAsync(listener, TimeSpan.FromSeconds(1)));
    }

    private static async Task<(string Text, IPEndPoint From)?> ReceiveAsync(Socket socket, TimeSpan? timeout = null)
    {
        var buffer = new byte[1500];
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(3));
        try
        {
            var result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
            return (Encoding.ASCII.GetString(buffer, 0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
