using System.Diagnostics.CodeAnalysis;

namespace MeshAgent.Core.Dns;

/// <summary>
/// A DNS message (RFC 1035 §4.1) as mDNS uses it (RFC 6762 §18).
/// <code>
///  0                   1
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |              ID               |  0   mDNS: 0 in multicast messages (§18.1)
/// |QR| Opcode |AA|TC|RD|RA| Z|AD|CD| RCODE |  2   mDNS: QR, AA (set in responses), TC (§18.2–18.5)
/// |            QDCOUNT            |  4
/// |            ANCOUNT            |  6
/// |            NSCOUNT            |  8   mDNS probes carry their proposed records here (§8.2)
/// |            ARCOUNT            | 10
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | questions, answers, authority records, additional records ...  12
/// </code>
/// <see cref="TryRead"/> never throws on network input. Mutable (build, then write); not thread-safe.
/// </summary>
public sealed class DnsMessage
{
    public const int HeaderSize = 12;

    /// <summary>Largest mDNS message, IP and UDP headers excluded (RFC 6762 §17).</summary>
    public const int MaxMulticastSize = 9000;

    private const ushort QueryResponseFlag = 0x8000;
    private const ushort AuthoritativeFlag = 0x0400;
    private const ushort TruncatedFlag = 0x0200;

    public ushort Id { get; set; }

    /// <summary>The whole 16-bit flags field (QR, Opcode, AA, TC, RD, RA, Z, AD, CD, RCODE).</summary>
    public ushort Flags { get; set; }

    /// <summary>QR: a response (true) or a query (false).</summary>
    public bool IsResponse
    {
        get => (Flags & QueryResponseFlag) != 0;
        set => Flags = SetFlag(Flags, QueryResponseFlag, value);
    }

    /// <summary>AA: every mDNS response sets it (RFC 6762 §18.4).</summary>
    public bool IsAuthoritative
    {
        get => (Flags & AuthoritativeFlag) != 0;
        set => Flags = SetFlag(Flags, AuthoritativeFlag, value);
    }

    /// <summary>TC: in an mDNS query, "more known answers follow in the next packet" (RFC 6762 §7.2).</summary>
    public bool IsTruncated
    {
        get => (Flags & TruncatedFlag) != 0;
        set => Flags = SetFlag(Flags, TruncatedFlag, value);
    }

    /// <summary>Opcode (4 bits); mDNS messages with a non-zero opcode are ignored (RFC 6762 §18.3).</summary>
    public int Opcode => (Flags >> 11) & 0xF;

    /// <summary>RCODE (4 bits); mDNS messages with a non-zero RCODE are ignored (RFC 6762 §18.11).</summary>
    public int ResponseCode => Flags & 0xF;

    public List<DnsQuestion> Questions { get; } = [];

    public List<DnsResourceRecord> Answers { get; } = [];

    /// <summary>The authority section: in an mDNS probe, the records the prober proposes (RFC 6762 §8.2).</summary>
    public List<DnsResourceRecord> Authorities { get; } = [];

    public List<DnsResourceRecord> Additionals { get; } = [];

    /// <summary>A query (QR = 0) with ID 0, as mDNS multicast queries are.</summary>
    public static DnsMessage CreateQuery() => new();

    /// <summary>A response with QR and AA set and ID 0 (RFC 6762 §18.1, §18.4).</summary>
    public static DnsMessage CreateResponse() => new() { IsResponse = true, IsAuthoritative = true };

