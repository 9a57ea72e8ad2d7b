using System.Net;
using MeshAgent.Core.Dns;

namespace MeshAgent.Tests.Dns;

/// <summary>
/// Messages captured from avahi 0.8 and one built by hand from RFC 6762 §6.1 (Vectors/Dns/README.md).
/// The expected values come from the capture setup (avahi's command line and config), and every
/// message must be re-encoded by our writer to exactly avahi's bytes: avahi compresses every name
/// against its first occurrence, as our writer does, so any difference is a compression bug.
/// </summary>
public sealed class DnsVectorTests
{
    private static readonly DnsName ServiceType = DnsName.Parse("_meshagent._udp.local");
    private static readonly DnsName Instance = ServiceType.Prepend("alpha node");
    private static readonly DnsName Host = DnsName.Parse("avahib.local");
    private static readonly IPAddress HostIpv4 = IPAddress.Parse("10.8.0.2");
    private static readonly IPAddress HostIpv6 = IPAddress.Parse("fe80::dcda:9ff:feac:2c0d");

    public static TheoryData<string> Vectors => [.. DnsVectors.All()];

    [Theory]
    [MemberData(nameof(Vectors))]
    public void EveryVectorReadsAndRewritesToTheSameBytes(string vector)
    {
        byte[] packet = DnsVectors.Load(vector);
        Assert.True(DnsMessage.TryRead(packet, out DnsMessage? message, out DnsReadError error), $"{vector}: {error}");
        Assert.Equal(Convert.ToHexString(packet), Convert.ToHexString(message.ToArray()));
    }

    [Fact]
    public void ProbeAsksAnyAndProposesSrvAndTxtInTheAuthoritySection()
    {
        DnsMessage probe = Read("avahi-probe");
        Assert.False(probe.IsResponse);
        Assert.Equal(0, probe.Id);
        DnsQuestion question = Assert.Single(probe.Questions);
        Assert.Equal(Instance, question.Name);
        Assert.Equal(DnsRecordType.Any, question.Type);
        Assert.False(question.UnicastResponse);
        Assert.Empty(probe.Answers);
        Assert.Equal(2, probe.Authorities.Count);
        DnsSrvData srv = Assert.IsType<DnsSrvData>(Assert.Single(probe.Authorities, r => r.Type == DnsRecordType.Srv).Data);
        Assert.Equal(51820, srv.Port);
        Assert.Equal(Host, srv.Target);
        DnsResourceRecord txt = Assert.Single(probe.Authorities, r => r.Type == DnsRecordType.Txt);
        Assert.All(probe.Authorities, r => Assert.False(r.CacheFlush)); // probes never set cache-flush (RFC 6762 §10.2)
        AssertTxt(txt);
    }

    [Fact]
    public void AnnouncementCarriesTheWholeServiceWithCacheFlushOnUniqueRecords()
    {
        DnsMessage announcement = Read("avahi-service-announcement");
        Assert.True(announcement.IsResponse);
        Assert.True(announcement.IsAuthoritative);
        Assert.Empty(announcement.Questions);
        Assert.Equal(6, announcement.Answers.Count);

        DnsResourceRecord ptr = Assert.Single(announcement.Answers, r => r.Type == DnsRecordType.Ptr && r.Name.Equals(ServiceType));
        Assert.Equal(Instance, Assert.IsType<DnsPtrData>(ptr.Data).Target);
        Assert.False(ptr.CacheFlush); // shared record
        Assert.Equal(4500u, ptr.Ttl);

        DnsResourceRecord enumeration = Assert.Single(announcement.Answers, r => r.Name.Equals(DnsName.Parse("_services._dns-sd._udp.local")));
        Assert.Equal(ServiceType, Assert.IsType<DnsPtrData>(enumeration.Data).Target);

        DnsResourceRecord srv = Assert.Single(announcement.Answers, r => r.Type == DnsRecordType.Srv);
        Assert.True(srv.CacheFlush);
        Assert.Equal(120u, srv.Ttl);
        AssertTxt(Assert.Single(announcement.Answers, r => r.Type == DnsRecordType.Txt));
        Assert.Equal(HostIpv4, Assert.IsType<DnsAData>(Assert.Single(announcement.Answers, r => r.Type == DnsRecordType.A).Data).Address);
        Assert.Equal(HostIpv6, Assert.IsType<DnsAaaaData>(Assert.Single(announcement.Answers, r => r.Type == DnsRecordType.Aaaa).Data).Address);
    }

