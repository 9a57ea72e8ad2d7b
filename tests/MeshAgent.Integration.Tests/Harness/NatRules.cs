using System.Net;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// nftables rulesets of the lab routers. The NAT table follows the shared NAT lab's rules, so
/// results compare with its observed matrix (copied into Harness/README.md). Which rule gives
/// which behaviour, in RFC 4787 terms:
/// <list type="table">
/// <item><term>mapping, endpoint-independent (§4.1)</term><description><c>masquerade</c>: conntrack
/// keeps one source translation per (internal address, port) as long as the translated tuple is
/// unique, and Linux prefers the original port, so every destination sees the same public port
/// (port preservation, §4.1 "port assignment").</description></item>
/// <item><term>mapping, address- and port-dependent</term><description><c>masquerade fully-random</c>:
/// every new flow (new destination address or port) gets a random port from 1024–65535.</description></item>
/// <item><term>filtering, address- and port-dependent (§5)</term><description>forward policy
/// drop plus <c>ct state established,related accept</c>: only packets matching the reply
/// tuple of an existing flow, i.e. from exactly the address and port the host sent to, get in.
/// Unsolicited packets to the public address are addressed to the router itself and die in
/// its input chain (<c>iifname "wan" drop</c>), so they leave no conntrack entry that could
/// move a later mapping.</description></item>
/// <item><term>filtering, endpoint-independent (full cone)</term><description>a postrouting
/// chain after source NAT records every translated UDP port in the dynamic map <c>fullcone</c>
/// (public port → internal address . port, refreshed by each outbound packet, 120 s), and a
/// prerouting <c>dnat … map @fullcone</c> lets anyone reach that port; forward accepts
/// <c>ct status dnat</c> from the WAN.</description></item>
/// <item><term>no filtering (public host)</term><description><c>iifname "wan" oifname "lan" ip daddr { … } accept</c>
/// for the hosts' routed public addresses.</description></item>
/// <item><term>hairpinning (§6): not supported</term><description>masquerade applies only to
/// <c>oifname "wan"</c> and there is no prerouting DNAT for LAN sources, so a LAN host that sends
/// to its own site's public address reaches the router itself (no listener: ICMP port
/// unreachable), never the other host. Most home routers behave the same.</description></item>
/// <item><term>mapping refresh and lifetime (§4.3)</term><description>conntrack: 30 s for an
/// unreplied flow, 120 s once both directions were seen; outbound and inbound packets refresh it
/// (<see cref="NatSite.SetUdpMappingTimeoutAsync"/> changes both).</description></item>
/// </list>
/// The core router drops private and carrier-grade (100.64.0.0/10) addresses so an untranslated
/// packet never crosses, and holds the cut sets (<see cref="Lab.CutAsync"/>).
/// </summary>
public static class NatRules
{
    /// <summary>Table name in every router; <c>nft list table ip meshlab</c> shows the rules.</summary>
    public const string Table = "meshlab";

    /// <summary>Table of the core router holding the cut sets (<see cref="Lab.CutAsync"/>).</summary>
    public const string CutTable = "meshlab_cut";

    /// <summary>Table a site router loads while its UDP is blocked (<see cref="NatSite.BlockUdpAsync"/>).</summary>
    public const string BlockTable = "meshlab_block";

    /// <summary>Private (RFC 1918) and shared (RFC 6598) ranges that never cross the lab internet.</summary>
    public const string NonPublicRanges = "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10";

    /// <summary>
    /// Ruleset of a site router that translates <paramref name="lanCidr"/> arriving on
    /// <paramref name="lanDevice"/> to the address of device "wan". Unsolicited packets from the
    /// WAN reach neither the LAN (forward policy drop) nor the router itself, except where
    /// <paramref name="type"/> opens them (<see cref="NatType.FullCone"/>, <see cref="NatType.None"/>).
    /// <see cref="NatType.DoubleNat"/> is two routers: <see cref="CarrierGradeNat"/> and this with
    /// <see cref="NatType.Cone"/>.
    /// </summary>
    /// <param name="routedPublicHosts">For <see cref="NatType.None"/>: the hosts' public addresses, let in from the WAN.</param>
    public static string SiteRouter(NatType type, string lanDevice, string lanCidr, IReadOnlyCollection<IPAddress>? routedPublicHosts = null)
    {
        if (type == NatType.DoubleNat)
        {
            throw new ArgumentException("a DoubleNat site is two routers: load CarrierGradeNat(...) on the CGN and SiteRouter(NatType.Cone, ...) on the home router", nameof(type));
        }
        if (type == NatType.None && (routedPublicHosts is null || routedPublicHosts.Count == 0))
        {
            throw new ArgumentException("a None site needs the public addresses of its hosts", nameof(routedPublicHosts));
        }
        // Mapping behaviour: port-preserving endpoint-independent, or a random port per flow.
        var masquerade = type == NatType.Symmetric ? "masquerade fully-random" : "masquerade";
        var forwardExtra = type switch
        {
            // Before the LAN→WAN accept, so it wins; UDP/53 stays open as on networks that
            // block UDP but must allow DNS.
            NatType.UdpBlocked => $"iifname \"{lanDevice}\" oifname \"wan\" udp dport != 53 counter drop comment \"udp-blocked\"",
            NatType.None => $"iifname \"wan\" oifname \"{lanDevice}\" ip daddr {{ {string.Join(", ", routedPublicHosts!)} }} accept comment \"public hosts: no filtering\"\n"
                + $"    iifname \"{lanDevice}\" oifname \"{lanDevice}\" accept comment \"LAN host to a routed public address of a neighbour\"",
            NatType.FullCone => $"iifname \"wan\" oifname \"{lanDevice}\" ct status dnat accept comment \"endpoint-independent filtering: see prerouting\"",
            _ => "",
        };
        var fullCone = type != NatType.FullCone ? "" : $$"""
              map fullcone {
                type inet_service : ipv4_addr . inet_service; flags dynamic, timeout; timeout 120s;
              }
              chain prerouting {
                type nat hook prerouting priority dstnat; policy accept;
                iifname "wan" dnat ip addr . port to udp dport map @fullcone comment "endpoint-independent filtering"
              }
              chain record_mapping {
                type filter hook postrouting priority srcnat + 10; policy accept;
                oifname "wan" ct status snat update @fullcone { udp sport timeout 120s : ct original ip saddr . ct original proto-src }
              }

            """;
        return $$"""
            table ip {{Table}} {
            {{fullCone}}  chain input {
                type filter hook input priority filter; policy accept;
                iifname "wan" ct state established,related accept
                iifname "wan" counter drop comment "no unsolicited traffic to the router"
              }
              chain forward {
                type filter hook forward priority filter; policy drop;
                ct state established,related accept comment "address- and port-dependent filtering"
                {{forwardExtra}}
                iifname "{{lanDevice}}" oifname "wan" accept
              }
              chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                oifname "wan" ip saddr {{lanCidr}} {{masquerade}}
              }
            }

            """;
    }