    /// <summary>
    /// Reads a whole message. False with <paramref name="error"/> when it is malformed anywhere;
    /// bytes after the last record are ignored (RFC 1035 does not forbid padding).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, [NotNullWhen(true)] out DnsMessage? message, out DnsReadError error)
    {
        message = null;
        var reader = new DnsReader(packet);
        if (!reader.TryReadUInt16(out ushort id)
            || !reader.TryReadUInt16(out ushort flags)
            || !reader.TryReadUInt16(out ushort questions)
            || !reader.TryReadUInt16(out ushort answers)
            || !reader.TryReadUInt16(out ushort authorities)
            || !reader.TryReadUInt16(out ushort additionals))
        {
            error = DnsReadError.Truncated;
            return false;
        }

        // Counts are attacker-chosen: lists grow as records are actually read, never pre-sized.
        var result = new DnsMessage { Id = id, Flags = flags };
        for (int i = 0; i < questions; i++)
        {
            if (!reader.TryReadName(out DnsName? name)
                || !reader.TryReadUInt16(out ushort type)
                || !reader.TryReadUInt16(out ushort @class))
            {
                error = reader.Error;
                return false;
            }

            result.Questions.Add(new DnsQuestion(name, (DnsRecordType)type, (@class & DnsClass.TopBit) != 0, (ushort)(@class & 0x7FFF)));
        }

        if (!TryReadRecords(ref reader, answers, result.Answers)
            || !TryReadRecords(ref reader, authorities, result.Authorities)
            || !TryReadRecords(ref reader, additionals, result.Additionals))
        {
            error = reader.Error;
            return false;
        }

        message = result;
        error = DnsReadError.None;
        return true;
    }

    /// <summary>
    /// Writes the message with name compression. False when it does not fit in
    /// <paramref name="destination"/> (nothing useful is written then) or a section has more than
    /// 65535 entries.
    /// </summary>
    public bool TryWrite(Span<byte> destination, out int written)
    {
        written = 0;
        if (Questions.Count > ushort.MaxValue || Answers.Count > ushort.MaxValue
            || Authorities.Count > ushort.MaxValue || Additionals.Count > ushort.MaxValue)
        {
            return false;
        }

        var writer = new DnsWriter(destination);
        if (!writer.TryWriteUInt16(Id)
            || !writer.TryWriteUInt16(Flags)
            || !writer.TryWriteUInt16((ushort)Questions.Count)
            || !writer.TryWriteUInt16((ushort)Answers.Count)
            || !writer.TryWriteUInt16((ushort)Authorities.Count)
            || !writer.TryWriteUInt16((ushort)Additionals.Count))
        {
            return false;
        }

        foreach (DnsQuestion question in Questions)
        {
            if (!writer.TryWriteName(question.Name)
                || !writer.TryWriteUInt16((ushort)question.Type)
                || !writer.TryWriteUInt16((ushort)(question.Class | (question.UnicastResponse ? DnsClass.TopBit : 0))))
            {
                return false;
            }
        }

        foreach (List<DnsResourceRecord> section in (ReadOnlySpan<List<DnsResourceRecord>>)[Answers, Authorities, Additionals])
        {
            foreach (DnsResourceRecord record in section)
            {
                if (!record.TryWrite(ref writer))
                {
                    return false;
                }
            }
        }

        written = writer.Position;
        return true;
    }

    /// <summary>The message written to a new array, or an exception when it is larger than <paramref name="maxSize"/>.</summary>
    public byte[] ToArray(int maxSize = MaxMulticastSize)
    {
        byte[] buffer = new byte[maxSize];
        return TryWrite(buffer, out int written)
            ? buffer.AsSpan(0, written).ToArray()
            : throw new InvalidOperationException($"DNS message does not fit in {maxSize} bytes ({Questions.Count} questions, {Answers.Count + Authorities.Count + Additionals.Count} records)");
    }

    public override string ToString() =>
        $"{(IsResponse ? "response" : "query")} id={Id} flags=0x{Flags:X4} qd={Questions.Count} an={Answers.Count} ns={Authorities.Count} ar={Additionals.Count}";

    private static bool TryReadRecords(ref DnsReader reader, int count, List<DnsResourceRecord> section)
    {
        for (int i = 0; i < count; i++)
        {
            if (!DnsResourceRecord.TryRead(ref reader, out DnsResourceRecord? record))
            {
                return false;
            }

            section.Add(record!);
        }

        return true;
    }

    private static ushort SetFlag(ushort flags, ushort flag, bool value) => (ushort)(value ? flags | flag : flags & ~flag);
}
