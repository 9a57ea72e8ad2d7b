using System.Net;
using MeshAgent.Core.Dns;

namespace MeshAgent.Engine.Discovery;

/// <summary>Constants of Multicast DNS (RFC 6762) and DNS-SD (RFC 6763) that this implementation uses.</summary>
public static class MdnsProtocol
{
    /// <summary>UDP port of every mDNS query and response (RFC 6762 §3, §11: responses come from it).</summary>
    public const int Port = 5353;

    /// <summary>Link-local IPv4 group (RFC 6762 §3).</summary>
    public static readonly IPAddress Ipv4Group = IPAddress.Parse("224.0.0.251");

    /// <summary>Link-local IPv6 group (RFC 6762 §3).</summary>
    public static readonly IPAddress Ipv6Group = IPAddress.Parse("ff02::fb");

    /// <summary>TTL of records that name a host or its addresses: A, AAAA, SRV (RFC 6762 §10).</summary>
    public const uint HostRecordTtl = 120;

    /// <summary>TTL of every other record: PTR, TXT (RFC 6762 §10).</summary>
    public const uint OtherRecordTtl = 4500;

    /// <summary>Largest packet we send: fits an Ethernet MTU of 1500 after IPv6 (40) and UDP (8) headers (RFC 6762 §17).</summary>
    public const int MaxPacketSize = 1452;

    /// <summary>Probes per name and their spacing (RFC 6762 §8.1).</summary>
    public const int ProbeCount = 3;

    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Announcements after probing and their spacing (RFC 6762 §8.3: at least two, one second apart).</summary>
    public const int AnnouncementCount = 2;

    public static readonly TimeSpan AnnouncementInterval = TimeSpan.FromSeconds(1);

    /// <summary>"local.", the mDNS domain (RFC 6762 §3).</summary>
    public static DnsName LocalDomain { get; } = DnsName.Parse("local");

    /// <summary>The DNS-SD service type enumeration name (RFC 6763 §9).</summary>
    public static DnsName ServiceTypeEnumeration { get; } = DnsName.Parse("_services._dns-sd._udp.local");
}
