namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// nftables rulesets of the lab routers. The NAT table follows the shared NAT lab
/// (/work/shared/lab/README.md, "NAT types and their nftables rules") so results compare.
/// </summary>
public static class NatRules
{
    /// <summary>Table name in every router; <c>nft list table ip meshlab</c> shows the rules.</summary>
    public const string Table = "meshlab";

    /// <summary>
    /// Ruleset of a site router that translates <paramref name="lanCidr"/> arriving on
    /// <paramref name="lanDevice"/> to the address of device "wan". Unsolicited packets from the
    /// WAN reach neither the LAN (forward policy drop) nor the router itself.
    /// </summary>
    public static string SiteRouter(NatType type, string lanDevice, string lanCidr)
    {
        var masquerade = type == NatType.Symmetric ? "masquerade fully-random" : "masquerade";
        var udpBlock = type == NatType.UdpBlocked
            ? $"iifname \"{lanDevice}\" oifname \"wan\" udp dport != 53 counter drop comment \"udp-blocked\"\n"
            : "";
        return $$"""
            table ip {{Table}} {
              chain input {
                type filter hook input priority filter; policy accept;
                iifname "wan" ct state established,related accept
                iifname "wan" counter drop comment "no unsolicited traffic to the router"
              }
              chain forward {
                type filter hook forward priority filter; policy drop;
                ct state established,related accept
                {{udpBlock}}iifname "{{lanDevice}}" oifname "wan" accept
              }
              chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                oifname "wan" ip saddr {{lanCidr}} {{masquerade}}
              }
            }

            """;
    }

    /// <summary>
    /// Ruleset of the core ("internet") router: private sources and destinations never cross,
    /// so a packet that was not translated by a site router is dropped, as on the real internet.
    /// </summary>
    public static string Core() => $$"""
        table ip {{Table}} {
          chain forward {
            type filter hook forward priority filter; policy accept;
            ip saddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 } counter drop comment "private source leaked to the internet"
            ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 } counter drop
          }
        }

        """;
}
