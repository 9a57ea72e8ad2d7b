using System.Globalization;
using System.Net;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// A LAN behind a NAT router in a <see cref="Lab"/>: the router namespace ("&lt;name&gt;-rtr")
/// with uplink "wan" and LAN bridge "lan", its hosts ("&lt;name&gt;-h1", …) on "eth0", and for
/// <see cref="NatType.DoubleNat"/> the carrier-grade NAT ("&lt;name&gt;-cgn") in front of the router.
/// Built by <see cref="Lab.AddNatSiteAsync"/>; the lab disposes the namespaces.
/// </summary>
public sealed class NatSite
{
    internal NatSite(
        string name, int index, NatType type, NetworkNamespace router, NetworkNamespace? carrierGradeNat,
        IPAddress publicAddress, IPAddress lanGateway, string lanCidr, IReadOnlyList<LabHost> hosts)
    {
        Name = name;
        Index = index;
        Type = type;
        Router = router;
        CarrierGradeNat = carrierGradeNat;
        PublicAddress = publicAddress;
        LanGateway = lanGateway;
        LanCidr = lanCidr;
        Hosts = hosts;
    }

    public string Name { get; }

    /// <summary>Site number in the lab (1, 2, …): LAN 10.&lt;index&gt;.0.0/24, public address 203.0.113.&lt;10×index&gt;.</summary>
    public int Index { get; }

    public NatType Type { get; }

    /// <summary>The site's (home) router: "wan" uplink, "lan" bridge, the NAT rules of <see cref="Type"/>.</summary>
    public NetworkNamespace Router { get; }

    /// <summary>For <see cref="NatType.DoubleNat"/>: the carrier-grade NAT ("wan" public, "sub" 100.64.index.1/24 to the router). Otherwise null.</summary>
    public NetworkNamespace? CarrierGradeNat { get; }

    /// <summary>The address translated traffic leaves with: the router's "wan" (the CGN's for <see cref="NatType.DoubleNat"/>).</summary>
    public IPAddress PublicAddress { get; }

    public IPAddress LanGateway { get; }

    /// <summary>The LAN prefix, e.g. "10.1.0.0/24".</summary>
    public string LanCidr { get; }

    public IReadOnlyList<LabHost> Hosts { get; }

    /// <summary>Every address the internet sees for this site: <see cref="PublicAddress"/> and, for <see cref="NatType.None"/>, each host's own.</summary>
    public IReadOnlyList<IPAddress> PublicAddresses
        => [PublicAddress, .. Hosts.Select(h => h.PublicAddress).Where(a => !a.Equals(PublicAddress))];

    /// <summary>The NAT routers of the site, innermost first (router, then CGN).</summary>
    public IReadOnlyList<NetworkNamespace> Routers => CarrierGradeNat is null ? [Router] : [Router, CarrierGradeNat];

    /// <summary>True between <see cref="BlockUdpAsync"/> and <see cref="UnblockUdpAsync"/>.</summary>
    public bool IsUdpBlocked { get; private set; }

    /// <summary>
    /// Drops all UDP crossing the router's "wan", both directions, established flows included
    /// (<see cref="NatRules.UdpBlock"/>): direct paths and STUN die at once while TCP and ICMP
    /// (e.g. a TCP relay) keep working. The NAT mappings stay in conntrack.
    /// </summary>
    public async Task BlockUdpAsync()
    {
        if (!IsUdpBlocked)
        {
            await Router.NftAsync(NatRules.UdpBlock());
            IsUdpBlocked = true;
        }
    }

    /// <summary>Undoes <see cref="BlockUdpAsync"/>. Flows whose mappings are still alive resume.</summary>
    public async Task UnblockUdpAsync()
    {
        if (IsUdpBlocked)
        {
            await Router.ExecAsync("nft", "delete", "table", "ip", NatRules.BlockTable);
            IsUdpBlocked = false;
        }
    }

    /// <summary>
    /// Sets how long an idle UDP mapping lives on every router of the site (conntrack's
    /// <c>nf_conntrack_udp_timeout</c> and <c>…_stream</c>, per namespace; kernel defaults 30 s
    /// unreplied, 120 s once both directions were seen). For keepalive and mapping-expiry tests.
    /// </summary>
    public async Task SetUdpMappingTimeoutAsync(TimeSpan idle)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(idle.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        foreach (var router in Routers)
        {
            await router.SetSysctlsAsync(
                ("net.netfilter.nf_conntrack_udp_timeout", seconds),
                ("net.netfilter.nf_conntrack_udp_timeout_stream", seconds));
        }
    }

    public override string ToString() => $"site {Name} ({Type}, public {PublicAddress}, LAN {LanCidr})";
}
