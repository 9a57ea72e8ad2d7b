using MeshAgent.Core.Dns;
using MeshAgent.Core.Trust;

namespace MeshAgent.Engine.Discovery;

// Publishing: probing, announcing, conflicts, answering queries, goodbyes (RFC 6762 §6–§10).
public sealed partial class MdnsService
{
    /// <summary>RFC 6762 §8.1: after 15 conflicts within 10 s, wait 5 s before each further probe.</summary>
    private const int ConflictBurst = 15;

    private static readonly TimeSpan ConflictWindow = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ConflictBackoff = TimeSpan.FromSeconds(5);

    /// <summary>RFC 6762 §8.2: the loser of a simultaneous probe waits 1 s and probes again.</summary>
    private static readonly TimeSpan TieBreakDelay = TimeSpan.FromSeconds(1);

    /// <summary>RFC 6762 §6: a record is multicast at most once per second on a link, or every 250 ms to defend against a probe.</summary>
    private static readonly TimeSpan MulticastRateLimit = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan ProbeDefenseRateLimit = TimeSpan.FromMilliseconds(250);

    private readonly NodePublicKey _ownNodeKey;
    private readonly DnsTxtData _txt;
    private readonly Queue<TimeSpan> _recentConflicts = new();
    private readonly Dictionary<(int Interface, RecordKey Record), TimeSpan> _lastMulticast = [];
    private readonly Dictionary<int, PendingResponse> _pendingResponses = [];
    private MdnsPublishState _publishState;
    private string _instanceLabel = "";
    private string _hostLabel = "";
    private DnsName _instanceName = DnsName.Root;
    private DnsName _hostName = DnsName.Root;
    private int _instanceAttempt;
    private int _hostAttempt;
    private int _probesSent;
    private int _announcementsSent;
    private TimeSpan _publishStepAt = Never;
    private HashSet<RecordKey> _ownRecordKeys = [];

    /// <summary>Name, type and RDATA: what makes two records "the same record" (RFC 6762 §7.1, §8.2).</summary>
    private readonly record struct RecordKey(DnsName Name, DnsRecordType Type, DnsRecordData Data)
    {
        public static RecordKey Of(DnsResourceRecord record) => new(record.Name, record.Type, record.Data);
    }

    /// <summary>A multicast answer waiting out its random delay (RFC 6762 §6: shared records wait 20–120 ms).</summary>
    private sealed class PendingResponse(TimeSpan deadline)
    {
        public TimeSpan Deadline { get; } = deadline;

        public List<DnsResourceRecord> Answers { get; } = [];

        public List<DnsResourceRecord> Negatives { get; } = [];
    }

    private void SetNames(int instanceAttempt, int hostAttempt)
    {
        _instanceAttempt = instanceAttempt;
        _hostAttempt = hostAttempt;
        _instanceLabel = MdnsNames.InstanceLabel(_options.InstanceName, instanceAttempt);
        _hostLabel = MdnsNames.HostLabel(_options.HostName, hostAttempt);
        _instanceName = ServiceType.Prepend(_instanceLabel);
        _hostName = MdnsProtocol.LocalDomain.Prepend(_hostLabel);
        RebuildOwnRecordKeys();
    }

    private void RebuildOwnRecordKeys()
    {
        var keys = new HashSet<RecordKey>();
        foreach (DnsResourceRecord record in ServiceRecords())
        {
            keys.Add(RecordKey.Of(record));
        }

        foreach (MdnsInterface iface in _interfaces)
        {
            foreach (DnsResourceRecord record in AddressRecords(iface))
            {
                keys.Add(RecordKey.Of(record));
            }
        }

        _ownRecordKeys = keys;
    }

    /// <summary>True for a record we publish on some interface: our own packets heard back, or an identical copy, never conflict (RFC 6762 §8.2, §9).</summary>
    private bool IsOurs(DnsResourceRecord record) =>
        record.Class == DnsClass.Internet && _ownRecordKeys.Contains(RecordKey.Of(record));

