using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Discovery;
using MeshAgent.Engine.Membership;

namespace MeshAgent.Engine.Mesh;

// LAN discovery (DESIGN §5): the node announces itself as _meshagent._udp.local and browses for members of
// its own network (TXT net= tag). A member found on the LAN is tried at its LAN address first, so a mesh on
// one LAN works with no internet and no relay. Discovery only suggests addresses: the WireGuard handshake
// with the member's certified key still decides whether anyone answers.
internal sealed partial class MeshRuntime
{
    private MdnsService? _mdns;
    private readonly HashSet<MemberId> _lanAnnounced = [];

    private void StartDiscovery()
    {
        try
        {
            _mdns = new MdnsService(
                new MdnsServiceOptions
                {
                    InstanceName = _certificate.Name,
                    Port = ListenPort,
                    NetworkTag = MdnsNetworkTag.Compute(_settings.Root),
                    NodePublicKeyText = _settings.Identity.PublicKey.ToString(),
                    Time = _time,
                },
                new UdpMdnsTransport(new UdpMdnsTransportOptions { ExcludedInterfaces = [_interfaceName] }));
            _mdns.PeerDiscovered += (_, found) => Post(() => OnLanPeer(found.NodePublicKeyText, found.Endpoints));
            _mdns.Start();
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException or ArgumentException)
        {
            _log.WriteLine($"meshagent: warning: LAN discovery (mDNS on UDP 5353) is off: {e.Message}; members are still reached at the addresses they publish");
            _mdns = null;
        }
    }

    private void OnLanPeer(string nodeKeyText, IReadOnlyList<IPEndPoint> endpoints)
    {
        if (!NodePublicKey.TryParse(nodeKeyText, out NodePublicKey key) || endpoints.Count == 0)
        {
            return;
        }

        var id = new MemberId(key.AsSpan());
        if (id == SelfId || !_members.TryGetValue(id, out MemberEntry? entry) || entry.Peer is null || !entry.IsLive)
        {
            return; // not (yet) a member we know: gossip brings its certificate first
        }

        if (_lanAnnounced.Add(id))
        {
            _log.WriteLine($"meshagent: found member '{entry.Certificate?.Name}' on the LAN at {string.Join(", ", endpoints)}");
        }

        if (!HasFreshSession(entry.Peer))
        {
            entry.Peer.Endpoint = Normalize(endpoints[0]);
            entry.EndpointChosenAt = _time.GetTimestamp();
            _device.RequestHandshake(entry.Peer);
        }
    }

    private void StopDiscovery()
    {
        try
        {
            _mdns?.StopAsync().AsTask().Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException e)
        {
            _log.WriteLine($"meshagent: mDNS goodbye failed: {e.InnerException?.Message}");
        }
    }
}
