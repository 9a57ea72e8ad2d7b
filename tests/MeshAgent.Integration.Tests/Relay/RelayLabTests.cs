using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;
using MeshAgent.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Relay;

/// <summary>
/// meshrelay as a real process on a public host, clients behind real NAT routers (nftables) in network namespaces:
/// one behind a symmetric NAT speaking UDP, one behind a NAT that drops all outbound UDP, so it must use the TCP
/// stream relay. They exchange payloads through the relay in both directions (DESIGN §5: the fallback path).
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class RelayLabTests(ITestOutputHelper output)
{
    private const int UdpPort = 3478;
    private const int TcpPort = 443;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_symmetric_nat_udp_client_and_a_udp_blocked_tcp_client_talk_through_meshrelay()
    {
        await using Lab lab = await Lab.CreateAsync(output);
        LabHost relayHost = await lab.AddPublicHostAsync("relay");
        NatSite symmetric = await lab.AddNatSiteAsync("sym", NatType.Symmetric);
        NatSite blocked = await lab.AddNatSiteAsync("blk", NatType.UdpBlocked);
        LabHost alice = symmetric.Hosts[0];
        LabHost bob = blocked.Hosts[0];

        using NetworkRootKey root = NetworkRootKey.Generate();
        using NodeIdentity aliceIdentity = NodeIdentity.Generate();
        using NodeIdentity bobIdentity = NodeIdentity.Generate();
        DirectoryInfo state = Directory.CreateTempSubdirectory("meshrelay-lab-");
        try
        {
            ProcessHandle relay = relayHost.Namespace.StartProcess("meshrelay", MeshRelayExecutable.Command(
                "run", "--listen", $"0.0.0.0:{UdpPort}", "--tcp-listen", $"0.0.0.0:{TcpPort}",
                "--accept-root", root.PublicKey.ToString(), "--state-dir", state.FullName, "--log-level", "Debug"));
            await ProcessRunner.WaitUntilAsync(() => relay.OutputContains("meshrelay started"), Timeout, "meshrelay reports it started", [relay]);

            // The relay answers STUN on its UDP port: coturn's client behind the symmetric NAT learns the site's public address.
            ProcessResult stun = await alice.Namespace.ExecAsync(["turnutils_stunclient", "-p", UdpPort.ToString(), relayHost.Address.ToString()],
                new RunOptions { Check = false, Timeout = TimeSpan.FromSeconds(30) });
            Assert.True(stun.StandardOutput.Contains($"UDP reflexive addr: {symmetric.PublicAddress}:", StringComparison.Ordinal),
                $"turnutils_stunclient against meshrelay (exit {stun.ExitCode}):\n{stun.StandardOutput}{stun.StandardError}");

            var relayUdp = new IPEndPoint(relayHost.Address, UdpPort);
            var relayTcp = new IPEndPoint(relayHost.Address, TcpPort);
            await using var a = new NamespacedUdpRelayClient(alice.Namespace, alice.Address, aliceIdentity, Certificate(root, aliceIdentity, "alice"), relayUdp);
            await using var b = new TcpRelayClient(bobIdentity, Certificate(root, bobIdentity, "bob"), ConnectFrom(bob.Namespace, relayTcp),
                new RelayClientOptions { ReconnectInitial = TimeSpan.FromMilliseconds(200) });
            var atBob = new ConcurrentQueue<(NodePublicKey Source, byte[] Payload)>();
            b.PayloadReceived += (source, payload) => atBob.Enqueue((source, payload.ToArray()));

            // The blocked site really has no UDP: a UDP client there never hears from the relay.
            await using var bobOverUdp = new NamespacedUdpRelayClient(bob.Namespace, bob.Address, bobIdentity, Certificate(root, bobIdentity, "bob"), relayUdp);

            a.Client.Start();
            b.Start();
            bobOverUdp.Client.Start();
            await ProcessRunner.WaitUntilAsync(() => a.Client.State == RelayClientState.Connected && b.State == RelayClientState.Connected, Timeout,
                $"both clients authenticated (alice/udp {a.Client.State}, bob/tcp {b.State})", [relay]);

            for (int i = 0; i < 20; i++)
            {
                Assert.True(a.Client.Send(bobIdentity.PublicKey, Payload("a→b", i)));
                Assert.True(b.Send(aliceIdentity.PublicKey, Payload("b→a", i)));
            }

            await ProcessRunner.WaitUntilAsync(() => atBob.Count == 20 && a.Received.Count == 20, Timeout,
                $"20 payloads each way (bob got {atBob.Count}, alice got {a.Received.Count})", [relay]);
            Assert.All(atBob, r => Assert.Equal(aliceIdentity.PublicKey, r.Source));
            Assert.All(a.Received, r => Assert.Equal(bobIdentity.PublicKey, r.Source));
            Assert.Equal(Enumerable.Range(0, 20).Select(i => Payload("a→b", i)), atBob.Select(r => r.Payload).OrderBy(p => p[^1]), new BytesComparer());
            Assert.Equal(Enumerable.Range(0, 20).Select(i => Payload("b→a", i)), a.Received.Select(r => r.Payload).OrderBy(p => p[^1]), new BytesComparer());

            // The relay saw Alice at her NAT's public address (UDP) and Bob at his (TCP).
            Assert.True(relay.OutputContains($"session for {aliceIdentity.PublicKey} on udp {symmetric.PublicAddress}:"), relay.RecentOutput());
            Assert.True(relay.OutputContains($"session for {bobIdentity.PublicKey} on tcp {blocked.PublicAddress}:"), relay.RecentOutput());
            await ProcessRunner.WaitUntilAsync(() => bobOverUdp.Client.Counters.HellosSent >= 3, Timeout, "the UDP client at the blocked site retries its Hello", [relay]);
            Assert.Equal(RelayClientState.Connecting, bobOverUdp.Client.State);
            Assert.Equal(0, bobOverUdp.Client.Counters.FramesReceived);

            await relay.StopAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(0, relay.ExitCode);
        }
        finally
        {
            state.Delete(recursive: true);
        }
    }

    private static MembershipCertificate Certificate(NetworkRootKey root, NodeIdentity node, string name) =>
        MembershipCertificate.Issue(root, new CertificateFields
        {
            NodeKey = node.PublicKey,
            Name = name,
            OverlayIPv4 = IPAddress.Parse(name == "alice" ? "100.96.0.1" : "100.96.0.2"),
            OverlayIPv6 = IPAddress.Parse(name == "alice" ? "fd00:96::1" : "fd00:96::2"),
            IssuedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
            ExpiresAt = DateTimeOffset.UtcNow.AddDays(1),
        });

    /// <summary>Connects from inside <paramref name="ns"/>: the socket is created there, so it belongs to it.</summary>
    private static Func<CancellationToken, ValueTask<Stream>> ConnectFrom(NetworkNamespace ns, IPEndPoint relay) => async cancellationToken =>
    {
        Socket socket = ns.RunInside(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true });
        try
        {
            await socket.ConnectAsync(relay, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    };

    private static byte[] Payload(string direction, int index) => [.. System.Text.Encoding.UTF8.GetBytes($"{direction} payload "), .. new byte[100], (byte)index];

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }
}

/// <summary>A <see cref="RelayClient"/> over a UDP socket created inside a lab namespace, with its receive loop.</summary>
internal sealed class NamespacedUdpRelayClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;

    public NamespacedUdpRelayClient(NetworkNamespace ns, IPAddress address, NodeIdentity identity, MembershipCertificate certificate, IPEndPoint relay)
    {
        _socket = ns.OpenUdpSocket(new IPEndPoint(address, 0));
        Client = new RelayClient(identity, certificate, relay, frame => _socket.SendTo(frame, SocketFlags.None, relay));
        Client.PayloadReceived += (source, payload) => Received.Enqueue((source, payload.ToArray()));
        _receiving = Task.Run(ReceiveAsync);
    }

    public RelayClient Client { get; }

    public ConcurrentQueue<(NodePublicKey Source, byte[] Payload)> Received { get; } = new();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _receiving;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopping.
        }

        _stop.Dispose();
    }

    private async Task ReceiveAsync()
    {
        byte[] buffer = new byte[65536];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            Client.TryHandle(buffer.AsSpan(0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
        }
    }
}
