using System.Net;
using MeshAgent.Core.Dns;

namespace MeshAgent.Tests.Dns;

/// <summary>Writer compression and every way the reader refuses a malformed message (each a DnsReadError, never an exception).</summary>
public sealed class DnsMessageTests
{
    private static readonly byte[] QueryHeaderOneQuestion = Convert.FromHexString("000000000001000000000000");

    [Fact]
    public void SecondNameBecomesLabelsPlusPointerToTheSharedSuffix()
    {
        DnsMessage query = DnsMessage.CreateQuery();
        query.Questions.Add(new DnsQuestion(DnsName.Parse("a.local"), DnsRecordType.A));
        query.Questions.Add(new DnsQuestion(DnsName.Parse("b.local"), DnsRecordType.Aaaa, UnicastResponse: true));
        byte[] bytes = query.ToArray();
        // header | 01 'a' 05 'local' 00 | 0001 0001 | 01 'b' c0 0e (pointer to "local" at offset 14) | 001c 8001
        Assert.Equal("000000000002000000000000" + "0161056C6F63616C00" + "00010001" + "0162C00E" + "001C8001", Convert.ToHexString(bytes));
        Assert.True(DnsMessage.TryRead(bytes, out DnsMessage? back, out _));
        Assert.Equal(query.Questions, back.Questions);
    }

    [Fact]
    public void CompressionMatchesBytesExactlySoCaseSurvivesTheRoundTrip()
    {
        DnsMessage query = DnsMessage.CreateQuery();
        query.Questions.Add(new DnsQuestion(DnsName.Parse("a.local"), DnsRecordType.A));
        query.Questions.Add(new DnsQuestion(DnsName.Parse("b.LOCAL"), DnsRecordType.A));
        Assert.True(DnsMessage.TryRead(query.ToArray(), out DnsMessage? back, out _));
        Assert.Equal("b.LOCAL", back.Questions[1].Name.ToString());
    }

    [Fact]
    public void NamesBeyondOffset0x3FFFAreNeverPointerTargets()
    {
        DnsMessage response = DnsMessage.CreateResponse();
        DnsName owner = DnsName.Parse("t.local");
        // 70 TXT strings of 255 bytes push the next name past offset 0x3FFF = 16383.
        response.Answers.Add(new DnsResourceRecord(owner, new DnsTxtData(Enumerable.Range(0, 70).Select(_ => new byte[255])), 10));
        DnsName late = DnsName.Parse("late.example");
        response.Answers.Add(new DnsResourceRecord(late, new DnsAData(IPAddress.Loopback), 10));
        response.Answers.Add(new DnsResourceRecord(late, new DnsAData(IPAddress.Broadcast), 10));
        byte[] bytes = response.ToArray(65535);
        Assert.True(bytes.Length > 0x4000);
        Assert.True(DnsMessage.TryRead(bytes, out DnsMessage? back, out DnsReadError error), error.ToString());
        Assert.Equal(late, back.Answers[2].Name);
        // The third record's name is written in full: its own bytes appear twice after 0x3FFF.
        Assert.Equal(2, CountOccurrences(bytes, late.WireForm.ToArray()));
    }

    [Fact]
    public void RewindForgetsNamesWrittenAfterThePosition()
    {
        byte[] buffer = new byte[100];
        var writer = new DnsWriter(buffer);
        Assert.True(writer.TryWriteName(DnsName.Parse("keep.local")));
        int mark = writer.Position;
        Assert.True(writer.TryWriteName(DnsName.Parse("gone.example")));
        writer.Rewind(mark);
        Assert.True(writer.TryWriteName(DnsName.Parse("x.gone.example")));
        // Written in full (no pointer into discarded bytes): 01 'x' 04 'gone' 07 'example' 00.
        Assert.Equal(mark + 1 + 1 + 1 + 4 + 1 + 7 + 1, writer.Position);
    }

    [Fact]
    public void WriteFailsCleanlyWhenTheBufferIsTooSmall()
    {
        DnsMessage response = DnsMessage.CreateResponse();
        response.Answers.Add(new DnsResourceRecord(DnsName.Parse("host.local"), new DnsAData(IPAddress.Parse("10.0.0.1")), 120));
        int size = response.ToArray().Length;
        Assert.True(response.TryWrite(new byte[size], out int written));
        Assert.Equal(size, written);
        for (int small = 0; small < size; small++)
        {
            Assert.False(response.TryWrite(new byte[small], out written));
            Assert.Equal(0, written);
        }
    }

