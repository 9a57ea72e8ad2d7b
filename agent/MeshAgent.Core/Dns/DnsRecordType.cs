namespace MeshAgent.Core.Dns;

/// <summary>
/// Resource record TYPE values (IANA "Resource Record (RR) TYPEs") that the mDNS/DNS-SD code reads
/// and writes. Any other 16-bit value may appear on the wire; it is kept as <see cref="DnsUnknownData"/>.
/// </summary>
public enum DnsRecordType : ushort
{
    /// <summary>IPv4 host address (RFC 1035 §3.4.1).</summary>
    A = 1,

    /// <summary>Domain name pointer (RFC 1035 §3.3.12); DNS-SD service enumeration (RFC 6763 §4.1).</summary>
    Ptr = 12,

    /// <summary>Text strings (RFC 1035 §3.3.14); DNS-SD key/value pairs (RFC 6763 §6).</summary>
    Txt = 16,

    /// <summary>IPv6 host address (RFC 3596 §2.1).</summary>
    Aaaa = 28,

    /// <summary>Service location (RFC 2782).</summary>
    Srv = 33,

    /// <summary>Next secure record (RFC 4034 §4), used by mDNS to assert nonexistence (RFC 6762 §6.1).</summary>
    Nsec = 47,

    /// <summary>QTYPE "*": every type (RFC 1035 §3.2.3); mDNS probes ask for it (RFC 6762 §8.1).</summary>
    Any = 255,
}

/// <summary>CLASS values and the mDNS meaning of the class field's top bit.</summary>
public static class DnsClass
{
    /// <summary>The Internet class (RFC 1035 §3.2.4).</summary>
    public const ushort Internet = 1;

    /// <summary>QCLASS "*" (RFC 1035 §3.2.5).</summary>
    public const ushort Any = 255;

    /// <summary>
    /// The top bit of the class field. In a question it is the "unicast-response" (QU) bit
    /// (RFC 6762 §5.4); in a resource record it is the "cache-flush" bit (RFC 6762 §10.2).
    /// The class proper is the low 15 bits.
    /// </summary>
    public const ushort TopBit = 0x8000;
}