    [Fact]
    public void BrowseQueryCarriesTheKnownAnswer()
    {
        DnsMessage query = Read("avahi-browse-query-known-answer");
        DnsQuestion question = Assert.Single(query.Questions);
        Assert.Equal(new DnsQuestion(ServiceType, DnsRecordType.Ptr), question);
        DnsResourceRecord known = Assert.Single(query.Answers);
        Assert.Equal(Instance, Assert.IsType<DnsPtrData>(known.Data).Target);
        Assert.True(question.IsAnsweredBy(known.Name, known.Type, known.Class));
    }

    [Fact]
    public void GoodbyeHasTtlZeroForTheServiceRecords()
    {
        DnsMessage goodbye = Read("avahi-goodbye");
        Assert.All(goodbye.Answers.Where(r => r.Name.IsSubdomainOf(ServiceType) || r.Name.Equals(DnsName.Parse("_services._dns-sd._udp.local"))),
            r => Assert.Equal(0u, r.Ttl));
        Assert.All(goodbye.Answers.Where(r => r.Name.Equals(Host)), r => Assert.Equal(120u, r.Ttl));
    }

    [Fact]
    public void HostAnnouncementHasAddressesAndReversePointers()
    {
        DnsMessage message = Read("avahi-host-announcement");
        Assert.Contains(message.Answers, r => r.Data is DnsAData a && a.Address.Equals(HostIpv4) && r.Name.Equals(Host));
        Assert.Contains(message.Answers, r => r.Data is DnsAaaaData a && a.Address.Equals(HostIpv6) && r.Name.Equals(Host));
        DnsResourceRecord reverse = Assert.Single(message.Answers, r => r.Name.Equals(DnsName.Parse("2.0.8.10.in-addr.arpa")));
        Assert.Equal(Host, Assert.IsType<DnsPtrData>(reverse.Data).Target);
        Assert.All(message.Answers, r => Assert.True(r.CacheFlush));
    }

    [Fact]
    public void NsecNegativeResponseListsOnlyTheTypeThatExists()
    {
        DnsMessage message = Read("rfc6762-nsec-negative-response");
        DnsName host = DnsName.Parse("host.local");
        DnsResourceRecord a = Assert.Single(message.Answers);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), Assert.IsType<DnsAData>(a.Data).Address);
        DnsResourceRecord nsec = Assert.Single(message.Additionals);
        Assert.Equal(host, nsec.Name);
        DnsNsecData data = Assert.IsType<DnsNsecData>(nsec.Data);
        Assert.Equal(host, data.NextDomainName);
        Assert.Equal([DnsRecordType.A], data.Types);
        Assert.False(data.HasType(DnsRecordType.Aaaa));

        // Built from our own types, the same message comes out byte for byte.
        DnsMessage built = DnsMessage.CreateResponse();
        built.Answers.Add(new DnsResourceRecord(host, new DnsAData(IPAddress.Parse("10.0.0.1")), 120, cacheFlush: true));
        built.Additionals.Add(new DnsResourceRecord(host, new DnsNsecData(host, [DnsRecordType.A]), 120, cacheFlush: true));
        Assert.Equal(Convert.ToHexString(DnsVectors.Load("rfc6762-nsec-negative-response")), Convert.ToHexString(built.ToArray()));
    }

    private static DnsMessage Read(string vector)
    {
        Assert.True(DnsMessage.TryRead(DnsVectors.Load(vector), out DnsMessage? message, out DnsReadError error), error.ToString());
        return message;
    }

    private static void AssertTxt(DnsResourceRecord record)
    {
        DnsTxtData txt = Assert.IsType<DnsTxtData>(record.Data);
        Assert.True(txt.TryGetText("v", out string? v));
        Assert.Equal("1", v);
        Assert.True(txt.TryGetText("NET", out string? net)); // keys ignore case (RFC 6763 §6.4)
        Assert.Equal("0123456789abcdef", net);
        Assert.True(txt.TryGetText("node", out string? node));
        Assert.Equal("meshnode1:abc", node);
    }
}
