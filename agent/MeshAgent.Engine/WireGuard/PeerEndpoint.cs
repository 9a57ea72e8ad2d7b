using System.Net;
using MeshAgent.Core.Net;

namespace MeshAgent.Engine.WireGuard;

/// <summary>
/// A peer's current UDP endpoint, immutable and swapped whole, so the data plane reads it
/// without locks and without tearing. The struct form feeds sendmmsg; the IPEndPoint form is
/// made once per endpoint for the control plane.
/// </summary>
public sealed class PeerEndpoint
{
    public PeerEndpoint(UdpEndpoint udp)
    {
        Udp = udp;
        IP = udp.ToIPEndPoint();
    }

    public PeerEndpoint(IPEndPoint ip)
    {
        Udp = UdpEndpoint.FromIPEndPoint(ip);
        IP = ip;
    }

    public UdpEndpoint Udp { get; }

    public IPEndPoint IP { get; }

    public override string ToString() => IP.ToString();
}
