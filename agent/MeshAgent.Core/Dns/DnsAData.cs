using System.Net;
using System.Net.Sockets;

namespace MeshAgent.Core.Dns;

/// <summary>A record RDATA: one IPv4 address, 4 bytes (RFC 1035 §3.4.1).</summary>
public sealed class DnsAData : DnsRecordData
{
    public DnsAData(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"an A record holds an IPv4 address, not {address}", nameof(address));
        }

        Address = address;
    }

    public IPAddress Address { get; }

    public override DnsRecordType Type => DnsRecordType.A;

    public override bool TryWrite(ref DnsWriter writer, bool compressNames)
    {
        Span<byte> bytes = stackalloc byte[4];
        Address.TryWriteBytes(bytes, out _);
        return writer.TryWriteBytes(bytes);
    }

    public override string ToString() => Address.ToString();

    internal static bool TryReadData(ref DnsReader reader, int length, out DnsRecordData? data)
    {
        data = null;
        if (length != 4 || !reader.TryReadBytes(4, out ReadOnlySpan<byte> bytes))
        {
            return reader.Fail(DnsReadError.BadRecordData);
        }

        data = new DnsAData(new IPAddress(bytes));
        return true;
    }
}
