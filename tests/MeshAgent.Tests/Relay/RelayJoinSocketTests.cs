using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;
using MeshAgent.Relay;

namespace MeshAgent.Tests.Relay;

/// <summary>
/// Joining through the relay server on loopback with real sockets: a joiner without a certificate reaches an
/// inviter connected over TCP, from a TCP connection (<see cref="RelayJoinConnection"/>) and from a plain UDP socket,
/// and gets the inviter's answers back on the same transport.
/// </summary>
public sealed class RelayJoinSocketTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly NetworkRootKey _root = RelayFixtures.Root();
    private readonly NodeIdentity _relayIdentity = RelayFixtures.Node(1_000_000);
    private readonly NodeIdentity _inviterIdentity = RelayFixtures.Node(1);
    private readonly TempDirectory _state = new();
    private RelayServer _relay = null!;
    private TcpRelayClient _inviter = null!;
    private readonly ConcurrentQueue<(ulong Channel, byte[] Message)> _atInviter = new();

    public async Task InitializeAsync()
    {
        _relay = RelayServer.Start(RelayFixtures.Options(_state.Path, _root.PublicKey) with { TcpListen = [new IPEndPoint(IPAddress.Loopback, 0)] }, _relayIdentity);
        _inviter = new TcpRelayClient(_inviterIdentity, RelayFixtures.CurrentCertificate(_root, _inviterIdentity), _relay.TcpEndPoints[0]);
        _inviter.JoinReceived += (channel, message) => _atInviter.Enqueue((channel, message.ToArray()));
        _inviter.Start();
        await Eventually.HoldsAsync(() => _inviter.State == RelayClientState.Connected, Timeout, () => $"the inviter to connect (state {_inviter.State})");
    }

    public async Task DisposeAsync()
    {
        await _inviter.DisposeAsync();
        await _relay.DisposeAsync();
        _inviterIdentity.Dispose();
        _relayIdentity.Dispose();
        _root.Dispose();
        _state.Dispose();
    }

    [Fact]
    public async Task A_joiner_on_a_tcp_connection_exchanges_join_messages_with_the_inviter()
    {
        await using RelayJoinConnection joiner = await RelayJoinConnection.ConnectAsync(_relay.TcpEndPoints[0], Timeout, CancellationToken.None);
        byte[] hello = Message(JoinMessageType.Hello, 5, 56);
        Assert.True(joiner.Send(_root.PublicKey, _inviterIdentity.PublicKey, hello));
        (ulong channel, byte[] received) = await NextAtInviterAsync();
        Assert.Equal(hello, received);

        byte[] response = Message(JoinMessageType.Response, 5, 20_000); // a Response carries the snapshot: tens of kB
        Assert.True(_inviter.SendJoinReply(channel, response));
        using var timeout = new CancellationTokenSource(Timeout);
        Memory<byte> frame = await joiner.ReadAsync(timeout.Token);
        Assert.True(JoinDeliverFrame.TryRead(frame.Span, out JoinDeliverFrame deliver));
        Assert.Equal(response, deliver.Message.ToArray());
        Assert.Equal(1, _relay.Counters[RelayCounter.JoinRepliesForwarded]);
    }

    [Fact]
    public async Task A_joiner_on_udp_exchanges_join_messages_with_a_tcp_inviter()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        byte[] hello = Message(JoinMessageType.Hello, 6, 56);
        byte[] frame = new byte[JoinSendFrame.Overhead + hello.Length];
        new JoinSendFrame(_root.PublicKey, _inviterIdentity.PublicKey, hello).Write(frame);
        await socket.SendToAsync(frame, _relay.UdpEndPoints[0]);
        (ulong channel, byte[] received) = await NextAtInviterAsync();
        Assert.Equal(hello, received);

        byte[] challenge = Message(JoinMessageType.Challenge, 6, 48);
        Assert.True(_inviter.SendJoinReply(channel, challenge));
        byte[] buffer = new byte[2048];
        using var timeout = new CancellationTokenSource(Timeout);
        SocketReceiveFromResult answer = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
        Assert.True(JoinDeliverFrame.TryRead(buffer.AsSpan(0, answer.ReceivedBytes), out JoinDeliverFrame deliver));
        Assert.Equal(challenge, deliver.Message.ToArray());

        // A plain WireGuard-looking datagram in a JoinSend from the same socket is not forwarded.
        byte[] bogus = [.. frame[..JoinSendFrame.Overhead], 1, 0, 0, 0, .. new byte[60]];
        await socket.SendToAsync(bogus, _relay.UdpEndPoints[0]);
        await Eventually.HoldsAsync(() => _relay.Counters[RelayCounter.DropJoinMalformed] == 1, Timeout, () => "the relay to drop the non-join JoinSend");
        Assert.True(_atInviter.IsEmpty);
    }

    private async Task<(ulong Channel, byte[] Message)> NextAtInviterAsync()
    {
        (ulong, byte[]) item = default;
        await Eventually.HoldsAsync(() => _atInviter.TryDequeue(out item), Timeout, () => "the inviter to receive the join message");
        return item;
    }

    private static byte[] Message(JoinMessageType type, uint session, int bodyLength)
    {
        byte[] message = new byte[JoinMessages.HeaderSize + bodyLength];
        JoinMessages.WriteHeader(message, type, session);
        return message;
    }
}
