using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Net;
using MeshAgent.Core.Net;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Paths;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.Mesh;

// Peer relays (DESIGN §5): where no meshrelay session is up, a member with a public address relays between two
// members that cannot reach each other directly (e.g. both behind symmetric NATs).
//
//   A → X:  control frame 0x07 PeerRelay   = Y's node key ‖ a WireGuard datagram of A's session with Y,
//                                             sealed again in A's session with X (X learns nothing of its content)
//   X → Y:  control frame 0x08 PeerRelayed = A's node key ‖ that datagram, sealed in X's session with Y
//   Y:      injects the datagram into its data plane as if it came from a synthetic endpoint
//           (RelayedEndpoint, relay field = PeerRelayIndex, slot = route (X, A)), so WireGuard, roaming and
//           PathManager see one more path: PathAddress.PeerRelay(X).
//
// Who relays: members whose own STUN rounds found no NAT (NatMapping.None, learned from their call-me-maybes) and
// with which we have a direct session (PeerRelayChooser picks the best two per peer). A relaying member forwards only
// between live members with sessions, at most PeerRelayBytesPerSecond per source (token bucket), and never back to
// the sender; everything else is counted and dropped.
internal sealed partial class MeshRuntime
{
    /// <summary>RelayedEndpoint relay field for peer-relay paths.</summary>
    private const ushort PeerRelayIndex = 0x4000;

    private const int PeerRelayBytesPerSecond = 8 << 20;
    private const int PeerRelayFrameBuffer = 2048;

    private readonly ConcurrentDictionary<uint, PeerRelayRoute> _peerRelayRoutes = new();
    private readonly ConcurrentDictionary<(MemberId Via, NodePublicKey Peer), uint> _peerRelaySlots = new();
    private readonly Dictionary<MemberId, TokenBucket> _peerRelayBuckets = new(); // loop only
    private uint _nextPeerRelaySlot;
    private long _peerRelayForwarded;
    private long _peerRelayDropped;
    private string _peerRelaySignature = "";

    /// <summary>The synthetic endpoint for "<paramref name="peer"/> through member <paramref name="via"/>" (loop).</summary>
    private IPEndPoint PeerRelayEndpointOf(MemberEntry via, NodePublicKey peer)
    {
        if (_peerRelaySlots.TryGetValue((via.Id, peer), out uint slot) && _peerRelayRoutes.TryGetValue(slot, out PeerRelayRoute? known) && known.Via == via.Peer)
        {
            return known.Synthetic.ToIPEndPoint();
        }

        slot = ++_nextPeerRelaySlot;
        var route = new PeerRelayRoute(via.Id, via.Peer!, peer, UdpEndpoint.FromIPEndPoint(RelayedEndpoint.Create(PeerRelayIndex, slot)));
        _peerRelayRoutes[slot] = route;
        _peerRelaySlots[(via.Id, peer)] = slot;
        return route.Synthetic.ToIPEndPoint();
    }

    /// <summary>The peer-relay path a synthetic source stands for.</summary>
    private bool TryPeerRelayPathOf(in UdpEndpoint source, out PathAddress path)
    {
        path = TryRouteOf(source, PeerRelayIndex, _peerRelayRoutes, out PeerRelayRoute? route) ? PathAddress.PeerRelay(route.ViaId) : default;
        return route is not null;
    }

    /// <summary>Data-plane threads and the engine's control thread: wrap a sealed datagram for the peer relay. No allocation for datagrams up to 2 KiB.</summary>
    private void SendViaPeer(uint slot, ReadOnlySpan<byte> datagram)
    {
        if (!_peerRelayRoutes.TryGetValue(slot, out PeerRelayRoute? route) || route.Via.Endpoint is not { } endpoint)
        {
            Interlocked.Increment(ref _peerRelayDropped);
            return;
        }

        int length = ControlFrame.HeaderSize + NodePublicKey.Length + datagram.Length;
        Span<byte> frame = length <= PeerRelayFrameBuffer ? stackalloc byte[PeerRelayFrameBuffer] : new byte[length];
        length = ControlFrame.Write(frame, ControlFrameType.PeerRelay, route.Peer.AsSpan(), datagram);
        if (!_device.SendPacketTo(route.Via, frame[..length], endpoint, mtu: ushort.MaxValue))
        {
            Interlocked.Increment(ref _peerRelayDropped);
        }
    }

