using System.Net;
using MeshAgent.Core.Dns;
using MeshAgent.Engine.Discovery;

namespace MeshAgent.Tests.Dns.Discovery;

/// <summary>
/// MdnsService on an in-memory LAN segment with simulated time: discovery, the RFC 6762 timing of
/// probes, announcements and queries, conflicts, goodbyes, other networks, and the answering rules.
/// </summary>
public sealed class MdnsServiceTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void TwoServicesDiscoverEachOther()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1, ipv6: true);
        var b = net.Add(2, ipv6: true);
        a.Service.Start();
        b.Service.Start();
        net.Run(5 * Second);

        Assert.Equal(MdnsPublishState.Announced, a.Service.PublishState);
        Assert.Equal(MdnsPublishState.Announced, b.Service.PublishState);
        MdnsPeer seenByA = Assert.IsType<MdnsPeer>(a.PeerOf(b));
        Assert.Equal(MdnsTestNet.NetworkTag, seenByA.NetworkTag);
        Assert.Equal("node2", seenByA.InstanceName);
        // IPv4 first; the link-local IPv6 address carries the scope of the interface it was heard on.
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.2"), 41002), new IPEndPoint(IPAddress.Parse("fe80::2%2"), 41002)], seenByA.Endpoints);
        Assert.Equal(2, seenByA.Endpoints[1].Address.ScopeId);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.1"), 41001), new IPEndPoint(IPAddress.Parse("fe80::1%2"), 41001)], b.PeerOf(a)!.Endpoints);

        // Exactly one event each, and nobody reports itself.
        Assert.Single(a.Events);
        Assert.True(a.Events[0].Discovered);
        Assert.Single(b.Events);
        Assert.Single(a.Service.Peers);
        Assert.Single(b.Service.Peers);
        Assert.Equal(0, a.Service.Counters.Conflicts + b.Service.Counters.Conflicts);
    }

    [Fact]
    public void ProbesThenAnnouncementsFollowRfc6762Section8Timing()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1, browse: false);
        a.Service.Start();
        net.Run(5 * Second);

        var sent = net.Bus.Log.Where(p => p.From == "node1").ToList();
        var probes = sent.Where(p => p.Message is { IsResponse: false, Authorities.Count: > 0 }).ToList();
        var announcements = sent.Where(p => p.Message is { IsResponse: true }).ToList();
        Assert.Equal(3, probes.Count);
        Assert.Equal(2, announcements.Count);
        Assert.Equal(sent.Count, probes.Count + announcements.Count);

        Assert.InRange(probes[0].At, TimeSpan.Zero, TimeSpan.FromMilliseconds(250));
        Assert.Equal(TimeSpan.FromMilliseconds(250), probes[1].At - probes[0].At);
        Assert.Equal(TimeSpan.FromMilliseconds(250), probes[2].At - probes[1].At);
        Assert.Equal(TimeSpan.FromMilliseconds(250), announcements[0].At - probes[2].At);
        Assert.Equal(Second, announcements[1].At - announcements[0].At);

        // Probe: ANY questions for both unique names, QU on the first only, proposals without cache-flush.
        DnsMessage first = probes[0].Message!;
        Assert.Equal(["node1._meshagent._udp.local", "host1.local"], first.Questions.Select(q => q.Name.ToString()));
        Assert.All(first.Questions, q => Assert.Equal(DnsRecordType.Any, q.Type));
        Assert.All(first.Questions, q => Assert.True(q.UnicastResponse));
        Assert.All(probes[1].Message!.Questions, q => Assert.False(q.UnicastResponse));
        Assert.Equal([DnsRecordType.Srv, DnsRecordType.Txt, DnsRecordType.A], first.Authorities.Select(r => r.Type));
        Assert.All(first.Authorities, r => Assert.False(r.CacheFlush));

        // Announcement: every record; unique ones with cache-flush, PTRs shared (RFC 6762 §8.3, §10.2).
        DnsMessage announcement = announcements[0].Message!;
        Assert.True(announcement.IsAuthoritative);
        Assert.Equal(0, announcement.Id);
        var srv = Assert.IsType<DnsSrvData>(Assert.Single(announcement.Answers, r => r.Type == DnsRecordType.Srv).Data);
        Assert.Equal(41001, srv.Port);
        Assert.Equal("host1.local", srv.Target.ToString());
        var txt = Assert.IsType<DnsTxtData>(Assert.Single(announcement.Answers, r => r.Type == DnsRecordType.Txt).Data);
        Assert.Equal(["v=1", $"net={MdnsTestNet.NetworkTag}", $"node={MdnsTestNet.NodeKey(1)}"], txt.Strings.Select(s => System.Text.Encoding.UTF8.GetString(s)));
        Assert.All(announcement.Answers, r => Assert.Equal(r.Type != DnsRecordType.Ptr, r.CacheFlush));
        Assert.Contains(announcement.Answers, r => r.Type == DnsRecordType.Ptr && r.Name.ToString() == "_services._dns-sd._udp.local");
        Assert.Equal([120u, 4500u], announcement.Answers.Where(r => r.Type is DnsRecordType.Srv or DnsRecordType.Txt).Select(r => r.Ttl));
    }

    [Fact]
    public void BrowseQueriesBackOffFromOneSecondToSixtyMinutes()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1, publish: false);
        a.Service.Start();
        net.Run(TimeSpan.FromHours(4));

        var queries = net.Bus.Log.Where(p => p.From == "node1").ToList();
        Assert.All(queries, q => Assert.Equal(new DnsQuestion(MdnsService.ServiceType, DnsRecordType.Ptr), Assert.Single(q.Message!.Questions)));
        Assert.InRange(queries[0].At, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(120));
        TimeSpan[] gaps = [.. queries.Zip(queries.Skip(1), (x, y) => y.At - x.At)];
        TimeSpan[] expected = [.. Enumerable.Range(0, 12).Select(k => TimeSpan.FromSeconds(1 << k)), TimeSpan.FromMinutes(60), TimeSpan.FromMinutes(60)];
        Assert.Equal(expected, gaps[..expected.Length]);
    }

    [Fact]
    public void InstanceNameConflictRenamesTheLaterService()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1, instance: "office");
        var b = net.Add(2, instance: "office");
        a.Service.Start();
        net.Run(3 * Second);
        b.Service.Start();
        net.Run(5 * Second);

        Assert.Equal("office", a.Service.InstanceName);
        Assert.Equal("office (2)", b.Service.InstanceName);
        Assert.Equal(1, b.Service.Counters.Conflicts);
        Assert.Equal(0, a.Service.Counters.Conflicts);
        Assert.Equal(MdnsPublishState.Announced, b.Service.PublishState);
        Assert.Equal("office (2)", a.PeerOf(b)!.InstanceName);
        Assert.Equal("office", b.PeerOf(a)!.InstanceName);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void SimultaneousProbesEndWithDistinctNames(int seed)
    {
        // Started together, both probe at once: the tie-break (RFC 6762 §8.2) makes one wait, and
        // its next probe meets the winner's defence.
        using var net = new MdnsTestNet(seed);
        var a = net.Add(1, instance: "same", host: "box");
        var b = net.Add(2, instance: "same", host: "box");
        a.Service.Start();
        b.Service.Start();
        net.Run(10 * Second);

        Assert.Equal(["same", "same (2)"], new[] { a.Service.InstanceName, b.Service.InstanceName }.Order());
        Assert.Equal(["box", "box-2"], new[] { a.Service.HostName, b.Service.HostName }.Order());
        // One of them lost the tie-break, waited, met the winner's defence and renamed both names.
        Assert.True(a.Service.Counters.ProbeTieBreaksLost + b.Service.Counters.ProbeTieBreaksLost >= 1);
        var loser = a.Service.InstanceName == "same" ? b : a;
        Assert.Equal(2, loser.Service.Counters.Conflicts);
        Assert.Equal("box-2", loser.Service.HostName);
        Assert.Equal(MdnsPublishState.Announced, a.Service.PublishState);
        Assert.Equal(MdnsPublishState.Announced, b.Service.PublishState);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 41002), Assert.Single(a.PeerOf(b)!.Endpoints));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 41001), Assert.Single(b.PeerOf(a)!.Endpoints));
    }

    [Fact]
    public void TieBreakComparesClassTypeThenRdata()
    {
        DnsName name = DnsName.Parse("x.local");
        DnsResourceRecord A(string address) => new(name, new DnsAData(IPAddress.Parse(address)), 120);
        Assert.True(MdnsService.CompareRecordSets([A("10.0.0.1")], [A("10.0.0.2")]) < 0);
        Assert.True(MdnsService.CompareRecordSets([A("10.0.0.2")], [A("10.0.0.1")]) > 0);
        Assert.Equal(0, MdnsService.CompareRecordSets([A("10.0.0.1"), A("10.0.0.3")], [A("10.0.0.3"), A("10.0.0.1")]));
        // A record of a later type wins whatever its data; a longer set wins over its prefix.
        DnsResourceRecord aaaa = new(name, new DnsAaaaData(IPAddress.Parse("::1")), 120);
        Assert.True(MdnsService.CompareRecordSets([A("255.255.255.255")], [aaaa]) < 0);
        Assert.True(MdnsService.CompareRecordSets([A("10.0.0.1")], [A("10.0.0.1"), A("10.0.0.2")]) < 0);
    }

    [Fact]
    public void GoodbyeMakesThePeerLostOneSecondLater()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1);
        var b = net.Add(2);
        a.Service.Start();
        b.Service.Start();
        net.Run(5 * Second);
        Assert.NotNull(a.PeerOf(b));

        TimeSpan stoppedAt = net.Clock.Elapsed;
        b.Service.Dispose();
        var goodbye = Assert.Single(net.Bus.Log, p => p.From == "node2" && p.At == stoppedAt);
        Assert.All(goodbye.Message!.Answers, r => Assert.Equal(0u, r.Ttl));
        Assert.Contains(goodbye.Message!.Answers, r => r.Type == DnsRecordType.Ptr && r.Name.Equals(MdnsService.ServiceType));

        net.Run(TimeSpan.FromMilliseconds(900));
        Assert.NotNull(a.PeerOf(b)); // RFC 6762 §10.1: a goodbye record lives one more second
        net.Run(TimeSpan.FromMilliseconds(200));
        Assert.Null(a.PeerOf(b));
        var lost = a.Events.Last();
        Assert.False(lost.Discovered);
        Assert.Equal(b.Key, lost.Peer.NodePublicKeyText);
        Assert.Equal(stoppedAt + Second, lost.At);
    }

    [Fact]
    public void PeerIsLostWhenItsRecordsExpireWithoutGoodbye()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1);
        var b = net.Add(2);
        a.Service.Start();
        b.Service.Start();
        net.Run(5 * Second);

        // B vanishes (power cut): nothing it sends arrives any more, and it answers nothing.
        net.Bus.Drop = p => p.From == "node2";
        net.Run(TimeSpan.FromSeconds(100));
        Assert.NotNull(a.PeerOf(b));
        // SRV and A live 120 s; A asked again at 80–95 % of that (RFC 6762 §5.2) and got no answer.
        net.Run(TimeSpan.FromSeconds(30));
        Assert.Null(a.PeerOf(b));
        List<TimeSpan> refreshes = [.. net.Bus.Log
            .Where(p => p.From == "node1" && p.At > 5 * Second && p.Message!.Questions.Count == 1 && p.Message.Questions[0].Type == DnsRecordType.Srv)
            .Select(p => p.At)];
        Assert.Equal(4, refreshes.Count);
        Assert.All(refreshes, at => Assert.InRange(at, TimeSpan.FromSeconds(96), TimeSpan.FromSeconds(122)));
        TimeSpan lostAt = Assert.Single(a.Events, e => !e.Discovered).At;
        Assert.True(lostAt > refreshes[^1]);

        // With the PTR still cached (TTL 4500 s) the instance is looked up again: SRV+TXT at 1, 2, 4 s gaps, then silence.
        List<TimeSpan> lookups = [.. net.Bus.Log
            .Where(p => p.From == "node1" && p.Message!.Questions.Select(q => q.Type).SequenceEqual([DnsRecordType.Srv, DnsRecordType.Txt]))
            .Select(p => p.At)];
        net.Run(TimeSpan.FromSeconds(60));
        Assert.Equal(4, net.Bus.Log.Count(p => p.From == "node1" && p.Message!.Questions.Select(q => q.Type).SequenceEqual([DnsRecordType.Srv, DnsRecordType.Txt])));
        Assert.Equal([Second, 2 * Second], lookups.Zip(lookups.Skip(1), (x, y) => y - x).Take(2));
    }

    [Fact]
    public void AgentsOfAnotherNetworkAreIgnored()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1);
        var other = net.Add(3, tag: MdnsTestNet.OtherNetworkTag);
        var b = net.Add(2);
        a.Service.Start();
        other.Service.Start();
        b.Service.Start();
        net.Run(5 * Second);

        Assert.Equal([b.Key], a.Service.Peers.Select(p => p.NodePublicKeyText));
        Assert.Empty(other.Service.Peers);
        Assert.Equal(1, a.Service.Counters.ForeignNetworkInstances);
        Assert.Equal(2, other.Service.Counters.ForeignNetworkInstances);
        Assert.DoesNotContain(a.Events, e => e.Peer.NodePublicKeyText == other.Key);
    }

    [Fact]
    public void KnownAnswerSuppressesTheResponse()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1, browse: false);
        a.Service.Start();
        net.Run(5 * Second);

        var querier = new IPEndPoint(IPAddress.Parse("10.0.0.9"), MdnsProtocol.Port);
        DnsMessage query = DnsMessage.CreateQuery();
        query.Questions.Add(new DnsQuestion(MdnsService.ServiceType, DnsRecordType.Ptr));
        var ptr = new DnsResourceRecord(MdnsService.ServiceType, new DnsPtrData(MdnsService.ServiceType.Prepend("node1")), 4500);

        // Known with more than half the TTL left: no answer (RFC 6762 §7.1).
        query.Answers.Add(ptr.WithTtl(2300));
        int before = net.Bus.Log.Count;
        net.Bus.Inject(query.ToArray(), querier);
        net.Run(Second);
        Assert.Equal(before + 1, net.Bus.Log.Count);
        Assert.Equal(1, a.Service.Counters.SuppressedAnswers);

        // Less than half left: answered, after the 20–120 ms delay for shared records (RFC 6762 §6).
        query.Answers[0] = ptr.WithTtl(2200);
        TimeSpan asked = net.Clock.Elapsed;
        net.Bus.Inject(query.ToArray(), querier);
        net.Run(Second);
        var response = Assert.Single(net.Bus.Log, p => p.From == "node1" && p.At > asked);
        Assert.InRange(response.At - asked, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(120));
        Assert.True(response.IsMulticast);
        Assert.True(Assert.Single(response.Message!.Answers).IsSameRecord(ptr));
        // RFC 6763 §12.1: SRV, TXT and the address come along as additional records.
        Assert.Equal([DnsRecordType.Srv, DnsRecordType.Txt, DnsRecordType.A, DnsRecordType.Nsec], response.Message.Additionals.Select(r => r.Type));
    }

    [Fact]
    public void MissingAddressFamilyIsDeniedWithNsec()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1, browse: false);
        a.Service.Start();
        net.Run(5 * Second);

        DnsMessage query = DnsMessage.CreateQuery();
        query.Questions.Add(new DnsQuestion(DnsName.Parse("host1.local"), DnsRecordType.Aaaa));
        TimeSpan asked = net.Clock.Elapsed;
        net.Bus.Inject(query.ToArray(), new IPEndPoint(IPAddress.Parse("10.0.0.9"), MdnsProtocol.Port));
        net.Run(Second);

        // A negative answer is unique: sent at once (RFC 6762 §6.1).
        var response = Assert.Single(net.Bus.Log, p => p.From == "node1" && p.At >= asked);
        Assert.Equal(asked, response.At);
        Assert.Empty(response.Message!.Answers);
        DnsResourceRecord nsec = Assert.Single(response.Message.Additionals);
        var data = Assert.IsType<DnsNsecData>(nsec.Data);
        Assert.Equal("host1.local", data.NextDomainName.ToString());
        Assert.Equal([DnsRecordType.A], data.Types);
    }

    [Fact]
    public void LegacyUnicastQueryGetsItsIdQuestionAndShortTtls()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1, browse: false);
        a.Service.Start();
        net.Run(5 * Second);

        DnsMessage query = DnsMessage.CreateQuery();
        query.Id = 0x4242;
        DnsName instance = MdnsService.ServiceType.Prepend("node1");
        query.Questions.Add(new DnsQuestion(instance, DnsRecordType.Srv));
        var querier = new IPEndPoint(IPAddress.Parse("10.0.0.9"), 40000);
        net.Bus.Inject(query.ToArray(), querier);
        net.Run(Second);

        var response = Assert.Single(net.Bus.Log, p => p.From == "node1" && p.Destination.Equals(querier));
        Assert.Equal(0x4242, response.Message!.Id);
        Assert.Equal(query.Questions, response.Message.Questions);
        DnsResourceRecord srv = Assert.Single(response.Message.Answers);
        Assert.Equal(DnsRecordType.Srv, srv.Type);
        Assert.All(response.Message.Answers.Concat(response.Message.Additionals), r =>
        {
            Assert.InRange(r.Ttl, 1u, 10u);
            Assert.False(r.CacheFlush);
        });
    }

    [Fact]
    public void ProbeForOurNameIsDefendedAtOnce()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1, browse: false);
        a.Service.Start();
        net.Run(5 * Second);

        DnsName instance = MdnsService.ServiceType.Prepend("node1");
        DnsMessage probe = DnsMessage.CreateQuery();
        probe.Questions.Add(new DnsQuestion(instance, DnsRecordType.Any));
        probe.Authorities.Add(new DnsResourceRecord(instance, new DnsSrvData(0, 0, 1, DnsName.Parse("intruder.local")), 120));
        TimeSpan asked = net.Clock.Elapsed;
        net.Bus.Inject(probe.ToArray(), new IPEndPoint(IPAddress.Parse("10.0.0.9"), MdnsProtocol.Port));
        net.Run(Second);

        var defence = Assert.Single(net.Bus.Log, p => p.From == "node1" && p.At >= asked);
        Assert.Equal(asked, defence.At);
        Assert.Equal([DnsRecordType.Txt, DnsRecordType.Srv], defence.Message!.Answers.Select(r => r.Type).Order());
        Assert.Equal("node1", a.Service.InstanceName);
    }

    [Fact]
    public void ChangedAddressIsReportedAndTheOldOneFlushed()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1);
        var b = net.Add(2);
        a.Service.Start();
        b.Service.Start();
        net.Run(5 * Second);

        b.Transport.Readdress(new MdnsInterfaceAddress(IPAddress.Parse("10.0.0.22"), 24));
        net.Run(5 * Second);

        // The new A record carries cache-flush: the old one goes after a second (RFC 6762 §10.2).
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.22"), 41002)], a.PeerOf(b)!.Endpoints);
        var discovered = a.Events.Where(e => e.Discovered).Select(e => e.Peer.Endpoints.Select(x => x.ToString()).ToArray()).ToList();
        Assert.Equal(["10.0.0.2:41002"], discovered[0]);
        Assert.Equal(["10.0.0.22:41002"], discovered[^1]);
        Assert.DoesNotContain(a.Events, e => !e.Discovered);
    }

    [Fact]
    public void MalformedAndForeignPacketsAreCountedNotThrown()
    {
        using var net = new MdnsTestNet();
        var a = net.Add(1);
        a.Service.Start();
        net.Run(3 * Second);

        var source = new IPEndPoint(IPAddress.Parse("10.0.0.9"), MdnsProtocol.Port);
        net.Bus.Inject([1, 2, 3], source);
        net.Bus.Inject(Convert.FromHexString("000084000000000100000000C00C"), source);
        // A response from off the link (RFC 6762 §11) and one not from port 5353 are ignored.
        net.Bus.Inject(DnsVectors.Load("avahi-service-announcement"), new IPEndPoint(IPAddress.Parse("192.0.2.1"), MdnsProtocol.Port));
        net.Bus.Inject(DnsVectors.Load("avahi-service-announcement"), new IPEndPoint(IPAddress.Parse("10.0.0.9"), 40000));
        net.Run(Second);

        Assert.Equal(2, a.Service.Counters.MalformedPackets);
        Assert.Equal(2, a.Service.Counters.IgnoredPackets);
        Assert.Equal(0, a.Service.Counters.InvalidInstances);
    }

    [Fact]
    public void AvahiAnnouncementIsReadButItsTxtIsNotAnAgent()
    {
        // The captured avahi-publish announcement (Vectors/Dns) names node=meshnode1:abc, not a key.
        using var net = new MdnsTestNet();
        var a = net.Add(1);
        a.Service.Start();
        net.Run(3 * Second);
        net.Bus.Inject(DnsVectors.Load("avahi-service-announcement"), new IPEndPoint(IPAddress.Parse("10.0.0.2"), MdnsProtocol.Port));
        net.Run(Second);

        Assert.Equal(1, a.Service.Counters.InvalidInstances);
        Assert.Empty(a.Service.Peers);
    }

    [Fact]
    public void AbsurdTtlsAreCappedAtOneDay()
    {
        // TTL 2^32 - 1 s (136 years) must neither overflow a timer nor keep a peer forever.
        using var net = new MdnsTestNet();
        var a = net.Add(1);
        a.Service.Start();
        net.Run(3 * Second);

        DnsName instance = MdnsService.ServiceType.Prepend("forever");
        DnsName host = DnsName.Parse("forever.local");
        DnsMessage response = DnsMessage.CreateResponse();
        response.Answers.Add(new DnsResourceRecord(MdnsService.ServiceType, new DnsPtrData(instance), uint.MaxValue));
        response.Answers.Add(new DnsResourceRecord(instance, new DnsSrvData(0, 0, 7, host), uint.MaxValue, cacheFlush: true));
        response.Answers.Add(new DnsResourceRecord(instance, DnsTxtData.FromStrings("v=1", $"net={MdnsTestNet.NetworkTag}", $"node={MdnsTestNet.NodeKey(9)}"), uint.MaxValue, cacheFlush: true));
        response.Answers.Add(new DnsResourceRecord(host, new DnsAData(IPAddress.Parse("10.0.0.9")), uint.MaxValue, cacheFlush: true));
        TimeSpan heard = net.Clock.Elapsed;
        net.Bus.Inject(response.ToArray(), new IPEndPoint(IPAddress.Parse("10.0.0.9"), MdnsProtocol.Port));
        net.Run(Second);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.9"), 7)], Assert.Single(a.Service.Peers).Endpoints);

        net.Run(TimeSpan.FromHours(25));
        Assert.Empty(a.Service.Peers);
        Assert.Equal(heard + TimeSpan.FromDays(1), Assert.Single(a.Events, e => !e.Discovered).At);
    }

    [Fact]
    public void OptionsAreValidatedWithEveryProblemNamed()
    {
        var options = new MdnsServiceOptions
        {
            InstanceName = " ",
            HostName = "Bad_Host",
            Port = 0,
            NetworkTag = "XYZ",
            NodePublicKeyText = "nope",
            BrowseInitialInterval = TimeSpan.FromMilliseconds(10),
        };
        IReadOnlyList<string> problems = options.Validate();
        Assert.Equal(["InstanceName", "HostName", "Port", "NetworkTag", "NodePublicKeyText", "BrowseInitialInterval"],
            problems.Select(p => p[..p.IndexOf(':', StringComparison.Ordinal)]));
        var error = Assert.Throws<ArgumentException>(() => new MdnsService(options, new MdnsTestNet().Bus.Join("x", IPAddress.Loopback)));
        Assert.Contains("NetworkTag", error.Message, StringComparison.Ordinal);
    }
}
