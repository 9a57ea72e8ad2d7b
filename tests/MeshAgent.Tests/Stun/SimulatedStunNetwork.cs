using System.Net;
using MeshAgent.Core.Net;
using MeshAgent.Core.Stun;
using MeshAgent.Engine.Nat;

namespace MeshAgent.Tests.Stun;

/// <summary>
/// An in-process network for <see cref="StunClient"/> tests: the client's send delegate hands
/// each request to a real <see cref="StunResponder"/> at the destination (when the destination is
/// a server here and the datagram is not dropped), as if it came from the address a simulated NAT
/// maps the destination to, and feeds the response straight back. Records every send with the
/// clock's time. Thread-safe.
/// </summary>
internal sealed class SimulatedStunNetwork
{
    private readonly Lock _gate = new();
    private readonly List<Sent> _sent = [];
    private readonly Dictionary<IPEndPoint, StunResponder> _servers = [];

    public SimulatedStunNetwork(TimerClock clock, Func<IPEndPoint, IPEndPoint>? nat = null)
    {
        Clock = clock;
        Nat = nat ?? (_ => IPEndPoint.Parse("203.0.113.10:40000"));
    }

    public TimerClock Clock { get; }

    /// <summary>Destination → the source address the server sees (the NAT mapping).</summary>
    public Func<IPEndPoint, IPEndPoint> Nat { get; set; }

    /// <summary>Decides per send (1-based count to that destination) whether the request is lost.</summary>
    public Func<IPEndPoint, int, bool> Drop { get; set; } = (_, _) => false;

    public StunClient? Client { get; set; }

    public IReadOnlyList<Sent> SentDatagrams
    {
        get
        {
            lock (_gate)
            {
                return [.. _sent];
            }
        }
    }

    public void AddServer(IPEndPoint endPoint) => _servers[endPoint] = new StunResponder("simulated");

    /// <summary>The send delegate to give the client.</summary>
    public void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination)
    {
        int count;
        lock (_gate)
        {
            _sent.Add(new Sent(Clock.Elapsed, destination, datagram.ToArray()));
            count = _sent.Count(s => s.Destination.Equals(destination));
        }

        if (Drop(destination, count) || !_servers.TryGetValue(destination, out StunResponder? server))
        {
            return;
        }

        byte[] response = new byte[StunResponder.MaxResponseSize];
        int length = server.Respond(datagram, UdpEndpoint.FromIPEndPoint(Nat(destination)), response);
        if (length > 0)
        {
            Client!.TryHandleResponse(response.AsSpan(0, length), destination);
        }
    }

    /// <summary>Advances the clock through every timer the query arms until it completes.</summary>
    public async Task<T> RunAsync<T>(Task<T> query)
    {
        while (await Clock.WaitForTimerAsync(query) is { } due)
        {
            Clock.AdvanceTo(due);
        }

        return await query;
    }

    public sealed record Sent(TimeSpan At, IPEndPoint Destination, byte[] Datagram);
}
