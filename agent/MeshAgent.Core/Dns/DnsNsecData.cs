namespace MeshAgent.Core.Dns;

/// <summary>
/// NSEC record RDATA (RFC 4034 §4.1): next domain name ‖ type bit maps. mDNS uses it to say
/// "this name has exactly these types" (RFC 6762 §6.1): the next domain name is the record's own
/// name and the bit map lists the types that exist, so a querier learns at once that the others
/// do not. Bit maps (RFC 4034 §4.1.2): blocks of window number (1 byte) ‖ bitmap length (1–32) ‖
/// bitmap, where bit i (most significant first) of the window w stands for type 256·w + i.
/// </summary>
public sealed class DnsNsecData : DnsRecordData
{
    public DnsNsecData(DnsName nextDomainName, IEnumerable<DnsRecordType> types)
    {
        NextDomainName = nextDomainName;
        Types = [.. types.Distinct().Order()];
    }

    public DnsName NextDomainName { get; }

    /// <summary>The types asserted to exist, ascending and distinct.</summary>
    public IReadOnlyList<DnsRecordType> Types { get; }

    public override DnsRecordType Type => DnsRecordType.Nsec;

    public bool HasType(DnsRecordType type) => Types.Contains(type);

    public override bool TryWrite(ref DnsWriter writer, bool compressNames)
    {
        if (!writer.TryWriteName(NextDomainName, compressNames))
        {
            return false;
        }

        Span<byte> bitmap = stackalloc byte[32];
        int i = 0;
        while (i < Types.Count)
        {
            int window = (ushort)Types[i] >> 8;
            bitmap.Clear();
            int used = 0;
            for (; i < Types.Count && (ushort)Types[i] >> 8 == window; i++)
            {
                int low = (ushort)Types[i] & 0xFF;
                bitmap[low >> 3] |= (byte)(0x80 >> (low & 7));
                used = (low >> 3) + 1;
            }

            if (!writer.TryWriteUInt8((byte)window) || !writer.TryWriteUInt8((byte)used) || !writer.TryWriteBytes(bitmap[..used]))
            {
                return false;
            }
        }

        return true;
    }

    public override string ToString() => $"{NextDomainName} ({string.Join(' ', Types)})";

    internal static bool TryReadData(ref DnsReader reader, out DnsRecordData? data)
    {
        data = null;
        if (!reader.TryReadName(out DnsName? next))
        {
            return false;
        }

        var types = new List<DnsRecordType>();
        int previousWindow = -1;
        while (reader.Remaining > 0)
        {
            if (!reader.TryReadUInt8(out byte window) || !reader.TryReadUInt8(out byte length)
                || length is 0 or > 32 || window <= previousWindow
                || !reader.TryReadBytes(length, out ReadOnlySpan<byte> bitmap))
            {
                // RFC 4034 §4.1.2: windows ascending, each bitmap 1–32 bytes.
                return reader.Fail(DnsReadError.BadRecordData);
            }

            previousWindow = window;
            for (int b = 0; b < bitmap.Length; b++)
            {
                for (int bit = 0; bit < 8; bit++)
                {
                    if ((bitmap[b] & (0x80 >> bit)) != 0)
                    {
                        types.Add((DnsRecordType)((window << 8) | (b << 3) | bit));
                    }
                }
            }
        }

        data = new DnsNsecData(next, types);
        return true;
    }
}
