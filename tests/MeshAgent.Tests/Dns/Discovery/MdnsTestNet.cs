using System.Net;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Discovery;

namespace MeshAgent.Tests.Dns.Discovery;

/// <summary>Services on one <see cref="FakeMulticastBus"/>, with their events recorded.</summary>
internal sealed class MdnsTestNet : IDisposable
{
    public const string NetworkTag = "0123456789abcdef";
    public const string OtherNetworkTag = "fedcba9876543210";

    private readonly List<Node> _nodes = [];

    public MdnsTestNet(int seed = 1)
    {
        Clock = new SteppedTimeProvider();
        Bus = new FakeMulticastBus(Clock);
        Seed = seed;
    }

    public SteppedTimeProvider Clock { get; }

    public FakeMulticastBus Bus { get; }

    public int Seed { get; }

    public static string NodeKey(int n) => new NodePublicKey(Enumerable.Repeat((byte)n, NodePublicKey.Length).ToArray()).ToString();

    /// <summary>Adds node n at 10.0.0.n (and fe80::n when <paramref name="ipv6"/>), not yet started.</summary>
    public Node Add(int n, string? instance = null, string? host = null, string tag = NetworkTag, bool ipv6 = false,
        bool publish = true, bool browse = true, int port = 0)
    {
        FakeMdnsTransport transport = Bus.Join($"node{n}", IPAddress.Parse($"10.0.0.{n}"), ipv6 ? IPAddress.Parse($"fe80::{n:x}") : null);
        var service = new MdnsService(
            new MdnsServiceOptions
            {
                InstanceName = instance ?? $"node{n}",
                HostName = host ?? $"host{n}",
                Port = port == 0 ? 41000 + n : port,
                NetworkTag = tag,
                NodePublicKeyText = NodeKey(n),
                Publish = publish,
                Browse = browse,
                Time = Clock,
                Random = new Random(Seed * 1000 + n),
            },
            transport);
        var node = new Node(n, service, transport);
        service.PeerDiscovered += (_, e) => node.Events.Add((Clock.Elapsed, true, e.Peer));
        service.PeerLost += (_, e) => node.Events.Add((Clock.Elapsed, false, e.Peer));
        _nodes.Add(node);
        return node;
    }

    public void Run(TimeSpan duration) => Bus.Run(duration);

    public void Dispose()
    {
        foreach (Node node in _nodes)
        {
            node.Service.Dispose();
        }
    }

    internal sealed record Node(int N, MdnsService Service, FakeMdnsTransport Transport)
    {
        public List<(TimeSpan At, bool Discovered, MdnsPeer Peer)> Events { get; } = [];

        public string Key => NodeKey(N);

        public MdnsPeer? PeerOf(Node other) => Service.Peers.SingleOrDefault(p => p.NodePublicKeyText == other.Key);
    }
}
