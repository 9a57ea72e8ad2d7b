using System.Net;
using System.Net.Sockets;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// An in-process STUN Binding server (<see cref="LabStun"/>) on a public lab host: answers each
/// Binding Request with the source address and port it arrived from, i.e. the sender's public
/// mapping. Its socket lives in the host's namespace; the receive loop runs on the thread pool.
/// Other datagrams are counted and dropped. Start with <see cref="Lab.AddStunServerAsync"/>
/// (the lab stops it) or <see cref="Start"/> (the caller disposes).
/// </summary>
public sealed class LabStunServer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly HarnessLog _log;
    private long _answered;
    private long _ignored;

    private LabStunServer(LabHost host, Socket socket, HarnessLog log)
    {
        Host = host;
        _socket = socket;
        _log = log;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _loop = Task.Run(RunAsync);
    }

    public LabHost Host { get; }

    /// <summary>Where clients send Binding Requests: the host's public address and the port.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Binding Requests answered so far.</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Datagrams that were not Binding Requests.</summary>
    public long Ignored => Interlocked.Read(ref _ignored);

    /// <summary>Binds UDP <paramref name="port"/> on <paramref name="host"/>'s address and starts answering.</summary>
    public static LabStunServer Start(LabHost host, int port = LabStun.DefaultPort, HarnessLog? log = null)
    {
        var socket = host.Namespace.OpenUdpSocket(new IPEndPoint(host.Address, port));
        var server = new LabStunServer(host, socket, log ?? host.Namespace.Log);
        server._log.Write($"STUN server on {server.EndPoint} in {host.Namespace.Name}");
        return server;
    }

    /// <summary>Stops the loop and closes the socket. Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Expected when the socket closes under a pending receive.
        }
        _stop.Dispose();
        _log.Write($"STUN server on {EndPoint} stopped: {Answered} answered, {Ignored} ignored");
    }

    public override string ToString() => $"STUN server {EndPoint}";

    private async Task RunAsync()
    {
        var buffer = new byte[1500];
        var reply = new byte[LabStun.BindingSuccessLength];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                continue;
            }
            var from = (IPEndPoint)received.RemoteEndPoint;
            if (!LabStun.TryReadBindingRequest(buffer.AsSpan(0, received.ReceivedBytes), out var transactionId))
            {
                Interlocked.Increment(ref _ignored);
                continue;
            }
            var length = LabStun.WriteBindingSuccess(reply, transactionId, from);
            await _socket.SendToAsync(reply.AsMemory(0, length), SocketFlags.None, from, _stop.Token);
            Interlocked.Increment(ref _answered);
        }
    }
}
