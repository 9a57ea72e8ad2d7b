using System.Net;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Dns;

namespace MeshAgent.Tests.Dns;

/// <summary>
/// Properties of the codec: any message we can build survives write → read unchanged, and no
/// byte string — random, or a captured avahi packet with random damage — makes the reader throw.
/// </summary>
public sealed class DnsPropertyTests
{
    private static readonly Gen<byte> AnyByte = ArbMap.Default.GeneratorFor<byte>();

    // Labels as DNS-SD uses them (dots, backslashes, spaces, UTF-8) plus arbitrary bytes; names are
    // built through escaped presentation text, so Parse and EscapeLabel are exercised too.
    private static readonly Gen<byte[]> LabelBytes = Gen.OneOf(
        Gen.Elements("local", "_udp", "_meshagent", "_services", "_dns-sd", "Host", "alpha node", "x.y", @"back\slash", "日本", "ü (2)")
            .Select(System.Text.Encoding.UTF8.GetBytes),
        Gen.Choose(1, DnsName.MaxLabelLength).SelectMany(n => Gen.ArrayOf(AnyByte, n)));

    private static readonly Gen<DnsName> NameGen =
        from count in Gen.Choose(0, 5)
        from labels in Gen.ArrayOf(LabelBytes, count)
        select DnsName.TryParse(string.Join('.', labels.Select(l => DnsName.EscapeLabel(l))), out DnsName? name, out _) ? name : DnsName.Root;

    private static readonly Gen<DnsRecordData> DataGen = Gen.OneOf(
        Gen.ArrayOf(AnyByte, 4).Select(b => (DnsRecordData)new DnsAData(new IPAddress(b))),
        Gen.ArrayOf(AnyByte, 16).Select(b => (DnsRecordData)new DnsAaaaData(new IPAddress(b))),
        NameGen.Select(n => (DnsRecordData)new DnsPtrData(n)),
        from priority in Gen.Choose(0, 65535)
        from weight in Gen.Choose(0, 65535)
        from port in Gen.Choose(0, 65535)
        from target in NameGen
        select (DnsRecordData)new DnsSrvData((ushort)priority, (ushort)weight, (ushort)port, target),
        from count in Gen.Choose(0, 4)
        from strings in Gen.ArrayOf(Gen.Choose(0, 40).SelectMany(n => Gen.ArrayOf(AnyByte, n)), count)
        select (DnsRecordData)new DnsTxtData(strings),
        from next in NameGen
        from types in Gen.ArrayOf(Gen.Choose(1, 1200), 3)
        select (DnsRecordData)new DnsNsecData(next, types.Select(t => (DnsRecordType)t)),
        from type in Gen.Choose(256, 65535)
        from bytes in Gen.Choose(0, 30).SelectMany(n => Gen.ArrayOf(AnyByte, n))
        select (DnsRecordData)new DnsUnknownData((DnsRecordType)type, bytes));

    private static readonly Gen<DnsResourceRecord> RecordGen =
        from name in NameGen
        from data in DataGen
        from ttl in ArbMap.Default.GeneratorFor<uint>()
        from flush in ArbMap.Default.GeneratorFor<bool>()
        from @class in Gen.Elements<ushort>(DnsClass.Internet, DnsClass.Any, 3, 0x7FFF)
        select new DnsResourceRecord(name, data, ttl, flush, @class);

    private static readonly Gen<DnsQuestion> QuestionGen =
        from name in NameGen
        from type in Gen.Elements(DnsRecordType.A, DnsRecordType.Aaaa, DnsRecordType.Ptr, DnsRecordType.Srv, DnsRecordType.Txt, DnsRecordType.Any, (DnsRecordType)99)
        from unicast in ArbMap.Default.GeneratorFor<bool>()
        select new DnsQuestion(name, type, unicast);

