using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Stun;
using MeshAgent.Engine.Nat;

namespace MeshAgent.Tests.Stun;

/// <summary>
/// <see cref="UdpStunSocket"/> over loopback with real sockets and real time: a query to a
/// <see cref="StunResponder"/> socket comes back with the client's own endpoint, stray datagrams
/// are pumped into the client and dropped there, and dispose stops the loop and closes the socket.
/// </summary>
public sealed class UdpStunSocketTests
{
    [Fact]
    public async Task Query_over_loopback_returns_the_sockets_own_endpoint()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var serverEndPoint = (IPEndPoint)server.LocalEndPoint!;
        var responder = new StunResponder();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Task serving = ServeAsync(server, responder, stop.Token);

        var stun = UdpStunSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        IPEndPoint local = stun.LocalEndPoint;
        Assert.NotEqual(0, local.Port);

        // Garbage first: the loop must survive it and keep pumping.
        await server.SendToAsync(new byte[] { 1, 2, 3 }, SocketFlags.None, local);
        StunResult result = await stun.QueryAsync(serverEndPoint);

        Assert.Equal(StunResultStatus.Success, result.Status);
        Assert.Equal(local, result.ReflexiveEndPoint);
        // Under load the 500 ms RTO may fire before the answer arrives: every copy sent may be answered.
        Assert.InRange(responder.Counters.Answered, 1, result.Transmissions);
        Assert.True(SpinWait.SpinUntil(() => stun.Client.Counters.Malformed == 1, TimeSpan.FromSeconds(5)));

        await stun.DisposeAsync();
        await stun.DisposeAsync(); // idempotent
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stun.QueryAsync(serverEndPoint)); // the socket is closed

        await stop.CancelAsync();
        server.Dispose();
        await serving;
    }

    [Fact]
    public void Socket_that_is_not_bound_udp_is_refused()
    {
        using var unbound = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.Throws<ArgumentException>(() => new UdpStunSocket(unbound));
    }

    private static async Task ServeAsync(Socket server, StunResponder responder, CancellationToken cancellationToken)
    {
        byte[] request = new byte[2048];
        byte[] response = new byte[StunResponder.MaxResponseSize];
        try
        {
            while (true)
            {
                SocketReceiveFromResult received = await server.ReceiveFromAsync(request, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cancellationToken);
                int length = responder.Respond(request.AsSpan(0, received.ReceivedBytes), (IPEndPoint)received.RemoteEndPoint, response);
                if (length > 0)
                {
                    await server.SendToAsync(response.AsMemory(0, length), SocketFlags.None, received.RemoteEndPoint, cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // stopped
        }
    }
}
