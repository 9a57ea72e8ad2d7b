using System.Net;
using System.Net.Sockets;

namespace MeshAgent.Core.Dns;

/// <summary>AAAA record RDATA: one IPv6 address, 16 bytes (RFC 3596 §2.2). A scope id is not part of the wire form.</summary>
public sealed class DnsAaaaData : DnsRecordData
{
    public DnsAaaaData(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException($"an AAAA record holds an IPv6 address, not {address}", nameof(address));
        }

        Address = address.ScopeId == 0 ? address : new IPAddress(address.GetAddressBytes());
    }

    /// <summary>The address, without scope id.</summary>
    public IPAddress Address { get; }

    public override DnsRecordType Type => DnsRecordType.Aaaa;

    public override bool TryWrite(ref DnsWriter writer, bool compressNames)
    {
        Span<byte> bytes = stackalloc byte[16];
        Address.TryWriteBytes(bytes, out _);
        return writer.TryWriteBytes(bytes);
    }

    public override string ToString() => Address.ToString();

    internal static bool TryReadData(ref DnsReader reader, int length, out DnsRecordData? data)
    {
        data = null;
        if (length != 16 || !reader.TryReadBytes(16, out ReadOnlySpan<byte> bytes))
        {
            return reader.Fail(DnsReadError.BadRecordData);
        }

        data = new DnsAaaaData(new IPAddress(bytes));
        return true;
    }
}