    /// <summary>PTR from the service type and from the enumeration name (shared), SRV and TXT (unique, cache-flush).</summary>
    private IEnumerable<DnsResourceRecord> ServiceRecords()
    {
        yield return new DnsResourceRecord(ServiceType, new DnsPtrData(_instanceName), MdnsProtocol.OtherRecordTtl);
        yield return new DnsResourceRecord(MdnsProtocol.ServiceTypeEnumeration, new DnsPtrData(ServiceType), MdnsProtocol.OtherRecordTtl);
        yield return SrvRecord(cacheFlush: true);
        yield return TxtRecord(cacheFlush: true);
    }

    private DnsResourceRecord SrvRecord(bool cacheFlush) =>
        new(_instanceName, new DnsSrvData(0, 0, (ushort)_options.Port, _hostName), MdnsProtocol.HostRecordTtl, cacheFlush);

    private DnsResourceRecord TxtRecord(bool cacheFlush) => new(_instanceName, _txt, MdnsProtocol.OtherRecordTtl, cacheFlush);

    /// <summary>A and AAAA of "&lt;host&gt;.local" with this interface's addresses only (RFC 6762 §6.2).</summary>
    private IEnumerable<DnsResourceRecord> AddressRecords(MdnsInterface iface, bool cacheFlush = true)
    {
        foreach (var address in iface.Ipv4Addresses)
        {
            yield return new DnsResourceRecord(_hostName, new DnsAData(address), MdnsProtocol.HostRecordTtl, cacheFlush);
        }

        foreach (var address in iface.Ipv6Addresses)
        {
            yield return new DnsResourceRecord(_hostName, new DnsAaaaData(address), MdnsProtocol.HostRecordTtl, cacheFlush);
        }
    }

    /// <summary>NSEC of the host name listing the address types it has on this link (RFC 6762 §6.1); null when it has both.</summary>
    private DnsResourceRecord? HostNsec(MdnsInterface iface)
    {
        if (iface.HasIpv4 && iface.HasIpv6)
        {
            return null;
        }

        List<DnsRecordType> types = [];
        if (iface.HasIpv4)
        {
            types.Add(DnsRecordType.A);
        }

        if (iface.HasIpv6)
        {
            types.Add(DnsRecordType.Aaaa);
        }

        return new DnsResourceRecord(_hostName, new DnsNsecData(_hostName, types), MdnsProtocol.HostRecordTtl, cacheFlush: true);
    }

    private DnsResourceRecord InstanceNsec() =>
        new(_instanceName, new DnsNsecData(_instanceName, [DnsRecordType.Srv, DnsRecordType.Txt]), MdnsProtocol.OtherRecordTtl, cacheFlush: true);

    private void StartProbing(TimeSpan now, TimeSpan delay)
    {
        if (!_options.Publish)
        {
            return;
        }

        _publishState = MdnsPublishState.Probing;
        _probesSent = 0;
        _announcementsSent = 0;
        _publishStepAt = now + delay;
        _pendingResponses.Clear();
    }

    private void PublishStep(TimeSpan now)
    {
        switch (_publishState)
        {
            case MdnsPublishState.Probing when _probesSent < MdnsProtocol.ProbeCount:
                SendProbes(unicastResponse: _probesSent == 0);
                _probesSent++;
                _publishStepAt = now + MdnsProtocol.ProbeInterval;
                break;

            case MdnsPublishState.Probing:
            case MdnsPublishState.Announcing:
                // 250 ms after the third probe with no conflict, the names are ours (RFC 6762 §8.1).
                _publishState = MdnsPublishState.Announcing;
                SendAnnouncements(now);
                _announcementsSent++;
                if (_announcementsSent < MdnsProtocol.AnnouncementCount)
                {
                    _publishStepAt = now + MdnsProtocol.AnnouncementInterval;
                }
                else
                {
                    _publishState = MdnsPublishState.Announced;
                    _publishStepAt = Never;
                }

                break;

            default:
                _publishStepAt = Never;
                break;
        }
    }

