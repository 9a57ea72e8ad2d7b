namespace MeshAgent.Core.Dns;

/// <summary>
/// RDATA of a type this codec does not interpret, kept as raw bytes (RFC 3597). If the sender
/// compressed names inside it, the pointers refer to the original message, so such a record is
/// read for inspection only and must not be re-sent.
/// </summary>
public sealed class DnsUnknownData(DnsRecordType type, byte[] bytes) : DnsRecordData
{
    /// <summary>The RDATA bytes; do not modify.</summary>
    public byte[] Bytes { get; } = bytes;

    public override DnsRecordType Type { get; } = type;

    public override bool TryWrite(ref DnsWriter writer, bool compressNames) => writer.TryWriteBytes(Bytes);

    public override string ToString() => $"\\# {Bytes.Length} {Convert.ToHexString(Bytes)}";

    internal static bool TryReadData(ref DnsReader reader, DnsRecordType type, int length, out DnsRecordData? data)
    {
        data = reader.TryReadBytes(length, out ReadOnlySpan<byte> bytes) ? new DnsUnknownData(type, bytes.ToArray()) : null;
        return data is not null;
    }
}
