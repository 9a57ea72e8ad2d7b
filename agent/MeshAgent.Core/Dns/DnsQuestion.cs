namespace MeshAgent.Core.Dns;

/// <summary>
/// One entry of the question section: QNAME ‖ QTYPE (16) ‖ QCLASS (16) (RFC 1035 §4.1.2).
/// In mDNS the top bit of QCLASS asks for a unicast response (the "QU" bit, RFC 6762 §5.4).
/// </summary>
/// <param name="Class">The class proper (low 15 bits of QCLASS).</param>
public sealed record DnsQuestion(DnsName Name, DnsRecordType Type, bool UnicastResponse = false, ushort Class = DnsClass.Internet)
{
    /// <summary>True when a record of <paramref name="name"/>, <paramref name="type"/> and <paramref name="class"/> answers this question (QTYPE/QCLASS "*" match any).</summary>
    public bool IsAnsweredBy(DnsName name, DnsRecordType type, ushort @class) =>
        (Type == DnsRecordType.Any || Type == type)
        && (Class == DnsClass.Any || Class == @class)
        && Name.Equals(name);

    public override string ToString() => $"{Name} {Type}{(UnicastResponse ? " QU" : "")}";
}