    /// <summary>
    /// RFC 6762 §8.1: a query for each unique name, type ANY, the proposed records in the authority
    /// section (without cache-flush, §10.2), asking for unicast answers on the first probe (§8.1).
    /// </summary>
    private void SendProbes(bool unicastResponse)
    {
        foreach (MdnsInterface iface in _interfaces)
        {
            DnsMessage probe = DnsMessage.CreateQuery();
            probe.Questions.Add(new DnsQuestion(_instanceName, DnsRecordType.Any, unicastResponse));
            probe.Questions.Add(new DnsQuestion(_hostName, DnsRecordType.Any, unicastResponse));
            probe.Authorities.AddRange(ProbeRecords(iface));
            SendMulticast(probe, iface);
        }
    }

    private IEnumerable<DnsResourceRecord> ProbeRecords(MdnsInterface iface) =>
        [SrvRecord(cacheFlush: false), TxtRecord(cacheFlush: false), .. AddressRecords(iface, cacheFlush: false)];

    /// <summary>RFC 6762 §8.3: every record, unsolicited, shared ones without and unique ones with cache-flush.</summary>
    private void SendAnnouncements(TimeSpan now)
    {
        foreach (MdnsInterface iface in _interfaces)
        {
            DnsMessage announcement = DnsMessage.CreateResponse();
            announcement.Answers.AddRange(ServiceRecords());
            announcement.Answers.AddRange(AddressRecords(iface));
            SendMulticast(announcement, iface);
            MarkMulticast(iface, announcement.Answers, now);
        }
    }

    /// <summary>RFC 6762 §10.1: the records announced, with TTL 0, so caches drop them within a second.</summary>
    private void SendGoodbyes()
    {
        if (_publishState is not (MdnsPublishState.Announcing or MdnsPublishState.Announced))
        {
            return;
        }

        foreach (MdnsInterface iface in _interfaces)
        {
            DnsMessage goodbye = DnsMessage.CreateResponse();
            goodbye.Answers.AddRange(ServiceRecords().Concat(AddressRecords(iface)).Select(r => r.WithTtl(0)));
            SendMulticast(goodbye, iface);
        }
    }

    /// <summary>Conflict detection (RFC 6762 §8.1, §9) and duplicate answer suppression (§7.4) from another responder's response.</summary>
    private void HandleResponseForPublishing(DnsMessage response, MdnsInterface iface, TimeSpan now)
    {
        if (_publishState == MdnsPublishState.Off)
        {
            return;
        }

        if (_pendingResponses.TryGetValue(iface.Index, out PendingResponse? pending))
        {
            Counters.SuppressedAnswers += pending.Answers.RemoveAll(ours => IsKnownAnswer(response.Answers, ours));
        }

        foreach (DnsResourceRecord record in response.Answers.Concat(response.Additionals))
        {
            bool instance = record.Name.Equals(_instanceName);
            if (record.Ttl == 0 || record.Class != DnsClass.Internet || !(instance || record.Name.Equals(_hostName)) || IsOurs(record))
            {
                continue;
            }

            if (_publishState == MdnsPublishState.Probing)
            {
                // Someone answers for the name we want: it is taken. Pick the next name and probe again.
                Conflict(instance, now);
                return;
            }

            bool uniqueType = instance ? record.Type is DnsRecordType.Srv or DnsRecordType.Txt : record.Type is DnsRecordType.A or DnsRecordType.Aaaa;
            if (record.CacheFlush && uniqueType)
            {
                // RFC 6762 §9: after announcing, a conflicting unique record sends us back to probing
                // the same name; whoever still holds it will answer the probes, and then we rename.
                StartProbing(now, RandomDelay(0, 250));
                return;
            }
        }
    }

    private void Conflict(bool instance, TimeSpan now)
    {
        Counters.Conflicts++;
        if (instance)
        {
            SetNames(_instanceAttempt + 1, _hostAttempt);
        }
        else
        {
            SetNames(_instanceAttempt, _hostAttempt + 1);
        }

        _recentConflicts.Enqueue(now);
        while (_recentConflicts.Count > 0 && now - _recentConflicts.Peek() > ConflictWindow)
        {
            _recentConflicts.Dequeue();
        }

        StartProbing(now, _recentConflicts.Count >= ConflictBurst ? ConflictBackoff : RandomDelay(0, 250));
    }