    private static readonly Gen<DnsMessage> MessageGen =
        from id in Gen.Choose(0, 65535)
        from flags in Gen.Choose(0, 65535)
        from questions in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(QuestionGen, n))
        from answers in Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(RecordGen, n))
        from authorities in Gen.Choose(0, 2).SelectMany(n => Gen.ArrayOf(RecordGen, n))
        from additionals in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(RecordGen, n))
        select Build((ushort)id, (ushort)flags, questions, answers, authorities, additionals);

    private static FsCheck.Config Config(int maxTest) => FsCheck.Config.QuickThrowOnFailure.WithMaxTest(maxTest);

    [Fact]
    public void EveryMessageRoundTrips()
    {
        Check.One(Config(500), Prop.ForAll(Arb.From(MessageGen), (DnsMessage message) =>
        {
            byte[] bytes = message.ToArray(65535);
            Assert.True(DnsMessage.TryRead(bytes, out DnsMessage? back, out DnsReadError error), error.ToString());
            AssertSameMessage(message, back);
            // Writing what was read gives the same bytes: compression is deterministic.
            Assert.Equal(bytes, back.ToArray(65535));
        }));
    }

    [Fact]
    public void NamesRoundTripThroughPresentationText()
    {
        Check.One(Config(1000), Prop.ForAll(Arb.From(NameGen), (DnsName name) =>
        {
            DnsName back = DnsName.Parse(name.ToString());
            Assert.Equal(name.WireForm.ToArray(), back.WireForm.ToArray());
        }));
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        Gen<byte[]> packets = Gen.Choose(0, 300).SelectMany(n => Gen.ArrayOf(AnyByte, n));
        Check.One(Config(3000), Prop.ForAll(Arb.From(packets), (byte[] packet) =>
        {
            if (DnsMessage.TryRead(packet, out DnsMessage? message, out _))
            {
                ReadBackIsStable(message);
            }
        }));
    }

    [Fact]
    public void DamagedAvahiPacketsNeverThrow()
    {
        byte[][] captured = [.. DnsVectors.All().Select(DnsVectors.Load)];
        Gen<byte[]> damaged =
            from index in Gen.Choose(0, captured.Length - 1)
            from kind in Gen.Choose(0, 3)
            from position in Gen.Choose(0, 10_000)
            from value in AnyByte
            from count in Gen.Choose(1, 8)
            select Damage(captured[index], kind, position, value, count);
        Check.One(Config(5000), Prop.ForAll(Arb.From(damaged), (byte[] packet) =>
        {
            if (DnsMessage.TryRead(packet, out DnsMessage? message, out _))
            {
                ReadBackIsStable(message);
            }
        }));
    }

    // A message that was read may hold names or RDATA we cannot re-send (unknown types keep raw
    // pointers), but every record we understood must survive a second pass unchanged.
    private static void ReadBackIsStable(DnsMessage message)
    {
        _ = message.ToString();
        foreach (DnsResourceRecord record in message.Answers.Concat(message.Authorities).Concat(message.Additionals))
        {
            _ = record.ToString();
        }

        if (message.TryWrite(new byte[65535], out int written) && written > 0)
        {
            byte[] again = message.ToArray(65535);
            Assert.True(DnsMessage.TryRead(again, out DnsMessage? back, out DnsReadError error), error.ToString());
            AssertSameMessage(message, back);
        }
    }

    private static byte[] Damage(byte[] original, int kind, int position, byte value, int count)
    {
        byte[] packet = (byte[])original.Clone();
        int at = position % Math.Max(1, packet.Length);
        switch (kind)
        {
            case 0: // overwrite bytes
                for (int i = 0; i < count && at + i < packet.Length; i++)
                {
                    packet[at + i] = (byte)(value + i * 37);
                }

                return packet;
            case 1: // truncate
                return packet[..at];
            case 2: // flip one bit
                packet[at] ^= (byte)(1 << (value & 7));
                return packet;
            default: // insert bytes
                return [.. packet[..at], .. Enumerable.Repeat(value, count), .. packet[at..]];
        }
    }

    private static DnsMessage Build(ushort id, ushort flags, DnsQuestion[] questions, DnsResourceRecord[] answers, DnsResourceRecord[] authorities, DnsResourceRecord[] additionals)
    {
        var message = new DnsMessage { Id = id, Flags = flags };
        message.Questions.AddRange(questions);
        message.Answers.AddRange(answers);
        message.Authorities.AddRange(authorities);
        message.Additionals.AddRange(additionals);
        return message;
    }

    private static void AssertSameMessage(DnsMessage expected, DnsMessage actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Flags, actual.Flags);
        Assert.Equal(expected.Questions.Count, actual.Questions.Count);
        for (int i = 0; i < expected.Questions.Count; i++)
        {
            Assert.Equal(expected.Questions[i], actual.Questions[i]);
            Assert.Equal(expected.Questions[i].Name.WireForm.ToArray(), actual.Questions[i].Name.WireForm.ToArray());
        }

        AssertSameRecords(expected.Answers, actual.Answers);
        AssertSameRecords(expected.Authorities, actual.Authorities);
        AssertSameRecords(expected.Additionals, actual.Additionals);
    }

    private static void AssertSameRecords(List<DnsResourceRecord> expected, List<DnsResourceRecord> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].IsSameRecord(actual[i]), $"{expected[i]} != {actual[i]}");
            Assert.Equal(expected[i].Ttl, actual[i].Ttl);
            Assert.Equal(expected[i].CacheFlush, actual[i].CacheFlush);
            Assert.Equal(expected[i].Name.WireForm.ToArray(), actual[i].Name.WireForm.ToArray());
        }
    }
}