    [Fact]
    public void EmptyTxtIsWrittenAsOneEmptyString()
    {
        // RFC 6763 §6.1: a TXT record holds at least one string; "no data" is a single zero byte.
        var empty = new DnsTxtData([]);
        Assert.Equal([0], empty.GetCanonicalBytes());
        Assert.Equal(empty, new DnsTxtData([[]]));
    }

    [Fact]
    public void TxtLookupFollowsRfc6763Section6_4()
    {
        DnsTxtData txt = DnsTxtData.FromStrings("flag", "Key=first", "key=second", "=novalue", "empty=");
        Assert.True(txt.TryGetValue("flag", out string? flag));
        Assert.Null(flag);
        Assert.True(txt.TryGetText("KEY", out string? key));
        Assert.Equal("first", key);
        Assert.True(txt.TryGetText("empty", out string? empty));
        Assert.Equal("", empty);
        Assert.False(txt.TryGetValue("", out _));
        Assert.False(txt.TryGetValue("missing", out _));
        Assert.Throws<ArgumentException>(() => new DnsTxtData([new byte[256]]));
    }

    [Fact]
    public void NsecBitmapsSpanWindows()
    {
        // Type 1 (A) in window 0, type 0x0101 in window 1: two blocks.
        var nsec = new DnsNsecData(DnsName.Parse("h.local"), [DnsRecordType.A, (DnsRecordType)0x0101, DnsRecordType.Aaaa]);
        Assert.Equal("0168056C6F63616C00" + "000440000008" + "010140", Convert.ToHexString(nsec.GetCanonicalBytes()));
        DnsMessage response = DnsMessage.CreateResponse();
        response.Additionals.Add(new DnsResourceRecord(DnsName.Parse("h.local"), nsec, 120, cacheFlush: true));
        Assert.True(DnsMessage.TryRead(response.ToArray(), out DnsMessage? back, out _));
        Assert.Equal([DnsRecordType.A, DnsRecordType.Aaaa, (DnsRecordType)0x0101], Assert.IsType<DnsNsecData>(back.Additionals[0].Data).Types);
    }

