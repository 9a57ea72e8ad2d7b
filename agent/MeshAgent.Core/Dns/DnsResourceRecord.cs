namespace MeshAgent.Core.Dns;

/// <summary>
/// One resource record: NAME ‖ TYPE (16) ‖ CLASS (16) ‖ TTL (32) ‖ RDLENGTH (16) ‖ RDATA
/// (RFC 1035 §4.1.3). In mDNS the top bit of CLASS is the "cache-flush" bit (RFC 6762 §10.2):
/// the record is the whole set of its name and type ("unique"), so caches drop older ones.
/// Immutable.
/// </summary>
public sealed class DnsResourceRecord
{
    /// <param name="class">The class proper (low 15 bits); the cache-flush bit is <paramref name="cacheFlush"/>.</param>
    public DnsResourceRecord(DnsName name, DnsRecordData data, uint ttl, bool cacheFlush = false, ushort @class = DnsClass.Internet)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(@class, (ushort)0x7FFF);
        Name = name;
        Data = data;
        Ttl = ttl;
        CacheFlush = cacheFlush;
        Class = @class;
    }

    public DnsName Name { get; }

    public DnsRecordType Type => Data.Type;

    /// <summary>The class proper (low 15 bits of CLASS).</summary>
    public ushort Class { get; }

    public bool CacheFlush { get; }

    /// <summary>Seconds the record may be cached; 0 in an mDNS response is a "goodbye" (RFC 6762 §10.1).</summary>
    public uint Ttl { get; }

    public DnsRecordData Data { get; }

    /// <summary>Same name, type, class and RDATA: the same record, whatever the TTL and cache-flush bit (RFC 6762 §7.1, §8.2).</summary>
    public bool IsSameRecord(DnsResourceRecord other) =>
        Type == other.Type && Class == other.Class && Name.Equals(other.Name) && Data.Equals(other.Data);

    public DnsResourceRecord WithTtl(uint ttl) => new(Name, Data, ttl, CacheFlush, Class);

    public DnsResourceRecord WithCacheFlush(bool cacheFlush) => new(Name, Data, Ttl, cacheFlush, Class);

    public override string ToString() => $"{Name} {Ttl} {(CacheFlush ? "IN-flush" : "IN")} {Type} {Data}";

    internal bool TryWrite(ref DnsWriter writer)
    {
        if (!writer.TryWriteName(Name)
            || !writer.TryWriteUInt16((ushort)Type)
            || !writer.TryWriteUInt16((ushort)(Class | (CacheFlush ? DnsClass.TopBit : 0)))
            || !writer.TryWriteUInt32(Ttl))
        {
            return false;
        }

        int lengthAt = writer.Position;
        if (!writer.TryWriteUInt16(0) || !Data.TryWrite(ref writer, compressNames: true))
        {
            return false;
        }

        int length = writer.Position - lengthAt - 2;
        if (length > ushort.MaxValue)
        {
            return false;
        }

        writer.PatchUInt16(lengthAt, (ushort)length);
        return true;
    }

    internal static bool TryRead(ref DnsReader reader, out DnsResourceRecord? record)
    {
        record = null;
        if (!reader.TryReadName(out DnsName? name)
            || !reader.TryReadUInt16(out ushort type)
            || !reader.TryReadUInt16(out ushort @class)
            || !reader.TryReadUInt32(out uint ttl)
            || !reader.TryReadUInt16(out ushort length)
            || !DnsRecordData.TryRead(ref reader, (DnsRecordType)type, length, out DnsRecordData? data))
        {
            return false;
        }

        record = new DnsResourceRecord(name, data!, ttl, (@class & DnsClass.TopBit) != 0, (ushort)(@class & 0x7FFF));
        return true;
    }
}