    /// <summary>Loop: a member asks us to forward a datagram (0x07).</summary>
    private void HandlePeerRelay(MemberId from, ReadOnlySpan<byte> body)
    {
        if (body.Length <= NodePublicKey.Length || !_members.TryGetValue(from, out MemberEntry? sender) || sender.Certificate is null
            || _natMapping != NatMapping.None || !TryFindMember(new NodePublicKey(body[..NodePublicKey.Length]), out MemberEntry? target)
            || target.Id == from || !target.IsLive || target.Peer is not { } peer || !HasFreshSession(peer) || peer.Endpoint is not { } endpoint
            || !TakePeerRelayBudget(from, body.Length))
        {
            Interlocked.Increment(ref _peerRelayDropped);
            return;
        }

        byte[] frame = ControlFrame.Create(ControlFrameType.PeerRelayed, sender.Certificate.NodeKey.AsSpan(), body[NodePublicKey.Length..]);
        if (_device.SendPacketTo(peer, frame, endpoint, mtu: ushort.MaxValue))
        {
            Interlocked.Increment(ref _peerRelayForwarded);
        }
        else
        {
            Interlocked.Increment(ref _peerRelayDropped);
        }
    }

    /// <summary>Loop: a peer relay hands us a datagram from another member (0x08).</summary>
    private void HandlePeerRelayed(MemberId from, ReadOnlySpan<byte> body)
    {
        if (body.Length <= NodePublicKey.Length || !_members.TryGetValue(from, out MemberEntry? via) || via.Peer is null
            || !TryFindMember(new NodePublicKey(body[..NodePublicKey.Length]), out MemberEntry? source) || source.Id == from || source.Peer is null)
        {
            Interlocked.Increment(ref _peerRelayDropped);
            return;
        }

        IPEndPoint synthetic = PeerRelayEndpointOf(via, source.Certificate!.NodeKey);
        if (!_dataPlane.InjectRelayed(body[NodePublicKey.Length..], UdpEndpoint.FromIPEndPoint(synthetic)))
        {
            Interlocked.Increment(ref _peerRelayDropped);
        }
    }

    private bool TryFindMember(NodePublicKey key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MemberEntry? found)
    {
        foreach (MemberEntry entry in _members.Values)
        {
            if (entry.Certificate is { } certificate && certificate.NodeKey.Equals(key))
            {
                found = entry;
                return true;
            }
        }

        found = null;
        return false;
    }

    /// <summary>Loop: takes <paramref name="bytes"/> from the source's budget (PeerRelayBytesPerSecond, burst of two seconds).</summary>
    private bool TakePeerRelayBudget(MemberId source, int bytes)
    {
        long now = _time.GetTimestamp();
        ref TokenBucket bucket = ref CollectionsMarshal.GetValueRefOrAddDefault(_peerRelayBuckets, source, out bool exists);
        if (!exists)
        {
            bucket = TokenBucket.Full(2.0 * PeerRelayBytesPerSecond, now);
        }

        return bucket.TryTake(bytes, PeerRelayBytesPerSecond, 2.0 * PeerRelayBytesPerSecond, now, _time.TimestampFrequency);
    }

    /// <summary>
    /// Members fit to relay for us now: public (their call-me-maybes said NatMapping.None), live, reached directly
    /// over a fresh session. Only while no meshrelay session is up (a meshrelay is preferred).
    /// </summary>
    private List<PeerRelayOffer> PeerRelayOffers()
    {
        var offers = new List<PeerRelayOffer>();
        if (RelayUsable)
        {
            return offers;
        }

        foreach (MemberEntry entry in _members.Values)
        {
            if (entry.IsLive && entry.Paths is { } paths && entry.Peer is { } peer && HasFreshSession(peer)
                && paths.Manager.CurrentPath is { IsDirect: true, Socket: 0 })
            {
                offers.Add(new PeerRelayOffer(entry.Id, paths.Manager.PeerNat, HasPortMapping: false, paths.Manager.CurrentRtt));
            }
        }

        return offers;
    }

    /// <summary>Housekeeping: when the set of fit peer relays changes, every manager gets new candidates.</summary>
    private void RefreshPeerRelays()
    {
        string signature = string.Join(",", PeerRelayOffers().Where(PeerRelayChooser.IsFit).Select(o => o.Member.ToString()).Order());
        if (signature != _peerRelaySignature)
        {
            _peerRelaySignature = signature;
            UpdateAllPathCandidates();
        }
    }

    /// <summary>For status: "peer relay NAME" for a peer-relayed endpoint, else null.</summary>
    private string? PeerRelayEndpointText(PeerEndpoint? endpoint)
    {
        if (endpoint is not { IsRelayed: true } e || !TryRouteOf(e.Udp, PeerRelayIndex, _peerRelayRoutes, out PeerRelayRoute? route))
        {
            return null;
        }

        return _members.TryGetValue(route.ViaId, out MemberEntry? via) && via.Certificate is { } certificate ? certificate.Name : route.ViaId.ToString();
    }

    private static bool IsPeerRelayPath(PeerEndpoint? endpoint) => IsSynthetic(endpoint, PeerRelayIndex);

    /// <summary>A route through a member: its WireGuard peer (read on data-plane threads) and the far member's key.</summary>
    private sealed record PeerRelayRoute(MemberId ViaId, Peer Via, NodePublicKey Peer, UdpEndpoint Synthetic);
}
