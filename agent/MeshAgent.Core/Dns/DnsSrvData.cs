namespace MeshAgent.Core.Dns;

/// <summary>
/// SRV record RDATA (RFC 2782): priority (16) ‖ weight (16) ‖ port (16) ‖ target name.
/// mDNS allows the target to be compressed (RFC 6762 §18.14), unlike unicast DNS.
/// </summary>
public sealed class DnsSrvData(ushort priority, ushort weight, ushort port, DnsName target) : DnsRecordData
{
    public ushort Priority { get; } = priority;

    public ushort Weight { get; } = weight;

    public ushort Port { get; } = port;

    /// <summary>The host that offers the service ("&lt;host&gt;.local" in mDNS).</summary>
    public DnsName Target { get; } = target;

    public override DnsRecordType Type => DnsRecordType.Srv;

    public override bool TryWrite(ref DnsWriter writer, bool compressNames) =>
        writer.TryWriteUInt16(Priority)
        && writer.TryWriteUInt16(Weight)
        && writer.TryWriteUInt16(Port)
        && writer.TryWriteName(Target, compressNames);

    public override string ToString() => $"{Priority} {Weight} {Port} {Target}";

    internal static bool TryReadData(ref DnsReader reader, out DnsRecordData? data)
    {
        data = null;
        if (!reader.TryReadUInt16(out ushort priority)
            || !reader.TryReadUInt16(out ushort weight)
            || !reader.TryReadUInt16(out ushort port)
            || !reader.TryReadName(out DnsName? target))
        {
            return false;
        }

        data = new DnsSrvData(priority, weight, port, target);
        return true;
    }
}
