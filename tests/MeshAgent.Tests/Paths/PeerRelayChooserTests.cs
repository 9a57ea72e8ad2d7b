using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Paths;

namespace MeshAgent.Tests.Paths;

public sealed class PeerRelayChooserTests
{
    private static MemberId Id(byte b)
    {
        byte[] key = new byte[32];
        key[0] = b;
        return new MemberId(key);
    }

    [Fact]
    public void Only_members_reachable_without_punching_relay_best_rtt_first_and_never_the_two_ends()
    {
        MemberId self = Id(1), peer = Id(2);
        PeerRelayOffer[] offers =
        [
            new(self, NatMapping.None, false, TimeSpan.FromMilliseconds(1)),
            new(peer, NatMapping.None, false, TimeSpan.FromMilliseconds(1)),
            new(Id(3), NatMapping.EndpointIndependent, false, TimeSpan.FromMilliseconds(5)), // easy NAT, no port mapping: unsolicited datagrams die
            new(Id(4), NatMapping.EndpointDependent, true, TimeSpan.FromMilliseconds(5)),
            new(Id(5), NatMapping.None, false, null), // public, not measured
            new(Id(6), NatMapping.EndpointIndependent, true, TimeSpan.FromMilliseconds(40)), // port-mapped
            new(Id(7), NatMapping.None, false, TimeSpan.FromMilliseconds(20)),
            new(Id(8), NatMapping.UdpBlocked, false, TimeSpan.FromMilliseconds(2)),
        ];

        Assert.Equal(
            [PathCandidate.PeerRelay(Id(7)), PathCandidate.PeerRelay(Id(6)), PathCandidate.PeerRelay(Id(5))],
            PeerRelayChooser.Choose(offers, self, peer, max: 5));
        Assert.Equal([PathCandidate.PeerRelay(Id(7))], PeerRelayChooser.Choose(offers, self, peer, max: 1));
        Assert.Empty(PeerRelayChooser.Choose(offers.Where(o => o.Nat != NatMapping.None && !o.HasPortMapping), self, peer));
    }

    [Fact]
    public void Ties_break_public_first_then_by_member_id()
    {
        PeerRelayOffer[] offers =
        [
            new(Id(9), NatMapping.None, false, null),
            new(Id(8), NatMapping.EndpointIndependent, true, null),
            new(Id(7), NatMapping.None, false, null),
        ];
        Assert.Equal(
            [PathCandidate.PeerRelay(Id(7)), PathCandidate.PeerRelay(Id(9)), PathCandidate.PeerRelay(Id(8))],
            PeerRelayChooser.Choose(offers, Id(1), Id(2), max: 3));
    }
}
