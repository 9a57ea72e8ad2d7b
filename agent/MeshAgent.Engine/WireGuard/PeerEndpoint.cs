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
        IsRelayed = RelayedEndpoint.TryRead(udp, out _, out _);
    }

    public PeerEndpoint(IPEndPoint ip)
    {
        Udp = UdpEndpoint.FromIPEndPoint(ip);
        IP = ip;
        IsRelayed = RelayedEndpoint.TryRead(Udp, out _, out _);
    }

    public UdpEndpoint Udp { get; }

    public IPEndPoint IP { get; }

    /// <summary>A synthetic endpoint for a path through a relay (<see cref="RelayedEndpoint"/>), decided once here so the data plane tests a flag.</summary>
    public bool IsRelayed { get; }

    public override string ToString() => IP.ToString();
}
