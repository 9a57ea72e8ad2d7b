namespace MeshAgent.Core.Dns;

/// <summary>PTR record RDATA: one domain name (RFC 1035 §3.3.12), compressible (RFC 6762 §18.14).</summary>
public sealed class DnsPtrData(DnsName target) : DnsRecordData
{
    /// <summary>The name pointed to; in DNS-SD, a service instance name (RFC 6763 §4.1).</summary>
    public DnsName Target { get; } = target;

    public override DnsRecordType Type => DnsRecordType.Ptr;

    public override bool TryWrite(ref DnsWriter writer, bool compressNames) => writer.TryWriteName(Target, compressNames);

    public override string ToString() => Target.ToString();

    internal static bool TryReadData(ref DnsReader reader, out DnsRecordData? data)
    {
        data = reader.TryReadName(out DnsName? target) ? new DnsPtrData(target) : null;
        return data is not null;
    }
}
