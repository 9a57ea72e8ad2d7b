using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Discovery;
using MeshAgent.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Discovery;

/// <summary>
/// LAN discovery between two namespaces on one link (the lab's veth pair: A = 10.200.1.1,
/// fd00:200:0:1::1; B = .2, ::2): avahi sees our service, we see avahi's, and two agents see each
/// other over real sockets. avahi runs in B on a private D-Bus bus (<see cref="AvahiInstance"/>).
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class MdnsDiscoveryTests(ITestOutputHelper output)
{
    private const string ServiceType = "_meshagent._udp";
    private static readonly TimeSpan DiscoveryTimeout = TimeSpan.FromSeconds(20);

    private static IEnumerable<IPAddress> LinkLocal(NetworkNamespace ns) =>
        ns.RunInside(() => MdnsInterfaces.Enumerate([])).SelectMany(i => i.Ipv6Addresses).Where(x => x.IsIPv6LinkLocal).ToList();

    private static string NewNetworkTag()
    {
        using var root = NetworkRootKey.Generate();
        return MdnsNetworkTag.Compute(root.PublicKey);
    }

    [Fact]
    public async Task AvahiBrowseListsOurServiceAndSeesItsGoodbye()
    {
        AvahiRequirements.Ensure();
        await using var lab = await Lab.CreateAsync(output);
        var a = await lab.AddNamespaceAsync("agent");
        var b = await lab.AddNamespaceAsync("avahi");
        VethLink link = await lab.ConnectAsync(a, b);
        await using var avahi = await AvahiInstance.StartAsync(b, link.B.Device, "avahib");

        string tag = NewNetworkTag();
        // A space in the instance name exercises escaping on both sides (RFC 6763 §4.3).
        var ours = NamespaceMdns.Start(a, "mesh node a", "meshtest-a", 41820, tag);
        await using (ours)
        {
            await ProcessRunner.WaitUntilAsync(() => ours.Service.PublishState == MdnsPublishState.Announced, TimeSpan.FromSeconds(10), "our service announced");

            IReadOnlyList<AvahiBrowseEntry> entries = [];
            await ProcessRunner.WaitUntilAsync(async () =>
                {
                    entries = await avahi.BrowseAsync(ServiceType);
                    return entries.Any(e => e.Event == '=' && e.Protocol == "IPv4") && entries.Any(e => e.Event == '=' && e.Protocol == "IPv6");
                },
                DiscoveryTimeout, "avahi-browse -rpt resolves our service over IPv4 and IPv6", [avahi.Daemon, avahi.Bus]);
            output.WriteLine(string.Join("\n", entries));

            AvahiBrowseEntry v4 = entries.First(e => e.Event == '=' && e.Protocol == "IPv4");
            Assert.Equal("mesh node a", v4.Instance);
            Assert.Equal(link.B.Device, v4.Interface);
            Assert.Equal("meshtest-a.local", v4.Host);
            Assert.Equal(link.A.Ipv4.ToString(), v4.Address);
            Assert.Equal(41820, v4.Port);
            Assert.Equal([$"net={tag}", $"node={ours.NodeKey}", "v=1"], v4.Txt.Order(StringComparer.Ordinal));

            // Found over IPv6 multicast too; avahi resolves the address in either family ("Protocol" is how the service was seen).
            AvahiBrowseEntry v6 = entries.First(e => e.Event == '=' && e.Protocol == "IPv6");
            Assert.Equal((v4.Host, v4.Port, v4.Instance), (v6.Host, v6.Port, v6.Instance));
            Assert.Contains(IPAddress.Parse(v6.Address!), new[] { link.A.Ipv4, link.A.Ipv6 }.Concat(LinkLocal(a)));

            // Our AAAA records, through avahi's host name resolver.
            IPAddress resolved = await avahi.ResolveHostAsync("meshtest-a.local", ipv6: true);
            Assert.Contains(resolved, new[] { link.A.Ipv6 }.Concat(LinkLocal(a)));
            Assert.Equal(link.A.Ipv4, await avahi.ResolveHostAsync("meshtest-a.local", ipv6: false));
        }

        // Disposed: goodbye packets (TTL 0) make avahi drop the service within about a second.
        await ProcessRunner.WaitUntilAsync(async () => !(await avahi.BrowseAsync(ServiceType, resolve: false)).Any(e => e.Instance == "mesh node a"),
            TimeSpan.FromSeconds(10), "avahi-browse no longer lists our service after its goodbye", [avahi.Daemon]);
    }

    [Fact]
    public async Task WeDiscoverAServicePublishedByAvahiAndIgnoreOtherNetworks()
    {
        AvahiRequirements.Ensure();
        await using var lab = await Lab.CreateAsync(output);
        var a = await lab.AddNamespaceAsync("agent");
        var b = await lab.AddNamespaceAsync("avahi");
        VethLink link = await lab.ConnectAsync(a, b);
        await using var avahi = await AvahiInstance.StartAsync(b, link.B.Device, "avahib");

        string tag = NewNetworkTag();
        string peerKey = new NodePublicKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(NodePublicKey.Length)).ToString();
        string strangerKey = new NodePublicKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(NodePublicKey.Length)).ToString();
        ProcessHandle publish = avahi.Publish("node b", ServiceType, 41821, "v=1", $"net={tag}", $"node={peerKey}");
        ProcessHandle stranger = avahi.Publish("stranger", ServiceType, 41822, "v=1", $"net={NewNetworkTag()}", $"node={strangerKey}");

        await using var ours = NamespaceMdns.Start(a, "node-a", "meshtest-a", 41820, tag);
        await ProcessRunner.WaitUntilAsync(() => ours.Peer(peerKey) is { Endpoints.Count: >= 2 }, DiscoveryTimeout,
            "our browser reports the avahi-published agent with IPv4 and IPv6 endpoints", [publish, stranger, avahi.Daemon]);

        MdnsPeer peer = ours.Peer(peerKey)!;
        output.WriteLine(peer.ToString());
        Assert.Equal("node b", peer.InstanceName);
        Assert.Equal(tag, peer.NetworkTag);
        Assert.Equal(new IPEndPoint(link.B.Ipv4, 41821), peer.Endpoints[0]);
        Assert.All(peer.Endpoints.Skip(1), e =>
        {
            Assert.Equal(AddressFamily.InterNetworkV6, e.AddressFamily);
            Assert.Equal(41821, e.Port);
            Assert.True(e.Address.Equals(link.B.Ipv6) || (e.Address.IsIPv6LinkLocal && e.Address.ScopeId != 0), $"{e} is one of B's, link-local ones scoped");
        });
        Assert.Single(ours.Service.Peers); // the stranger's network tag differs
        Assert.True(ours.Service.Counters.ForeignNetworkInstances >= 1);

        // avahi-publish withdrawn: its goodbye makes the peer lost.
        await publish.StopAsync();
        await ProcessRunner.WaitUntilAsync(() => ours.Peer(peerKey) is null, TimeSpan.FromSeconds(10), "the peer is lost after avahi-publish's goodbye");
        Assert.Contains(ours.Events, e => !e.Discovered && e.Peer.NodePublicKeyText == peerKey);
        Assert.DoesNotContain(ours.Events, e => e.Peer.NodePublicKeyText == strangerKey);
    }

    [Fact]
    public async Task TwoAgentsDiscoverEachOtherOverRealSockets()
    {
        await using var lab = await Lab.CreateAsync(output);
        var a = await lab.AddNamespaceAsync("alpha");
        var b = await lab.AddNamespaceAsync("beta");
        VethLink link = await lab.ConnectAsync(a, b);

        string tag = NewNetworkTag();
        await using var alpha = NamespaceMdns.Start(a, "alpha", "alpha-host", 41820, tag);
        var beta = NamespaceMdns.Start(b, "beta", "beta-host", 41821, tag);
        await ProcessRunner.WaitUntilAsync(() => alpha.Peer(beta.NodeKey) is not null && beta.Peer(alpha.NodeKey) is not null,
            DiscoveryTimeout, "alpha and beta report each other");

        Assert.Equal(new IPEndPoint(link.B.Ipv4, 41821), alpha.Peer(beta.NodeKey)!.Endpoints[0]);
        Assert.Equal(new IPEndPoint(link.A.Ipv4, 41820), beta.Peer(alpha.NodeKey)!.Endpoints[0]);
        Assert.Contains(new IPEndPoint(link.B.Ipv6, 41821), alpha.Peer(beta.NodeKey)!.Endpoints);

        await beta.DisposeAsync();
        await ProcessRunner.WaitUntilAsync(() => alpha.Peer(beta.NodeKey) is null, TimeSpan.FromSeconds(10), "alpha loses beta after its goodbye");
    }
}