    /// <summary>
    /// Ruleset of the carrier-grade NAT in front of a <see cref="NatType.DoubleNat"/> site: the
    /// <see cref="NatType.Cone"/> rules with the subscriber link (100.64.index.0/24) as its LAN.
    /// </summary>
    public static string CarrierGradeNat(string subscriberDevice, string subscriberCidr)
        => SiteRouter(NatType.Cone, subscriberDevice, subscriberCidr);

    /// <summary>
    /// Ruleset of the core ("internet") router: private sources and destinations never cross,
    /// so a packet that was not translated by a site router is dropped, as on the real internet.
    /// The cut table drops (source, destination) pairs listed in its sets; it keeps no
    /// connection state, so a cut stops an established flow at once.
    /// </summary>
    public static string Core() => $$"""
        table ip {{Table}} {
          chain forward {
            type filter hook forward priority filter; policy accept;
            ip saddr { {{NonPublicRanges}} } counter drop comment "private source leaked to the internet"
            ip daddr { {{NonPublicRanges}} } counter drop
          }
        }
        table ip {{CutTable}} {
          set cut_udp { type ipv4_addr . ipv4_addr; }
          set cut_tcp { type ipv4_addr . ipv4_addr; }
          set cut_all { type ipv4_addr . ipv4_addr; }
          chain forward {
            type filter hook forward priority filter - 10; policy accept;
            ip saddr . ip daddr @cut_all counter drop
            meta l4proto udp ip saddr . ip daddr @cut_udp counter drop
            meta l4proto tcp ip saddr . ip daddr @cut_tcp counter drop
          }
        }

        """;

    /// <summary>Name of the core's cut set for <paramref name="protocol"/>.</summary>
    public static string CutSet(CutProtocol protocol) => protocol switch
    {
        CutProtocol.Udp => "cut_udp",
        CutProtocol.Tcp => "cut_tcp",
        CutProtocol.All => "cut_all",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, null),
    };

    /// <summary>
    /// Set elements for a cut between every address of <paramref name="a"/> and every address of
    /// <paramref name="b"/>, both directions: "x . y, y . x, …".
    /// </summary>
    public static string CutElements(IEnumerable<IPAddress> a, IEnumerable<IPAddress> b)
        => string.Join(", ", a.SelectMany(x => b.SelectMany(y => new[] { $"{x} . {y}", $"{y} . {x}" })));

    /// <summary>
    /// Table a site router loads to drop all UDP on its WAN in both directions, established
    /// flows included (a drop in any base chain is final, whatever the main table accepts).
    /// Forwarded and the router's own traffic alike; TCP and ICMP still pass.
    /// </summary>
    public static string UdpBlock() => $$"""
        table ip {{BlockTable}} {
          chain forward {
            type filter hook forward priority filter - 10; policy accept;
            iifname "wan" meta l4proto udp counter drop
            oifname "wan" meta l4proto udp counter drop
          }
          chain input {
            type filter hook input priority filter - 10; policy accept;
            iifname "wan" meta l4proto udp counter drop
          }
          chain output {
            type filter hook output priority filter - 10; policy accept;
            oifname "wan" meta l4proto udp counter drop
          }
        }

        """;
}

/// <summary>Which traffic a cut in the core drops (<see cref="Lab.CutAsync"/>).</summary>
public enum CutProtocol
{
    /// <summary>UDP only: the direct path dies while TCP (e.g. to a relay) keeps working.</summary>
    Udp,

    Tcp,

    /// <summary>Every IPv4 packet, ICMP included.</summary>
    All,
}
