using System.Net;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Tests.Engine;

/// <summary>
/// <see cref="WireGuardDevice.RequestHandshakeOnNewPath"/>: an initiation lost on a dead path (an unreachable LAN
/// address, a relay that did not know the peer yet) is not waited out for REKEY_TIMEOUT when the path changes.
/// </summary>
public sealed class NewPathHandshakeTests
{
    private static readonly IPEndPoint DeadPath = new(IPAddress.Parse("10.9.9.9"), 41820);

    [Fact]
    public void A_new_path_gets_a_fresh_initiation_at_once_and_the_session_comes_up_on_it()
    {
        using var pair = new DevicePair();
        pair.PeerBOnA.Endpoint = DeadPath;
        pair.Filter = (from, datagram) => false; // the first initiation is lost on the dead path
        pair.A.RequestHandshake(pair.PeerBOnA);
        pair.Pump();
        Assert.Equal(1, pair.A.Counters.HandshakeInitiationsSent);
        Assert.Null(pair.PeerBOnA.Current);

        // A plain request within REKEY_TIMEOUT sends nothing (wireguard-go's rule) ...
        pair.Time.Advance(TimeSpan.FromMilliseconds(200));
        pair.A.RequestHandshake(pair.PeerBOnA);
        pair.Pump();
        Assert.Equal(1, pair.A.Counters.HandshakeInitiationsSent);

        // ... but a move to a working path does, and the handshake completes there.
        pair.Filter = null;
        pair.PeerBOnA.Endpoint = DevicePair.EndpointB;
        pair.A.RequestHandshakeOnNewPath(pair.PeerBOnA);
        pair.Pump();
        Assert.Equal(2, pair.A.Counters.HandshakeInitiationsSent);
        Assert.Equal([DeadPath, DevicePair.EndpointB], pair.NetA.Destinations.Take(2)); // the second initiation took the new path
        Assert.NotNull(pair.PeerBOnA.Current);
    }

    [Fact]
    public void A_request_sooner_than_the_flood_limit_waits_for_the_next_tick_and_the_same_path_gets_none()
    {
        using var pair = new DevicePair();
        pair.Filter = (from, datagram) => false;
        pair.PeerBOnA.Endpoint = DeadPath;
        pair.A.RequestHandshakeOnNewPath(pair.PeerBOnA);
        pair.Pump();
        Assert.Equal(1, pair.A.Counters.HandshakeInitiationsSent);

        pair.A.RequestHandshakeOnNewPath(pair.PeerBOnA); // the same path again: nothing new to try
        pair.Pump();
        Assert.Equal(1, pair.A.Counters.HandshakeInitiationsSent);

        pair.PeerBOnA.Endpoint = DevicePair.EndpointB; // another path at the same instant: kept for a later tick
        pair.A.RequestHandshakeOnNewPath(pair.PeerBOnA);
        pair.Pump();
        Assert.Equal(1, pair.A.Counters.HandshakeInitiationsSent);

        pair.Time.Advance(WireGuardDevice.NewPathHandshakeSpacing);
        pair.Filter = null;
        pair.Pump();
        Assert.Equal(2, pair.A.Counters.HandshakeInitiationsSent);
        Assert.NotNull(pair.PeerBOnA.Current);

        pair.Time.Advance(TimeSpan.FromSeconds(1));
        pair.PeerBOnA.Endpoint = DeadPath;
        pair.A.RequestHandshakeOnNewPath(pair.PeerBOnA); // a session is up: a path change needs no handshake
        pair.Pump();
        Assert.Equal(2, pair.A.Counters.HandshakeInitiationsSent);
    }
}
