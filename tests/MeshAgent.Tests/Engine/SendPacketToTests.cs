using System.Net;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Tests.Engine;

/// <summary><see cref="WireGuardDevice.SendPacketTo"/>: path probes sealed in the session, sent to one chosen address, the peer's endpoint untouched.</summary>
public sealed class SendPacketToTests
{
    private static readonly IPEndPoint Candidate = new(IPAddress.Parse("203.0.113.7"), 40000);

    [Fact]
    public void Without_a_session_nothing_is_sent_or_staged_and_a_handshake_is_requested()
    {
        using var pair = new DevicePair();
        Assert.False(pair.A.SendPacketTo(pair.PeerBOnA, [0x06, 0, 1, 9], Candidate));
        pair.Pump();

        // The handshake went to the peer's endpoint, and no transport message followed it (nothing was staged).
        Assert.Equal(DevicePair.EndpointB, pair.NetA.Destinations[0]);
        Assert.DoesNotContain(pair.NetA.Destinations, d => d.Equals(Candidate));
        Assert.Empty(pair.DeliveredToB);
        Assert.NotNull(pair.PeerBOnA.Current);
    }

    [Fact]
    public void With_a_session_the_payload_goes_to_the_given_endpoint_and_the_peer_endpoint_stays()
    {
        using var pair = new DevicePair();
        pair.A.SendHandshakeInitiation(pair.PeerBOnA, isRetry: false);
        pair.Pump();
        int before = pair.NetA.Sent.Count;

        byte[] probe = [0x06, 0, 2, 1, 2];
        Assert.True(pair.A.SendPacketTo(pair.PeerBOnA, probe, Candidate));

        Assert.Equal(before + 1, pair.NetA.Sent.Count);
        Assert.Equal(Candidate, pair.NetA.Destinations[^1]);
        Assert.Equal(DevicePair.EndpointB, pair.PeerBOnA.Endpoint);
        pair.Pump(); // the test network delivers to B whatever the address: B opens it with the session
        Assert.Single(pair.DeliveredToB);
        Assert.Equal(16, pair.DeliveredToB[0].Length); // WireGuard pads to 16; the control frame's own length says where it ends
        Assert.Equal(probe, pair.DeliveredToB[0][..probe.Length]);
    }
}
