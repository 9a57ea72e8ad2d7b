using MeshAgent.Core.Trust;
using MeshAgent.Engine.Discovery;
using MeshAgent.Integration.Tests.Harness;

namespace MeshAgent.Integration.Tests.Discovery;

/// <summary>Our <see cref="MdnsService"/> on real sockets inside a lab namespace, with its events recorded.</summary>
internal sealed class NamespaceMdns : IAsyncDisposable
{
    private readonly List<(bool Discovered, MdnsPeer Peer)> _events = [];

    private NamespaceMdns(MdnsService service, string nodeKey)
    {
        Service = service;
        NodeKey = nodeKey;
        service.PeerDiscovered += (_, e) => Record(true, e.Peer);
        service.PeerLost += (_, e) => Record(false, e.Peer);
    }

    public MdnsService Service { get; }

    public string NodeKey { get; }

    public IReadOnlyList<(bool Discovered, MdnsPeer Peer)> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>
    /// Opens the sockets inside <paramref name="ns"/> (a thread that entered it), lists interfaces
    /// there at every poll, and starts the service.
    /// </summary>
    public static NamespaceMdns Start(NetworkNamespace ns, string instance, string host, int port, string networkTag)
    {
        string nodeKey = new NodePublicKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(NodePublicKey.Length)).ToString();
        UdpMdnsTransport transport = ns.RunInside(() => new UdpMdnsTransport(new UdpMdnsTransportOptions
        {
            ExcludedInterfaces = [],
            InterfaceSource = () => ns.RunInside(() => MdnsInterfaces.Enumerate([])),
            InterfacePollInterval = TimeSpan.FromSeconds(2),
        }));
        ns.Log.Write($"mDNS transport in {ns.Name}: {string.Join("; ", transport.Interfaces)}{(transport.Ipv6Unavailable is { } why ? $" (no IPv6: {why})" : "")}");
        var service = new MdnsService(
            new MdnsServiceOptions { InstanceName = instance, HostName = host, Port = port, NetworkTag = networkTag, NodePublicKeyText = nodeKey },
            transport);
        var mdns = new NamespaceMdns(service, nodeKey);
        service.Start();
        return mdns;
    }

    public MdnsPeer? Peer(string nodeKey) => Service.Peers.SingleOrDefault(p => p.NodePublicKeyText == nodeKey);

    public ValueTask DisposeAsync() => Service.DisposeAsync();

    private void Record(bool discovered, MdnsPeer peer)
    {
        lock (_events)
        {
            _events.Add((discovered, peer));
        }
    }
}
