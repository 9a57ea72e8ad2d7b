using System.Net;
using System.Net.Sockets;
using System.Text;
using MeshAgent.Integration.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.HarnessTests;

/// <summary>
/// Each <see cref="NatType"/> shows the RFC 4787 behaviour its documentation (and
/// <see cref="NatRules"/>) promises: mapping (§4.1), filtering (§5) and no hairpinning (§6).
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class NatRouterTests(ITestOutputHelper output)
{
    private const int InsidePort = 40000;
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(400);

    public enum Mapping
    {
        /// <summary>No translation: the host's own public address and port.</summary>
        None,

        /// <summary>Endpoint-independent and port-preserving.</summary>
        EndpointIndependent,

        /// <summary>Address- and port-dependent: a new port per destination.</summary>
        AddressAndPortDependent,
    }

    [Theory]
    [InlineData(NatType.None, Mapping.None, true)]
    [InlineData(NatType.Cone, Mapping.EndpointIndependent, false)]
    [InlineData(NatType.FullCone, Mapping.EndpointIndependent, true)]
    [InlineData(NatType.DoubleNat, Mapping.EndpointIndependent, false)]
    [InlineData(NatType.Symmetric, Mapping.AddressAndPortDependent, false)]
    public async Task A_site_type_maps_filters_and_refuses_to_hairpin_as_documented(NatType type, Mapping mapping, bool endpointIndependentFiltering)
    {
        await using var lab = await Lab.CreateAsync(output);
        var site = await lab.AddNatSiteAsync("a", type, hostCount: 2);
        var srv1 = await lab.AddPublicHostAsync("srv1");
        var srv2 = await lab.AddPublicHostAsync("srv2");
        var host = site.Hosts[0];
        using var inside = host.Namespace.OpenUdpSocket(new IPEndPoint(host.Address, InsidePort));
        using var neighbour = site.Hosts[1].Namespace.OpenUdpSocket(new IPEndPoint(IPAddress.Any, InsidePort));
        using var srv1a = srv1.Namespace.OpenUdpSocket(new IPEndPoint(srv1.Address, 7001));
        using var srv1b = srv1.Namespace.OpenUdpSocket(new IPEndPoint(srv1.Address, 7002));
        using var srv1Stranger = srv1.Namespace.OpenUdpSocket(new IPEndPoint(srv1.Address, 7003));
        using var srv2a = srv2.Namespace.OpenUdpSocket(new IPEndPoint(srv2.Address, 7001));
        using var srv2Stranger = srv2.Namespace.OpenUdpSocket(new IPEndPoint(srv2.Address, 7004));

        // Mapping: one socket, three destinations (same address other port, other address).
        await SendAsync(inside, "to srv1:7001", srv1a);
        await SendAsync(inside, "to srv1:7002", srv1b);
        await SendAsync(inside, "to srv2:7001", srv2a);
        var seen = new[]
        {
            await ReceiveAsync(srv1a) ?? throw new TimeoutException($"nothing from {host} reached srv1:7001"),
            await ReceiveAsync(srv1b) ?? throw new TimeoutException($"nothing from {host} reached srv1:7002"),
            await ReceiveAsync(srv2a) ?? throw new TimeoutException($"nothing from {host} reached srv2:7001"),
        };
        output.WriteLine($"{type}: {host} port {InsidePort} seen as {string.Join(", ", seen.Select(s => s.From))}");
        var expectedAddress = mapping == Mapping.None ? host.Address : site.PublicAddress;
        Assert.All(seen, s => Assert.Equal(expectedAddress, s.From.Address));
        if (mapping == Mapping.AddressAndPortDependent)
        {
            Assert.Equal(3, seen.Select(s => s.From.Port).Distinct().Count());
        }
        else
        {
            Assert.All(seen, s => Assert.Equal(InsidePort, s.From.Port));
        }
        var mapped = seen[0].From;

        // Replies come back; filtering decides about strangers; a LAN neighbour sending to
        // the mapping needs hairpinning (None: the address is routed to the host, no NAT involved).
        await SendAsync(srv1a, "reply", mapped);
        await SendAsync(srv1Stranger, "same address, other port", mapped);
        await SendAsync(srv2Stranger, "other address", mapped);
        await SendAsync(neighbour, "from the LAN neighbour", mapped);
        var arrived = await ReceiveAllAsync(inside);
        output.WriteLine($"arrived at {host}: {string.Join(", ", arrived)}");

        Assert.Contains(("reply", (EndPoint)srv1a.LocalEndPoint!), arrived.Select(a => (a.Text, (EndPoint)a.From)));
        var strangers = arrived.Count(a => a.Text is "same address, other port" or "other address");
        Assert.Equal(endpointIndependentFiltering ? 2 : 0, strangers);
        Assert.Equal(type == NatType.None, arrived.Any(a => a.Text == "from the LAN neighbour"));
    }

    [Fact]
    public async Task A_udp_blocked_nat_drops_outbound_udp_but_passes_icmp_and_tcp()
    {
        await using var lab = await Lab.CreateAsync(output);
        var site = await lab.AddNatSiteAsync("b", NatType.UdpBlocked);
        var server = await lab.AddPublicHostAsync("srv");
        var host = site.Hosts[0];
        using var inside = host.Namespace.OpenUdpSocket(new IPEndPoint(host.Address, InsidePort));
        using var listener = server.Namespace.OpenUdpSocket(new IPEndPoint(server.Address, 7001));

        await host.Namespace.PingAsync(server.Address);
        Assert.True(await TcpConnectsAsync(host, server, 443), "TCP from the udp-blocked site to a public host failed");
        await SendAsync(inside, "blocked?", listener);

        Assert.Null(await ReceiveAsync(listener, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Hosts_of_one_site_hear_each_others_link_local_multicast_as_mdns_needs()
    {
        await using var lab = await Lab.CreateAsync(output);
        var site = await lab.AddNatSiteAsync("m", NatType.Cone, hostCount: 2);
        var group = IPAddress.Parse("224.0.0.251");
        using var listener = site.Hosts[1].Namespace.RunInside(() =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Any, 5353));
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(group, site.Hosts[1].Address));
            return socket;
        });
        using var sender = site.Hosts[0].Namespace.OpenUdpSocket(new IPEndPoint(site.Hosts[0].Address, 5353));

        await SendAsync(sender, "mdns query", new IPEndPoint(group, 5353));

        var got = await ReceiveAsync(listener, TimeSpan.FromSeconds(2));
        Assert.Equal(("mdns query", new IPEndPoint(site.Hosts[0].Address, 5353)), got);
    }

    /// <summary>Whether a TCP connection from <paramref name="from"/> to <paramref name="to"/>:<paramref name="port"/> is accepted.</summary>
    internal static async Task<bool> TcpConnectsAsync(LabHost from, LabHost to, int port, TimeSpan? timeout = null)
    {
        using var listener = to.Namespace.RunInside(() =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(to.Address, port));
            socket.Listen();
            return socket;
        });
        using var client = from.Namespace.RunInside(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(2));
        try
        {
            var accept = listener.AcceptAsync(cts.Token).AsTask();
            await client.ConnectAsync(new IPEndPoint(to.PublicAddress, port), cts.Token);
            using var accepted = await accept;
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return false;
        }
    }

    internal static Task SendAsync(Socket from, string text, Socket to) => SendAsync(from, text, to.LocalEndPoint!);

    internal static async Task SendAsync(Socket from, string text, EndPoint to)
        => await from.SendToAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None, to);

    internal static async Task<(string Text, IPEndPoint From)?> ReceiveAsync(Socket socket, TimeSpan? timeout = null)
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

    /// <summary>Everything arriving at <paramref name="socket"/> until it has been quiet for <see cref="Quiet"/>.</summary>
    internal static async Task<List<(string Text, IPEndPoint From)>> ReceiveAllAsync(Socket socket)
    {
        var all = new List<(string, IPEndPoint)>();
        while (await ReceiveAsync(socket, Quiet) is { } one)
        {
            all.Add(one);
        }
        return all;
    }
}
