using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;

namespace MeshAgent.Tests.Relay;

/// <summary>
/// A <see cref="RelayClient"/> over its own real UDP socket, as the agent runs one over its socket: frames go out
/// with SendTo, a receive loop hands datagrams to <see cref="RelayClient.TryHandle"/>. Records received payloads.
/// </summary>
internal sealed class UdpRelayTestClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;

    public UdpRelayTestClient(NodeIdentity identity, MembershipCertificate certificate, IPEndPoint relay, IPAddress? bindAddress = null, RelayClientOptions? options = null)
    {
        _socket = new Socket(relay.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(bindAddress ?? (relay.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback), 0));
        Identity = identity;
        Client = new RelayClient(identity, certificate, relay, frame => _socket.SendTo(frame, SocketFlags.None, relay), options);
        Client.PayloadReceived += (source, payload) => Received.Enqueue((source, payload.ToArray()));
        _receiving = Task.Run(ReceiveAsync);
    }

    public NodeIdentity Identity { get; }

    public RelayClient Client { get; }

    public ConcurrentQueue<(NodePublicKey Source, byte[] Payload)> Received { get; } = new();

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public async ValueTask DisposeAsync()
    {
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

        Client.Dispose();
        _stop.Dispose();
    }

    private async Task ReceiveAsync()
    {
        byte[] buffer = new byte[65536];
        EndPoint any = new IPEndPoint(_socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                continue; // ICMP port unreachable from an earlier send
            }

            Client.TryHandle(buffer.AsSpan(0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
        }
    }
}

internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task HoldsAsync(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for: {what()}");
            }

            await Task.Delay(10);
        }
    }
}
