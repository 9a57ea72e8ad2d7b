using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;
using MeshAgent.Relay;

namespace MeshAgent.Tests.Relay;

/// <summary>
/// The relay server on loopback with real sockets: UDP batches, TCP streams, and the bridge between them; the
/// other-datagram (STUN) seam; limits.
/// </summary>
public sealed class RelayServerSocketTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly NetworkRootKey _root = RelayFixtures.Root();
    private readonly NodeIdentity _relayIdentity = RelayFixtures.Node(1_000_000);
    private readonly TempDirectory _state = new();
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly List<NodeIdentity> _identities = [];
    private RelayServer _relay = null!;

    public Task InitializeAsync()
    {
        _relay = Start(RelayFixtures.Options(_state.Path, _root.PublicKey) with
        {
            TcpListen = [new IPEndPoint(IPAddress.Loopback, 0)],
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (IAsyncDisposable disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }

        await _relay.DisposeAsync();
        _identities.ForEach(i => i.Dispose());
        _relayIdentity.Dispose();
        _root.Dispose();
        _state.Dispose();
    }

    [Fact]
    public async Task Udp_clients_exchange_payloads_through_the_relay()
    {
        UdpRelayTestClient a = await ConnectUdpAsync(1);
        UdpRelayTestClient b = await ConnectUdpAsync(2);

        for (int i = 0; i < 100; i++)
        {
            Assert.True(a.Client.Send(b.Identity.PublicKey, Payload(i, 1 + (i * 13 % 1400))));
            Assert.True(b.Client.Send(a.Identity.PublicKey, Payload(1000 + i, 64)));
        }

        await Eventually.HoldsAsync(() => a.Received.Count == 100 && b.Received.Count == 100, Timeout, () => $"a got {a.Received.Count}, b got {b.Received.Count}");
        Assert.All(b.Received, r => Assert.Equal(a.Identity.PublicKey, r.Source));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => Payload(i, 1 + (i * 13 % 1400))), b.Received.Select(r => r.Payload).OrderBy(p => BinaryPrimitives.ReadInt32BigEndian(p)), new PayloadComparer());
        Assert.Equal(200, _relay.Counters[RelayCounter.FramesForwarded]);
    }

    [Fact]
    public async Task Tcp_clients_exchange_payloads_through_the_relay()
    {
        TcpRelayClient a = await ConnectTcpAsync(1);
        TcpRelayClient b = await ConnectTcpAsync(2);
        var atA = Record(a);
        var atB = Record(b);

        for (int i = 0; i < 100; i++)
        {
            Assert.True(a.Send(Key(2), Payload(i, 1 + (i * 97 % 6000)))); // some frames larger than the reader's small buffer
            Assert.True(b.Send(Key(1), Payload(i, 32)));
        }

        await Eventually.HoldsAsync(() => atA.Count == 100 && atB.Count == 100, Timeout, () => $"a got {atA.Count}, b got {atB.Count}");
        Assert.Equal(Enumerable.Range(0, 100).Select(i => Payload(i, 1 + (i * 97 % 6000))).ToList(), atB.Select(r => r.Payload).ToList(), new PayloadComparer()); // one stream: in order
        Assert.All(atA, r => Assert.Equal(Key(2), r.Source));
        Assert.Equal(2, _relay.Hub.TcpSessionCount);
    }

    [Fact]
    public async Task A_tcp_client_and_a_udp_client_reach_each_other()
    {
        TcpRelayClient t = await ConnectTcpAsync(1);
        UdpRelayTestClient u = await ConnectUdpAsync(2);
        var atT = Record(t);

        for (int i = 0; i < 50; i++)
        {
            Assert.True(t.Send(u.Identity.PublicKey, Payload(i, 200)));
            Assert.True(u.Client.Send(Key(1), Payload(i, 300)));
        }

        await Eventually.HoldsAsync(() => atT.Count == 50 && u.Received.Count == 50, Timeout, () => $"tcp got {atT.Count}, udp got {u.Received.Count}");
        Assert.All(u.Received, r => Assert.Equal(Key(1), r.Source));
        Assert.All(atT, r => Assert.Equal(u.Identity.PublicKey, r.Source));
    }

    [Fact]
    public async Task A_closed_tcp_connection_ends_its_session_and_the_client_reconnects()
    {
        TcpRelayClient t = await ConnectTcpAsync(1);
        Assert.True(_relay.Hub.HasSession(Key(1)));

        // Break the connection from the relay's side.
        foreach (RelayTcpConnection connection in _relay.TcpConnections)
        {
            connection.Close();
        }

        await Eventually.HoldsAsync(() => t.Counters.ConnectionFailures >= 1, Timeout, () => "the client to notice the broken connection");
        await Eventually.HoldsAsync(() => t.State == RelayClientState.Connected && t.Counters.Connects >= 2, Timeout, () => $"reconnect (state {t.State}, connects {t.Counters.Connects})");
        Assert.True(_relay.Hub.HasSession(Key(1)));
        Assert.True(_relay.Counters[RelayCounter.SessionsTcpClosed] >= 1);
    }

    [Fact]
    public async Task Garbage_on_the_tcp_port_closes_that_connection_only()
    {
        TcpRelayClient good = await ConnectTcpAsync(1);
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(_relay.TcpEndPoints[0]);
        await raw.SendAsync("GET / HTTP/1.1\r\nHost: relay\r\n\r\n"u8.ToArray());
        byte[] buffer = new byte[16];
        int read = await raw.ReceiveAsync(buffer).WaitAsync(Timeout);
        Assert.Equal(0, read); // closed by the relay
        Assert.Equal(1, _relay.Counters[RelayCounter.DropTcpFraming]);
        Assert.Equal(RelayClientState.Connected, good.State);
    }

    [Fact]
    public async Task Datagrams_that_are_not_relay_frames_go_to_the_other_datagram_hook()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.ReceiveTimeout = 5000;
        IPEndPoint relay = _relay.UdpEndPoints[0];

        // No hook: dropped and counted.
        socket.SendTo([0x00, 0x01, 0x00, 0x00], relay);
        await Eventually.HoldsAsync(() => _relay.Counters[RelayCounter.DropOtherDatagram] == 1, Timeout, () => "the drop to be counted");

        IPEndPoint? seen = null;
        _relay.OtherDatagram = (datagram, source, reply) =>
        {
            seen = source;
            if (datagram.Length == 0 || datagram[0] != 0x00)
            {
                return 0;
            }

            "pong"u8.CopyTo(reply);
            datagram.CopyTo(reply[4..]);
            return 4 + datagram.Length;
        };
        socket.SendTo([0x00, 0x01, 0x02], relay);
        byte[] buffer = new byte[64];
        int n = socket.Receive(buffer);
        Assert.Equal("pong"u8.ToArray().Concat(new byte[] { 0, 1, 2 }), buffer[..n]);
        Assert.Equal(socket.LocalEndPoint, seen);
        Assert.Equal(1, _relay.Counters[RelayCounter.OtherDatagramsAnswered]);

        // A hook that throws costs the datagram, not the relay.
        _relay.OtherDatagram = (_, _, _) => throw new InvalidOperationException("bug in the hook");
        socket.SendTo([0x00], relay);
        await Eventually.HoldsAsync(() => _relay.Counters[RelayCounter.DropOtherDatagram] == 2, Timeout, () => "the throwing hook's drop");
        UdpRelayTestClient still = await ConnectUdpAsync(1);
        Assert.Equal(RelayClientState.Connected, still.Client.State);
    }

    [Fact]
    public async Task Beyond_max_clients_new_clients_are_refused_over_real_sockets()
    {
        await using RelayServer small = Start(RelayFixtures.Options(_state.Path, _root.PublicKey) with { MaxClients = 2 });
        UdpRelayTestClient a = await ConnectUdpAsync(1, small);
        UdpRelayTestClient b = await ConnectUdpAsync(2, small);
        UdpRelayTestClient c = NewUdp(3, small);
        c.Client.Start();
        await Eventually.HoldsAsync(() => c.Client.State == RelayClientState.Refused, Timeout, () => $"refusal (state {c.Client.State})");
        Assert.Equal(RelayRefusal.ServerFull, c.Client.LastRefusal);
        Assert.Equal(2, small.SessionCount);
        Assert.Equal(RelayClientState.Connected, a.Client.State);
        Assert.Equal(RelayClientState.Connected, b.Client.State);
    }

    [Fact]
    public async Task A_client_sending_beyond_its_rate_loses_the_excess()
    {
        await using RelayServer limited = Start(RelayFixtures.Options(_state.Path, _root.PublicKey) with { ClientPacketsPerSecond = 100 });
        UdpRelayTestClient a = await ConnectUdpAsync(1, limited);
        UdpRelayTestClient b = await ConnectUdpAsync(2, limited);
        for (int i = 0; i < 1000; i++)
        {
            a.Client.Send(b.Identity.PublicKey, Payload(i, 20));
        }

        await Eventually.HoldsAsync(() => limited.Counters[RelayCounter.DropPacketRateLimited] + limited.Counters[RelayCounter.FramesForwarded] >= 1000, Timeout,
            () => $"all 1000 frames to be handled ({limited.Counters[RelayCounter.FramesForwarded]} forwarded)");
        long forwarded = limited.Counters[RelayCounter.FramesForwarded];
        Assert.InRange(forwarded, 100, 200); // a full bucket (100) plus what refilled while the burst was sent
        await Eventually.HoldsAsync(() => b.Received.Count == forwarded, Timeout, () => $"b got {b.Received.Count} of {forwarded}");
    }

    [Fact]
    public async Task The_clients_own_timer_repeats_an_unanswered_Hello()
    {
        // A port where nothing answers yet: the client's own timer must keep trying.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        NodeIdentity identity = Identity(1);
        var client = new UdpRelayTestClient(identity, RelayFixtures.CurrentCertificate(_root, identity), (IPEndPoint)silent.LocalEndPoint!,
            options: new RelayClientOptions { HelloRetryInitial = TimeSpan.FromMilliseconds(50), HelloRetryMax = TimeSpan.FromMilliseconds(200) });
        _disposables.Add(client);
        client.Client.Start();
        await Eventually.HoldsAsync(() => client.Client.Counters.HellosSent >= 4, Timeout, () => $"Hello retries ({client.Client.Counters.HellosSent} sent)");
        Assert.Equal(RelayClientState.Connecting, client.Client.State);
    }

    [Fact]
    public async Task Clients_on_the_IPv4_and_the_IPv6_socket_of_one_port_reach_each_other()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true })
        {
            probe.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        // Both wildcards on one port: the IPv6 socket must be IPv6-only or the second bind would collide.
        await using RelayServer relay = Start(RelayFixtures.Options(_state.Path, _root.PublicKey) with
        {
            Listen = [new IPEndPoint(IPAddress.Any, port), new IPEndPoint(IPAddress.IPv6Any, port)],
        });
        Assert.Equal(port, relay.UdpEndPoints[1].Port);
        NodeIdentity four = Identity(1);
        NodeIdentity six = Identity(2);
        var v4 = new UdpRelayTestClient(four, RelayFixtures.CurrentCertificate(_root, four), new IPEndPoint(IPAddress.Loopback, port));
        var v6 = new UdpRelayTestClient(six, RelayFixtures.CurrentCertificate(_root, six), new IPEndPoint(IPAddress.IPv6Loopback, port));
        _disposables.Add(v4);
        _disposables.Add(v6);
        v4.Client.Start();
        v6.Client.Start();
        await Eventually.HoldsAsync(() => v4.Client.State == RelayClientState.Connected && v6.Client.State == RelayClientState.Connected, Timeout,
            () => $"both connected (v4 {v4.Client.State}, v6 {v6.Client.State})");

        for (int i = 0; i < 20; i++)
        {
            v4.Client.Send(six.PublicKey, Payload(i, 100));
            v6.Client.Send(four.PublicKey, Payload(i, 100));
        }

        await Eventually.HoldsAsync(() => v4.Received.Count == 20 && v6.Received.Count == 20, Timeout, () => $"v4 got {v4.Received.Count}, v6 got {v6.Received.Count}");
    }

    [Fact]
    public async Task The_relay_logs_a_summary_line_per_interval_with_the_counters_that_moved()
    {
        var log = new ListLoggerProvider();
        using var loggers = new Microsoft.Extensions.Logging.LoggerFactory([log]);
        await using RelayServer relay = RelayServer.Start(RelayFixtures.Options(_state.Path, _root.PublicKey) with
        {
            SummaryInterval = TimeSpan.FromMilliseconds(300),
        }, _relayIdentity, loggers);
        UdpRelayTestClient a = await ConnectUdpAsync(1, relay);
        a.Client.Send(Key(9), [1, 2, 3]);
        await Eventually.HoldsAsync(() => log.Lines.Any(l => l.Contains("relay summary: 1 session(s)", StringComparison.Ordinal) && l.Contains("unknown-destination 1", StringComparison.Ordinal)),
            Timeout, () => "a summary with the session and the drop:" + Environment.NewLine + string.Join(Environment.NewLine, log.Lines));
        Assert.Contains(log.Lines, l => l.Contains("meshrelay started: relay key " + _relayIdentity.PublicKey, StringComparison.Ordinal));
    }

    private RelayServer Start(RelayOptions options)
    {
        return RelayServer.Start(options with { StateDirectory = _state.Path }, _relayIdentity);
    }

    private UdpRelayTestClient NewUdp(int index, RelayServer? relay = null)
    {
        NodeIdentity identity = Identity(index);
        var client = new UdpRelayTestClient(identity, RelayFixtures.CurrentCertificate(_root, identity), (relay ?? _relay).UdpEndPoints[0]);
        _disposables.Add(client);
        return client;
    }

    private async Task<UdpRelayTestClient> ConnectUdpAsync(int index, RelayServer? relay = null)
    {
        UdpRelayTestClient client = NewUdp(index, relay);
        client.Client.Start();
        await Eventually.HoldsAsync(() => client.Client.State == RelayClientState.Connected, Timeout, () => $"udp client {index} to connect (state {client.Client.State}, refusal {client.Client.LastRefusal})");
        return client;
    }

    private async Task<TcpRelayClient> ConnectTcpAsync(int index)
    {
        NodeIdentity identity = Identity(index);
        var client = new TcpRelayClient(identity, RelayFixtures.CurrentCertificate(_root, identity), _relay.TcpEndPoints[0],
            new RelayClientOptions { ReconnectInitial = TimeSpan.FromMilliseconds(100) });
        _disposables.Add(client);
        client.Start();
        await Eventually.HoldsAsync(() => client.State == RelayClientState.Connected, Timeout, () => $"tcp client {index} to connect (state {client.State})");
        return client;
    }

    private NodeIdentity Identity(int index)
    {
        NodeIdentity identity = RelayFixtures.Node(index);
        _identities.Add(identity);
        return identity;
    }

    private static NodePublicKey Key(int index)
    {
        using NodeIdentity identity = RelayFixtures.Node(index);
        return identity.PublicKey;
    }

    private static List<(NodePublicKey Source, byte[] Payload)> Record(TcpRelayClient client)
    {
        var received = new List<(NodePublicKey, byte[])>();
        client.PayloadReceived += (source, payload) =>
        {
            lock (received)
            {
                received.Add((source, payload.ToArray()));
            }
        };
        return received;
    }

    /// <summary>A payload whose first 4 bytes are its sequence number, then a pattern; at least 4 bytes.</summary>
    private static byte[] Payload(int sequence, int length)
    {
        byte[] payload = new byte[Math.Max(4, length)];
        BinaryPrimitives.WriteInt32BigEndian(payload, sequence);
        for (int i = 4; i < payload.Length; i++)
        {
            payload[i] = (byte)(sequence + i);
        }

        return payload;
    }

    private sealed class PayloadComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }

    private sealed class ListLoggerProvider : Microsoft.Extensions.Logging.ILoggerProvider, Microsoft.Extensions.Logging.ILogger
    {
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }
}