    private void HandleQuery(DnsMessage query, MdnsPacketSource source, MdnsInterface iface, TimeSpan now)
    {
        bool legacy = source.RemoteEndPoint.Port != MdnsProtocol.Port;
        if (_publishState == MdnsPublishState.Probing)
        {
            if (!legacy)
            {
                TieBreak(query, iface, now);
            }

            return;
        }

        if (_publishState is not (MdnsPublishState.Announcing or MdnsPublishState.Announced))
        {
            return;
        }

        // RFC 6762 §7.2: known answers in a (continuation) packet also cancel answers still pending on this link.
        if (_pendingResponses.TryGetValue(iface.Index, out PendingResponse? pending))
        {
            Counters.SuppressedAnswers += pending.Answers.RemoveAll(ours => IsKnownAnswer(query.Answers, ours));
        }

        var answers = new List<(DnsResourceRecord Record, bool Unicast)>();
        var negatives = new List<DnsResourceRecord>();
        DnsResourceRecord[] candidates = [.. ServiceRecords(), .. AddressRecords(iface)];
        foreach (DnsQuestion question in query.Questions)
        {
            if (question.Class is not (DnsClass.Internet or DnsClass.Any))
            {
                continue;
            }

            bool matched = false;
            foreach (DnsResourceRecord record in candidates)
            {
                if (!question.IsAnsweredBy(record.Name, record.Type, record.Class))
                {
                    continue;
                }

                matched = true;
                if (IsKnownAnswer(query.Answers, record))
                {
                    Counters.SuppressedAnswers++;
                }
                else if (!answers.Any(a => ReferenceEquals(a.Record, record)))
                {
                    answers.Add((record, question.UnicastResponse));
                }
            }

            // RFC 6762 §6.1: a question about our name and a type we lack gets an NSEC saying so.
            if (!matched && question.Type != DnsRecordType.Any)
            {
                DnsResourceRecord? nsec = question.Name.Equals(_hostName) ? HostNsec(iface)
                    : question.Name.Equals(_instanceName) ? InstanceNsec()
                    : null;
                if (nsec is not null && !negatives.Any(n => n.IsSameRecord(nsec)))
                {
                    negatives.Add(nsec);
                }
            }
        }

        if (answers.Count == 0 && negatives.Count == 0)
        {
            return;
        }

        if (legacy)
        {
            SendLegacyResponse(query, answers.Select(a => a.Record), negatives, source, iface);
            return;
        }

        // RFC 6762 §5.4, §6: a QU question gets a unicast answer, unless the record has not been
        // multicast on this link within a quarter of its TTL: then everyone should hear it.
        var unicast = new List<DnsResourceRecord>();
        var multicast = new List<DnsResourceRecord>();
        TimeSpan rateLimit = query.Authorities.Count > 0 ? ProbeDefenseRateLimit : MulticastRateLimit;
        foreach (var (record, wantsUnicast) in answers)
        {
            if (wantsUnicast && MulticastWithin(iface, record, now, TimeSpan.FromSeconds(record.Ttl / 4.0)))
            {
                unicast.Add(record);
            }
            else if (!MulticastWithin(iface, record, now, rateLimit))
            {
                multicast.Add(record);
            }
        }

        bool unicastNegatives = query.Questions.All(q => q.UnicastResponse);
        if (unicast.Count > 0 || (unicastNegatives && negatives.Count > 0 && multicast.Count == 0))
        {
            SendUnicast(BuildResponse(unicast, unicastNegatives ? negatives : [], iface), iface, source.RemoteEndPoint);
        }

        if (multicast.Count == 0 && (unicastNegatives || negatives.Count == 0))
        {
            return;
        }

        // Unique answers go at once (§6: the responder is the only one); shared ones, and answers to
        // a query whose known answers continue in more packets (TC, §7.2), wait and may be merged.
        bool shared = multicast.Any(r => !r.CacheFlush);
        if (!shared && !query.IsTruncated)
        {
            SendMulticast(BuildResponse(multicast, negatives, iface), iface);
            MarkMulticast(iface, multicast, now);
            return;
        }

        if (!_pendingResponses.TryGetValue(iface.Index, out pending))
        {
            pending = new PendingResponse(now + (query.IsTruncated ? RandomDelay(400, 500) : RandomDelay(20, 120)));
            _pendingResponses[iface.Index] = pending;
        }

        foreach (DnsResourceRecord record in multicast)
        {
            if (!pending.Answers.Any(p => p.IsSameRecord(record)))
            {
                pending.Answers.Add(record);
            }
        }

        foreach (DnsResourceRecord nsec in negatives)
        {
            if (!pending.Negatives.Any(p => p.IsSameRecord(nsec)))
            {
                pending.Negatives.Add(nsec);
            }
        }
    }

