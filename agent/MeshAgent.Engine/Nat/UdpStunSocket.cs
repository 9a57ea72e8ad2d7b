using System.Net;
using System.Net.Sockets;

namespace MeshAgent.Engine.Nat;

/// <summary>
/// A <see cref="StunClient"/> with a UDP socket of its own, for `meshagent netcheck` and tests:
/// it sends through the socket and pumps every received datagram into
/// <see cref="StunClient.TryHandleResponse"/>. The running agent does not use this: there the
/// client shares the WireGuard socket so that the reflexive address is that port's mapping.
/// Owns the socket (closed on dispose). Async receive loop: this is control-plane code.
/// </summary>
public sealed class UdpStunSocket : IAsyncDisposable, IDisposable
{
    // A STUN response larger than this is not one we asked for (ours carry at most ~100 bytes).
    private const int ReceiveBufferSize = 2048;

    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiveLoop;
    private long _receiveErrors;
    private int _disposed;

    /// <summary>
    /// Takes ownership of <paramref name="socket"/>, a bound UDP socket (created in whatever
    /// network namespace the caller wants), and starts receiving.
    /// </summary>
    /// <exception cref="ArgumentException">The socket is not a bound UDP socket.</exception>
    public UdpStunSocket(Socket socket, StunClientOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.ProtocolType != ProtocolType.Udp || socket.LocalEndPoint is not IPEndPoint local)
        {
            throw new ArgumentException($"UdpStunSocket needs a bound UDP socket, got {socket.ProtocolType} bound to {socket.LocalEndPoint?.ToString() ?? "nothing"}", nameof(socket));
        }

        _socket = socket;
        LocalEndPoint = local;
        Client = new StunClient(Send, options, timeProvider);
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Binds a new UDP socket to <paramref name="localEndPoint"/> (port 0: any).</summary>
    /// <exception cref="SocketException">The bind failed (address not local, port in use).</exception>
    public static UdpStunSocket Bind(IPEndPoint localEndPoint, StunClientOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        var socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(localEndPoint);
            return new UdpStunSocket(socket, options, timeProvider);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public StunClient Client { get; }

    /// <summary>The local address and port the socket is bound to.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Receive errors skipped by the loop (ICMP errors reported on the socket, ...).</summary>
    public long ReceiveErrors => Interlocked.Read(ref _receiveErrors);

    /// <inheritdoc cref="StunClient.QueryAsync(IPEndPoint, CancellationToken)"/>
    public Task<StunResult> QueryAsync(IPEndPoint server, CancellationToken cancellationToken = default) =>
        Client.QueryAsync(server, cancellationToken);

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Stops the receive loop and closes the socket. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        try
        {
            await _receiveLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The loop ends with cancellation; nothing to report.
        }

        _stop.Dispose();
    }

    private void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination) =>
        _socket.SendTo(datagram, SocketFlags.None, destination);

    private async Task ReceiveLoopAsync()
    {
        byte[] buffer = new byte[ReceiveBufferSize];
        EndPoint any = new IPEndPoint(LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && _stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // E.g. ECONNREFUSED from an ICMP port unreachable: the query's own timeout reports it.
                Interlocked.Increment(ref _receiveErrors);
                continue;
            }

            Client.TryHandleResponse(buffer.AsSpan(0, received.ReceivedBytes), (IPEndPoint)received.RemoteEndPoint);
        }
    }
}