    public static TheoryData<string, string, DnsReadError> Malformed => new()
    {
        // 11 bytes: the header is 12.
        { "short header", "0000000000010000000000", DnsReadError.Truncated },
        // QDCOUNT 1 but nothing follows.
        { "missing question", "000000000001000000000000", DnsReadError.Truncated },
        // Name at offset 12 is a pointer to offset 12: itself.
        { "pointer to itself", "000000000001000000000000" + "C00C00010001", DnsReadError.BadPointer },
        // Pointer to offset 0x20, after itself.
        { "forward pointer", "000000000001000000000000" + "C020000100010000000000000000000000000000", DnsReadError.BadPointer },
        // Label byte 0x40 and 0x80: extended label types.
        { "label type 01", "000000000001000000000000" + "4161000001 0001", DnsReadError.BadLabelType },
        { "label type 10", "000000000001000000000000" + "8161000001 0001", DnsReadError.BadLabelType },
        // Label length 5 with 2 bytes left.
        { "label overruns message", "000000000001000000000000" + "056162", DnsReadError.Truncated },
        // Pointer byte at the very end.
        { "half pointer", "000000000001000000000000" + "0161C0", DnsReadError.Truncated },
        // Label 'a' then a pointer back to it: a loop that only the 255-byte limit stops.
        { "label loop", "000000000001000000000000" + "0161C00C00010001", DnsReadError.NameTooLong },
        // Four 63-byte labels: 257 bytes.
        { "name too long", "000000000001000000000000" + string.Concat(Enumerable.Repeat("3F" + new string('6', 126), 4)) + "0000010001", DnsReadError.NameTooLong },
        // A record with RDLENGTH 5.
        { "A RDLENGTH 5", "000084000000000100000000" + "0161000001000100000078" + "0005" + "0A00000100", DnsReadError.BadRecordData },
        // AAAA with RDLENGTH 4.
        { "AAAA RDLENGTH 4", "000084000000000100000000" + "016100001C000100000078" + "0004" + "0A000001", DnsReadError.BadRecordData },
        // TXT whose string length (9) runs past RDLENGTH (4), into bytes that exist.
        { "TXT string overruns RDLENGTH", "000084000000000100000000" + "0161000010000100000078" + "0004" + "09763D3100000000000000", DnsReadError.BadRecordData },
        // SRV whose target ends before RDLENGTH: one byte left over.
        { "SRV bytes left over", "000084000000000100000000" + "0161000021000100000078" + "0008" + "000000001F90" + "00" + "FF", DnsReadError.BadRecordData },
        // SRV target label runs past RDLENGTH.
        { "SRV target overruns RDLENGTH", "000084000000000100000000" + "0161000021000100000078" + "0008" + "000000001F90" + "03616263" + "00", DnsReadError.BadRecordData },
        // NSEC bitmap length 0 (RFC 4034 §4.1.2: 1–32).
        { "NSEC bitmap length 0", "000084000000000100000000" + "016100002F000100000078" + "0005" + "C00C" + "0000" + "00", DnsReadError.BadRecordData },
        // NSEC windows not ascending.
        { "NSEC windows descending", "000084000000000100000000" + "016100002F000100000078" + "0008" + "C00C" + "010140" + "000140", DnsReadError.BadRecordData },
        // RDLENGTH beyond the message end.
        { "RDLENGTH past end", "000084000000000100000000" + "0161000001000100000078" + "0010" + "0A000001", DnsReadError.Truncated },
        // ANCOUNT 2 with one record present.
        { "count larger than content", "000084000000000200000000" + "0161000001000100000078" + "0004" + "0A000001", DnsReadError.Truncated },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedMessagesAreRefusedWithAReason(string what, string hex, DnsReadError expected)
    {
        byte[] packet = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
        Assert.False(DnsMessage.TryRead(packet, out DnsMessage? message, out DnsReadError error), what);
        Assert.Null(message);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void PointerChainsLongerThanAnyHonestNameAreRefused()
    {
        // Question 0 is the root name; question k's name is a pointer to question k-1's name,
        // so reading question k follows k pointers without ever gaining a label.
        var bytes = new List<byte>(Convert.FromHexString("000000000000000000000000"));
        var offsets = new List<int> { 12 };
        bytes.AddRange([0, 0, 1, 0, 1]);
        const int questions = DnsReader.MaxPointerHops + 2;
        for (int k = 1; k < questions; k++)
        {
            offsets.Add(bytes.Count);
            bytes.AddRange([(byte)(0xC0 | (offsets[k - 1] >> 8)), (byte)offsets[k - 1], 0, 1, 0, 1]);
        }

        byte[] packet = [.. bytes];
        packet[5] = questions;
        Assert.False(DnsMessage.TryRead(packet, out _, out DnsReadError error));
        Assert.Equal(DnsReadError.PointerLoop, error);

        // One question fewer needs exactly MaxPointerHops pointers: accepted.
        packet[5] = questions - 1;
        Assert.True(DnsMessage.TryRead(packet, out DnsMessage? message, out _));
        Assert.All(message.Questions, q => Assert.True(q.Name.IsRoot));
    }

    [Fact]
    public void CompressedNamesInsideRdataAreExpanded()
    {
        // PTR and SRV targets as pointers into the question (RFC 6762 §18.14 allows it).
        DnsMessage response = DnsMessage.CreateResponse();
        DnsName type = DnsName.Parse("_meshagent._udp.local");
        DnsName instance = type.Prepend("node one");
        response.Answers.Add(new DnsResourceRecord(type, new DnsPtrData(instance), 4500));
        response.Answers.Add(new DnsResourceRecord(instance, new DnsSrvData(0, 0, 51820, DnsName.Parse("host.local")), 120, cacheFlush: true));
        byte[] bytes = response.ToArray();
        Assert.True(DnsMessage.TryRead(bytes, out DnsMessage? back, out _));
        Assert.Equal(instance, Assert.IsType<DnsPtrData>(back.Answers[0].Data).Target);
        Assert.Equal(DnsName.Parse("host.local"), Assert.IsType<DnsSrvData>(back.Answers[1].Data).Target);
        Assert.True(back.Answers[1].CacheFlush);
        Assert.True(bytes.Length < 12 + type.WireLength + instance.WireLength + 40); // names were compressed
    }

    private static int CountOccurrences(byte[] haystack, byte[] needle)
    {
        int count = 0;
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                count++;
            }
        }

        return count;
    }
}