    /// <summary>
    /// RFC 6762 §8.2 simultaneous probe tie-breaking: compare the other prober's proposed records for
    /// a name we are probing with ours; if theirs are lexicographically later, we lose and try again
    /// in 1 s (by then the winner defends the name and we rename).
    /// </summary>
    private void TieBreak(DnsMessage query, MdnsInterface iface, TimeSpan now)
    {
        foreach (DnsName name in (ReadOnlySpan<DnsName>)[_instanceName, _hostName])
        {
            if (!query.Questions.Any(q => q.Name.Equals(name)))
            {
                continue;
            }

            List<DnsResourceRecord> theirs = [.. query.Authorities.Where(r => r.Name.Equals(name))];
            if (theirs.Count == 0 || theirs.All(IsOurs))
            {
                // Our own probe heard back (or an identical one): no contest.
                continue;
            }

            List<DnsResourceRecord> ours = [.. ProbeRecords(iface).Where(r => r.Name.Equals(name))];
            if (CompareRecordSets(ours, theirs) < 0)
            {
                Counters.ProbeTieBreaksLost++;
                StartProbing(now, TieBreakDelay);
                return;
            }
        }
    }

    /// <summary>RFC 6762 §8.2: sort each set, compare record by record (class, type, then RDATA bytes); a set that runs out first is earlier.</summary>
    internal static int CompareRecordSets(IReadOnlyList<DnsResourceRecord> ours, IReadOnlyList<DnsResourceRecord> theirs)
    {
        List<DnsResourceRecord> a = [.. ours.Order(RecordOrder.Instance)];
        List<DnsResourceRecord> b = [.. theirs.Order(RecordOrder.Instance)];
        for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            int c = RecordOrder.Instance.Compare(a[i], b[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return a.Count.CompareTo(b.Count);
    }

    private DnsMessage BuildResponse(IReadOnlyList<DnsResourceRecord> answers, IReadOnlyList<DnsResourceRecord> negatives, MdnsInterface iface)
    {
        DnsMessage response = DnsMessage.CreateResponse();
        response.Answers.AddRange(answers);
        foreach (DnsResourceRecord extra in AdditionalRecords(answers, iface).Concat(negatives))
        {
            if (!response.Answers.Any(a => a.IsSameRecord(extra)) && !response.Additionals.Any(a => a.IsSameRecord(extra)))
            {
                response.Additionals.Add(extra);
            }
        }

        return response;
    }

    /// <summary>RFC 6763 §12: PTR → SRV, TXT, addresses; SRV → addresses; an address → the other family; NSEC for a family we lack (RFC 6762 §6.1).</summary>
    private IEnumerable<DnsResourceRecord> AdditionalRecords(IReadOnlyList<DnsResourceRecord> answers, MdnsInterface iface)
    {
        bool service = answers.Any(a => a.Type == DnsRecordType.Ptr && a.Name.Equals(ServiceType));
        bool addresses = service || answers.Any(a => a.Type is DnsRecordType.Srv or DnsRecordType.A or DnsRecordType.Aaaa);
        if (service)
        {
            yield return SrvRecord(cacheFlush: true);
            yield return TxtRecord(cacheFlush: true);
        }

        if (addresses)
        {
            foreach (DnsResourceRecord address in AddressRecords(iface))
            {
                yield return address;
            }

            if (HostNsec(iface) is { } nsec)
            {
                yield return nsec;
            }
        }
    }

    /// <summary>RFC 6762 §6.7: a one-shot querier (source port ≠ 5353) gets a unicast reply with its ID, its questions, no cache-flush bits and TTLs of at most 10 s.</summary>
    private void SendLegacyResponse(DnsMessage query, IEnumerable<DnsResourceRecord> answers, IReadOnlyList<DnsResourceRecord> negatives, MdnsPacketSource source, MdnsInterface iface)
    {
        DnsMessage full = BuildResponse([.. answers], negatives, iface);
        DnsMessage response = DnsMessage.CreateResponse();
        response.Id = query.Id;
        response.Questions.AddRange(query.Questions);
        response.Answers.AddRange(full.Answers.Select(Legacy));
        response.Additionals.AddRange(full.Additionals.Select(Legacy));
        SendUnicast(response, iface, source.RemoteEndPoint);

        static DnsResourceRecord Legacy(DnsResourceRecord r) => r.WithCacheFlush(false).WithTtl(Math.Min(r.Ttl, 10));
    }

    private void FlushDueResponses(TimeSpan now)
    {
        foreach (MdnsInterface iface in _interfaces)
        {
            if (!_pendingResponses.TryGetValue(iface.Index, out PendingResponse? pending) || pending.Deadline > now)
            {
                continue;
            }

            _pendingResponses.Remove(iface.Index);
            List<DnsResourceRecord> answers = [.. pending.Answers.Where(r => !MulticastWithin(iface, r, now, MulticastRateLimit))];
            if (answers.Count > 0 || pending.Negatives.Count > 0)
            {
                SendMulticast(BuildResponse(answers, pending.Negatives, iface), iface);
                MarkMulticast(iface, answers, now);
            }
        }

        // Interfaces that went away take their pending answers with them.
        foreach (int index in _pendingResponses.Keys.Where(k => FindInterface(k) is null).ToList())
        {
            _pendingResponses.Remove(index);
        }
    }

    private TimeSpan NextResponseDeadline()
    {
        TimeSpan next = Never;
        foreach (PendingResponse pending in _pendingResponses.Values)
        {
            next = pending.Deadline < next ? pending.Deadline : next;
        }

        return next;
    }

    /// <summary>RFC 6762 §7.1: the querier already holds <paramref name="record"/> with at least half its TTL left.</summary>
    private static bool IsKnownAnswer(List<DnsResourceRecord> knownAnswers, DnsResourceRecord record)
    {
        foreach (DnsResourceRecord known in knownAnswers)
        {
            if (known.IsSameRecord(record) && known.Ttl >= record.Ttl / 2)
            {
                return true;
            }
        }

        return false;
    }

    private bool MulticastWithin(MdnsInterface iface, DnsResourceRecord record, TimeSpan now, TimeSpan window) =>
        _lastMulticast.TryGetValue((iface.Index, RecordKey.Of(record)), out TimeSpan last) && now - last < window;

    private void MarkMulticast(MdnsInterface iface, IEnumerable<DnsResourceRecord> records, TimeSpan now)
    {
        foreach (DnsResourceRecord record in records)
        {
            _lastMulticast[(iface.Index, RecordKey.Of(record))] = now;
        }

        // Bounded: entries older than any window that reads them are dropped.
        if (_lastMulticast.Count > 256)
        {
            TimeSpan horizon = TimeSpan.FromSeconds(MdnsProtocol.OtherRecordTtl / 4.0);
            foreach (var key in _lastMulticast.Where(e => now - e.Value > horizon).Select(e => e.Key).ToList())
            {
                _lastMulticast.Remove(key);
            }
        }
    }

    /// <summary>Orders records as RFC 6762 §8.2 compares them: class (without the cache-flush bit), type, then raw RDATA bytes.</summary>
    private sealed class RecordOrder : IComparer<DnsResourceRecord>
    {
        public static readonly RecordOrder Instance = new();

        public int Compare(DnsResourceRecord? x, DnsResourceRecord? y)
        {
            if (x is null || y is null)
            {
                return x is null ? (y is null ? 0 : -1) : 1;
            }

            int c = x.Class.CompareTo(y.Class);
            if (c == 0)
            {
                c = ((ushort)x.Type).CompareTo((ushort)y.Type);
            }

            return c != 0 ? c : x.Data.GetCanonicalBytes().AsSpan().SequenceCompareTo(y.Data.GetCanonicalBytes());
        }
    }
}
