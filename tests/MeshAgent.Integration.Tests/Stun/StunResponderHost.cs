using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Stun;
using MeshAgent.Integration.Tests.Harness;

namespace MeshAgent.Integration.Tests.Stun;

/// <summary>
/// A minimal STUN server made of our <see cref="StunResponder"/>: a UDP socket created inside a
/// lab namespace and a receive loop in this process that answers whatever the responder answers.
/// This is what the agent and the relay do on their own ports, minus the demultiplexing.
/// </summary>
internal sealed class StunResponderHost : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private StunResponderHost(Socket socket, StunResponder responder)
    {
        _socket = socket;
        Responder = responder;
        _loop = Task.Run(LoopAsync);
    }

    public StunResponder Responder { get; }

    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public static StunResponderHost Start(NetworkNamespace ns, IPEndPoint endPoint, StunResponder responder) =>
        new(ns.OpenUdpSocket(endPoint), responder);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        byte[] request = new byte[2048];
        byte[] response = new byte[StunResponder.MaxResponseSize];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(request, SocketFlags.None, any, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && _stop.IsCancellationRequested)
            {
                return;
            }

            var source = (IPEndPoint)received.RemoteEndPoint;
            int length = Responder.Respond(request.AsSpan(0, received.ReceivedBytes), source, response);
            if (length > 0)
            {
                await _socket.SendToAsync(response.AsMemory(0, length), SocketFlags.None, source);
            }
        }
    }
}
