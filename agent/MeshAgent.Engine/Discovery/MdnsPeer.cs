using System.Net;

namespace MeshAgent.Engine.Discovery;

/// <summary>
/// An agent of our network found on the LAN.
/// </summary>
/// <param name="NodePublicKeyText">Its node public key ("meshnode1:…"), from the TXT key "node".</param>
/// <param name="Endpoints">Its LAN addresses (A/AAAA of the SRV target) with the SRV port: IPv4 first, then IPv6; link-local IPv6 carries the scope id of the interface it was heard on.</param>
/// <param name="NetworkTag">The TXT key "net" (equal to ours, or the peer would not be reported).</param>
/// <param name="InstanceName">The DNS-SD instance label it uses (its node name, possibly renamed after a conflict).</param>
public sealed record MdnsPeer(string NodePublicKeyText, IReadOnlyList<IPEndPoint> Endpoints, string NetworkTag, string InstanceName)
{
    public bool SameAs(MdnsPeer other) =>
        NodePublicKeyText == other.NodePublicKeyText && NetworkTag == other.NetworkTag
        && InstanceName == other.InstanceName && Endpoints.SequenceEqual(other.Endpoints);

    public override string ToString() => $"{InstanceName} {NodePublicKeyText} [{string.Join(", ", Endpoints)}]";
}

/// <summary>Arguments of <see cref="MdnsService.PeerDiscovered"/> and <see cref="MdnsService.PeerLost"/>.</summary>
public sealed class MdnsPeerEventArgs(MdnsPeer peer) : EventArgs
{
    public MdnsPeer Peer { get; } = peer;

    public string NodePublicKeyText => Peer.NodePublicKeyText;

    public IReadOnlyList<IPEndPoint> Endpoints => Peer.Endpoints;

    public string NetworkTag => Peer.NetworkTag;
}
