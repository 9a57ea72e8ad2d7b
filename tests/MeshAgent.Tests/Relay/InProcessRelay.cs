using System.Net;
using MeshAgent.Core.Net;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;
using MeshAgent.Relay;
using MeshAgent.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeshAgent.Tests.Relay;

/// <summary>
/// A real <see cref="RelayHub"/> and real <see cref="RelayClient"/>s joined by an in-memory "network": frames a client
/// sends are queued with the client's (fake) UDP source endpoint; <see cref="Pump"/> runs them through the hub and
/// delivers the hub's replies and forwards to the clients, until nothing moves. A filter can drop frames in either
/// direction, and the clock is a <see cref="ManualTimeProvider"/>: retries and timeouts are driven by
/// <see cref="Advance"/>. Single-threaded and deterministic.
/// </summary>
internal sealed class InProcessRelay : IDisposable
{
    public static readonly IPEndPoint RelayEndPoint = new(IPAddress.Parse("198.51.100.1"), 3478);

    private readonly Queue<(byte[] Frame, RelayLink From)> _toRelay = new();
    private readonly Dictionary<UdpEndpoint, RelayClient> _clients = [];
    private readonly Dictionary<RelayClient, RelayLink> _links = [];
    private readonly byte[] _scratch = new byte[RelayHub.ScratchLength];
    private readonly TempDirectory _state = new();

    public InProcessRelay(RelayOptions? options = null, params NetworkRootPublicKey[] roots)
    {
        Time = new ManualTimeProvider(RelayFixtures.Now);
        Options = (options ?? RelayFixtures.Options(_state.Path, roots)) with { StateDirectory = _state.Path };
        RelayIdentity = RelayFixtures.Node(1_000_000);
        Revocations = new RevocationStore(Path.Combine(_state.Path, RevocationStore.FileName), Options.AcceptedRoots);
        Hub = new RelayHub(Options, RelayIdentity.PublicKey, Revocations, Time, NullLogger.Instance);
    }

    public ManualTimeProvider Time { get; }

    public RelayOptions Options { get; }

    public NodeIdentity RelayIdentity { get; }

    public RevocationStore Revocations { get; }

    public RelayHub Hub { get; }

    public string StateDirectory => _state.Path;

    /// <summary>Return true to drop a frame on its way to the relay (the frame's type is at [3]).</summary>
    public Func<byte[], bool>? DropToRelay { get; set; }

    /// <summary>Return true to drop a frame on its way to a client.</summary>
    public Func<byte[], bool>? DropToClient { get; set; }

    /// <summary>Frames the relay sent to each client endpoint, for assertions.</summary>
    public List<(UdpEndpoint To, byte[] Frame)> Delivered { get; } = [];

    public static UdpEndpoint Endpoint(int port, string address = "203.0.113.7") => new(IPAddress.Parse(address), port);

    /// <summary>A client at <paramref name="endpoint"/>; not started. Its timer is this relay's manual clock (<see cref="Advance"/> ticks it).</summary>
    public RelayClient AddClient(NodeIdentity identity, MembershipCertificate certificate, UdpEndpoint endpoint, RelayClientOptions? options = null)
    {
        RelayClient? self = null;
        var client = new RelayClient(
            identity, certificate, RelayEndPoint,
            frame => _toRelay.Enqueue((frame.ToArray(), _links[self!])),
            (options ?? new RelayClientOptions()) with { OwnTimer = false },
            Time,
            new Random(endpoint.Port));
        self = client;
        _clients[endpoint] = client;
        _links[client] = RelayLink.Udp(0, endpoint);
        return client;
    }

    /// <summary>Moves a client to another source endpoint, as a NAT rebinding does.</summary>
    public void Rebind(RelayClient client, UdpEndpoint newEndpoint)
    {
        UdpEndpoint old = _clients.Single(pair => ReferenceEquals(pair.Value, client)).Key;
        _clients.Remove(old);
        _clients[newEndpoint] = client;
        _links[client] = RelayLink.Udp(0, newEndpoint);
    }

    /// <summary>Sends a raw frame to the relay from <paramref name="from"/> and returns what the relay does with it (copied).</summary>
    public (RelayActionKind Kind, byte[] Frame, RelayLink Destination) Inject(byte[] frame, UdpEndpoint from)
    {
        byte[] copy = (byte[])frame.Clone();
        RelayAction action = Hub.Process(copy, RelayLink.Udp(0, from), _scratch);
        return (action.Kind, action.Frame.ToArray(), action.Destination);
    }

    /// <summary>Delivers queued frames both ways until the network is quiet.</summary>
    public void Pump()
    {
        int guard = 0;
        while (_toRelay.Count > 0)
        {
            if (++guard > 100_000)
            {
                throw new InvalidOperationException("the in-process relay does not settle (a frame loop?)");
            }

            (byte[] frame, RelayLink from) = _toRelay.Dequeue();
            if (DropToRelay?.Invoke(frame) == true)
            {
                continue;
            }

            RelayAction action = Hub.Process(frame, from, _scratch);
            switch (action.Kind)
            {
                case RelayActionKind.Reply:
                    Deliver(from.Endpoint, action.Frame.ToArray());
                    break;
                case RelayActionKind.Forward:
                    Deliver(action.Destination.Endpoint, action.Frame.ToArray());
                    break;
            }
        }
    }

    /// <summary>Lets time pass, ticks every client and pumps.</summary>
    public void Advance(TimeSpan delta)
    {
        Time.Advance(delta);
        foreach (RelayClient client in _clients.Values.ToArray())
        {
            client.Tick();
        }

        Pump();
    }

    /// <summary>Advances in steps of <paramref name="step"/> for <paramref name="total"/>.</summary>
    public void Run(TimeSpan total, TimeSpan step)
    {
        for (TimeSpan elapsed = TimeSpan.Zero; elapsed < total; elapsed += step)
        {
            Advance(step);
        }
    }

    public void Dispose()
    {
        foreach (RelayClient client in _clients.Values)
        {
            client.Dispose();
        }

        RelayIdentity.Dispose();
        _state.Dispose();
    }

    private void Deliver(UdpEndpoint to, byte[] frame)
    {
        if (DropToClient?.Invoke(frame) == true)
        {
            return;
        }

        Delivered.Add((to, frame));
        if (_clients.TryGetValue(to, out RelayClient? client))
        {
            Assert.True(client.TryHandle(frame, RelayEndPoint), "a client refused a relay frame from its relay");
        }
    }
}
