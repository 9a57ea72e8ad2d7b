using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Dns;
using MeshAgent.Core.Trust;

namespace MeshAgent.Engine.Discovery;

// Browsing: queries with backoff, the record cache, resolution, and peer events (RFC 6762 §5, §7, §10; RFC 6763 §4–§6).
public sealed partial class MdnsService
{
    /// <summary>RFC 6762 §5.2: refresh queries at 80, 85, 90 and 95 % of a record's TTL (plus up to 2 % jitter).</summary>
    private static readonly double[] RefreshPoints = [0.80, 0.85, 0.90, 0.95];

    /// <summary>RFC 6762 §10.1 (goodbye) and §10.2 (cache-flush): affected records live one more second.</summary>
    private static readonly TimeSpan ExpiryGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest TTL a cached record is trusted for. RFC 6762 sets no upper bound, but a record
    /// claiming years (TTL up to 2^32 - 1 s) would never be refreshed or expire; one day is far above
    /// the 4500 s any responder uses (RFC 6762 §10).
    /// </summary>
    private static readonly TimeSpan MaxCacheLifetime = TimeSpan.FromDays(1);

    /// <summary>Instance names remembered for counting foreign or invalid ones once; the sets are cleared beyond this (a hostile LAN cannot grow them).</summary>
    private const int MaxRememberedInstances = 4096;

    /// <summary>Queries for a peer's missing SRV/TXT or addresses: at 1, 2, 4 and 8 s, then wait for the next browse answer.</summary>
    private const int MaxResolveAttempts = 4;

    private readonly Dictionary<CacheKey, CacheEntry> _cache = [];
    private readonly Dictionary<string, MdnsPeer> _peers = new(StringComparer.Ordinal);
    private readonly Dictionary<(DnsName Name, int Interface), ResolveState> _resolving = [];
    private readonly HashSet<DnsName> _reportedInvalid = [];
    private readonly HashSet<DnsName> _reportedForeign = [];
    private TimeSpan _browseInterval;
    private TimeSpan _nextBrowseAt = Never;

    /// <summary>A record as heard on one interface (the same record on two links is two entries: link-local addresses differ in scope).</summary>
    private readonly record struct CacheKey(int Interface, DnsName Name, DnsRecordType Type, DnsRecordData Data);

    private sealed class CacheEntry(DnsResourceRecord record, int interfaceIndex)
    {
        public DnsResourceRecord Record { get; set; } = record;

        public int Interface { get; } = interfaceIndex;

        public TimeSpan ReceivedAt { get; set; }

        /// <summary>The TTL the record arrived with.</summary>
        public TimeSpan Lifetime { get; set; }

        public TimeSpan ExpiresAt { get; set; }

        /// <summary>Refresh queries sent for this copy (0–4); 4 also marks a record that is on its way out.</summary>
        public int RefreshStage { get; set; }

        public TimeSpan NextRefreshAt { get; set; }
    }

    private sealed class ResolveState(bool host, TimeSpan nextAt)
    {
        public bool Host { get; } = host;

        public int Attempts { get; set; }

        public TimeSpan NextAt { get; set; } = nextAt;
    }

    private static bool IsInstanceName(DnsName name) =>
        name.LabelCount == ServiceType.LabelCount + 1 && name.IsSubdomainOf(ServiceType);

    private void HandleResponseForBrowsing(DnsMessage response, MdnsInterface iface, TimeSpan now)
    {
        if (!_options.Browse)
        {
            return;
        }

        // Our own records heard back are not cached: we know them, and we never report ourselves.
        List<DnsResourceRecord> records = [.. response.Answers.Concat(response.Additionals).Where(r => r.Class == DnsClass.Internet && !IsOurs(r))];
        bool changed = false;

        // Service records first, so the SRV targets of this very packet make its addresses relevant.
        List<DnsResourceRecord> service = [.. records.Where(r =>
            (r.Type == DnsRecordType.Ptr && r.Name.Equals(ServiceType))
            || (r.Type is DnsRecordType.Srv or DnsRecordType.Txt && IsInstanceName(r.Name)))];
        FlushOlderCopies(service, iface, now);
        foreach (DnsResourceRecord record in service)
        {
            changed |= Upsert(record, iface, now);
        }

        HashSet<DnsName> targets = [.. _cache.Values.Where(e => e.Record.Data is DnsSrvData).Select(e => ((DnsSrvData)e.Record.Data).Target)];
        List<DnsResourceRecord> addresses = [.. records.Where(r => r.Type is DnsRecordType.A or DnsRecordType.Aaaa && targets.Contains(r.Name))];
        FlushOlderCopies(addresses, iface, now);
        foreach (DnsResourceRecord record in addresses)
        {
            changed |= Upsert(record, iface, now);
        }

        if (changed)
        {
            UpdatePeers(now);
        }
    }

    /// <summary>
    /// RFC 6762 §10.2: a record with the cache-flush bit is the whole set of its name and type, so
    /// other copies on this link received more than a second ago expire in one second (a peer whose
    /// address changed stops being reached at the old one).
    /// </summary>
    private void FlushOlderCopies(List<DnsResourceRecord> records, MdnsInterface iface, TimeSpan now)
    {
        foreach (DnsResourceRecord flush in records.Where(r => r.CacheFlush && r.Ttl > 0))
        {
            foreach (CacheEntry entry in _cache.Values)
            {
                if (entry.Interface == iface.Index && entry.Record.Type == flush.Type && entry.Record.Name.Equals(flush.Name)
                    && entry.ReceivedAt < now - ExpiryGrace && !records.Any(r => r.IsSameRecord(entry.Record)))
                {
                    ExpireSoon(entry, now);
                }
            }
        }
    }

    /// <summary>Adds or refreshes one record; true when the set of cached records changed.</summary>
    private bool Upsert(DnsResourceRecord record, MdnsInterface iface, TimeSpan now)
    {
        var key = new CacheKey(iface.Index, record.Name, record.Type, record.Data);
        if (record.Ttl == 0)
        {
            // Goodbye (RFC 6762 §10.1): keep it one more second, then it expires.
            if (_cache.TryGetValue(key, out CacheEntry? leaving))
            {
                ExpireSoon(leaving, now);
            }

            return false;
        }

        bool added = false;
        if (!_cache.TryGetValue(key, out CacheEntry? entry))
        {
            if (_cache.Count >= _options.MaxCacheEntries)
            {
                Counters.CacheFull++;
                return false;
            }

            entry = new CacheEntry(record, iface.Index);
            _cache[key] = entry;
            added = true;
        }

        entry.Record = record;
        entry.ReceivedAt = now;
        entry.Lifetime = TimeSpan.FromSeconds(record.Ttl) < MaxCacheLifetime ? TimeSpan.FromSeconds(record.Ttl) : MaxCacheLifetime;
        entry.ExpiresAt = now + entry.Lifetime;
        entry.RefreshStage = 0;
        entry.NextRefreshAt = NextRefresh(entry);
        return added;
    }

    private static void ExpireSoon(CacheEntry entry, TimeSpan now)
    {
        if (entry.ExpiresAt > now + ExpiryGrace)
        {
            entry.ExpiresAt = now + ExpiryGrace;
        }

        entry.RefreshStage = RefreshPoints.Length;
        entry.NextRefreshAt = Never;
    }

    private TimeSpan NextRefresh(CacheEntry entry) =>
        entry.RefreshStage >= RefreshPoints.Length
            ? Never
            : entry.ReceivedAt + entry.Lifetime * (RefreshPoints[entry.RefreshStage] + _random.NextDouble() * 0.02);

    private void MaintainCache(TimeSpan now)
    {
        if (_cache.Count == 0)
        {
            return;
        }

        bool changed = false;
        var refresh = new Dictionary<int, List<DnsQuestion>>();
        foreach (var (key, entry) in _cache.ToList())
        {
            if (entry.ExpiresAt <= now)
            {
                _cache.Remove(key);
                changed = true;
                continue;
            }

            if (entry.NextRefreshAt <= now)
            {
                entry.RefreshStage++;
                entry.NextRefreshAt = NextRefresh(entry);
                var question = new DnsQuestion(entry.Record.Name, entry.Record.Type);
                List<DnsQuestion> questions = refresh.TryGetValue(entry.Interface, out var list) ? list : refresh[entry.Interface] = [];
                if (!questions.Contains(question))
                {
                    questions.Add(question);
                }
            }
        }

        foreach (var (index, questions) in refresh)
        {
            if (FindInterface(index) is { } iface)
            {
                SendQuery(iface, questions, []);
            }
        }

        if (changed)
        {
            UpdatePeers(now);
        }
    }

    private TimeSpan NextCacheDeadline()
    {
        TimeSpan next = Never;
        foreach (CacheEntry entry in _cache.Values)
        {
            next = Min(next, entry.ExpiresAt, entry.NextRefreshAt);
        }

        return next;
    }

    /// <summary>RFC 6762 §5.2 continuous querying: PTR for the service type with known answers (§7.1), interval doubling to the cap.</summary>
    private void SendBrowseQuery(TimeSpan now)
    {
        foreach (MdnsInterface iface in _interfaces)
        {
            List<DnsResourceRecord> known = [];
            foreach (CacheEntry entry in _cache.Values)
            {
                TimeSpan remaining = entry.ExpiresAt - now;
                if (entry.Interface == iface.Index && entry.Record.Type == DnsRecordType.Ptr && entry.Record.Name.Equals(ServiceType)
                    && remaining > entry.Lifetime / 2)
                {
                    known.Add(entry.Record.WithTtl((uint)Math.Min(remaining.TotalSeconds, entry.Record.Ttl)));
                }
            }

            SendQuery(iface, [new DnsQuestion(ServiceType, DnsRecordType.Ptr)], known);
        }

        _nextBrowseAt = now + _browseInterval;
        _browseInterval = _browseInterval * 2 > _options.BrowseMaxInterval ? _options.BrowseMaxInterval : _browseInterval * 2;
    }

    /// <summary>
    /// Multicasts a query; known answers that do not fit one packet continue in further packets,
    /// each but the last with TC set (RFC 6762 §7.2).
    /// </summary>
    private void SendQuery(MdnsInterface iface, IReadOnlyList<DnsQuestion> questions, IReadOnlyList<DnsResourceRecord> knownAnswers)
    {
        var remaining = new Queue<DnsResourceRecord>(knownAnswers);
        DnsMessage query = DnsMessage.CreateQuery();
        query.Questions.AddRange(questions);
        while (true)
        {
            while (remaining.Count > 0)
            {
                query.Answers.Add(remaining.Peek());
                if (!query.TryWrite(_sendBuffer, out int length) || length > MdnsProtocol.MaxPacketSize)
                {
                    query.Answers.RemoveAt(query.Answers.Count - 1);
                    break;
                }

                remaining.Dequeue();
            }

            if (remaining.Count > 0 && query.Answers.Count == 0 && query.Questions.Count == 0)
            {
                remaining.Dequeue(); // one record larger than a packet: cannot be sent as a known answer
                continue;
            }

            query.IsTruncated = remaining.Count > 0;
            SendMulticast(query, iface);
            if (remaining.Count == 0)
            {
                return;
            }

            query = DnsMessage.CreateQuery();
        }
    }

    /// <summary>
    /// Rebuilds the peer list from the cache: for each PTR of our service type, the instance's SRV and
    /// TXT, the SRV target's addresses; agents of other networks, malformed TXT and ourselves are
    /// left out. Queues events for differences and schedules queries for what is missing.
    /// </summary>
    private void UpdatePeers(TimeSpan now)
    {
        var found = new Dictionary<string, (string Tag, string Instance, List<IPEndPoint> Endpoints)>(StringComparer.Ordinal);
        var missing = new Dictionary<(DnsName Name, int Interface), bool>();
        foreach (CacheEntry pointer in _cache.Values.Where(e => e.Record.Type == DnsRecordType.Ptr && e.Record.Name.Equals(ServiceType)).ToList())
        {
            DnsName instance = ((DnsPtrData)pointer.Record.Data).Target;
            if (!IsInstanceName(instance))
            {
                continue;
            }

            CacheEntry? srv = FindCached(instance, DnsRecordType.Srv, pointer.Interface);
            CacheEntry? txt = FindCached(instance, DnsRecordType.Txt, pointer.Interface);
            if (srv is null || txt is null)
            {
                missing[(instance, pointer.Interface)] = false;
                continue;
            }

            var text = (DnsTxtData)txt.Record.Data;
            if (!text.TryGetText("v", out string? version) || version != "1"
                || !text.TryGetText("net", out string? tag)
                || !text.TryGetText("node", out string? nodeText) || !NodePublicKey.TryParse(nodeText, out NodePublicKey node))
            {
                if (_reportedInvalid.Count > MaxRememberedInstances)
                {
                    _reportedInvalid.Clear();
                }

                if (_reportedInvalid.Add(instance))
                {
                    Counters.InvalidInstances++;
                }

                continue;
            }

            if (tag != _options.NetworkTag)
            {
                if (_reportedForeign.Count > MaxRememberedInstances)
                {
                    _reportedForeign.Clear();
                }

                if (_reportedForeign.Add(instance))
                {
                    Counters.ForeignNetworkInstances++;
                }

                continue;
            }

            if (node == _ownNodeKey)
            {
                continue;
            }

            var target = (DnsSrvData)srv.Record.Data;
            List<IPEndPoint> endpoints = [.. _cache.Values
                .Where(e => e.Record.Type is DnsRecordType.A or DnsRecordType.Aaaa && e.Record.Name.Equals(target.Target))
                .Select(e => ToEndPoint(e, target.Port))];
            if (endpoints.Count == 0)
            {
                missing[(target.Target, pointer.Interface)] = true;
                continue;
            }

            string key = node.ToString();
            if (found.TryGetValue(key, out var peer))
            {
                peer.Endpoints.AddRange(endpoints);
            }
            else
            {
                found[key] = (tag, instance.GetLabel(0), endpoints);
            }
        }

        foreach (var (key, (tag, instance, endpoints)) in found)
        {
            var peer = new MdnsPeer(key, [.. endpoints.Distinct().Order(EndPointOrder.Instance)], tag, instance);
            if (!_peers.TryGetValue(key, out MdnsPeer? known) || !known.SameAs(peer))
            {
                _peers[key] = peer;
                _events.Enqueue((true, peer));
            }
        }

        foreach (string key in _peers.Keys.Where(k => !found.ContainsKey(k)).ToList())
        {
            _events.Enqueue((false, _peers[key]));
            _peers.Remove(key);
        }

        foreach (var key in _resolving.Keys.Where(k => !missing.ContainsKey(k)).ToList())
        {
            _resolving.Remove(key);
        }

        foreach (var (key, host) in missing)
        {
            if (!_resolving.ContainsKey(key))
            {
                _resolving[key] = new ResolveState(host, now + RandomDelay(20, 120));
            }
        }
    }

    private CacheEntry? FindCached(DnsName name, DnsRecordType type, int preferredInterface)
    {
        CacheEntry? any = null;
        foreach (CacheEntry entry in _cache.Values)
        {
            if (entry.Record.Type == type && entry.Record.Name.Equals(name))
            {
                if (entry.Interface == preferredInterface)
                {
                    return entry;
                }

                any ??= entry;
            }
        }

        return any;
    }

    private static IPEndPoint ToEndPoint(CacheEntry entry, ushort port)
    {
        IPAddress address = entry.Record.Data switch
        {
            DnsAData a => a.Address,
            DnsAaaaData aaaa when aaaa.Address.IsIPv6LinkLocal => new IPAddress(aaaa.Address.GetAddressBytes(), entry.Interface),
            DnsAaaaData aaaa => aaaa.Address,
            _ => throw new InvalidOperationException($"not an address record: {entry.Record}"),
        };
        return new IPEndPoint(address, port);
    }

    private void SendDueResolveQueries(TimeSpan now)
    {
        var byInterface = new Dictionary<int, List<DnsQuestion>>();
        foreach (var ((name, index), state) in _resolving)
        {
            if (state.NextAt > now)
            {
                continue;
            }

            state.Attempts++;
            state.NextAt = state.Attempts >= MaxResolveAttempts ? Never : now + TimeSpan.FromSeconds(1 << (state.Attempts - 1));
            List<DnsQuestion> questions = byInterface.TryGetValue(index, out var list) ? list : byInterface[index] = [];
            if (state.Host)
            {
                questions.Add(new DnsQuestion(name, DnsRecordType.A));
                questions.Add(new DnsQuestion(name, DnsRecordType.Aaaa));
            }
            else
            {
                questions.Add(new DnsQuestion(name, DnsRecordType.Srv));
                questions.Add(new DnsQuestion(name, DnsRecordType.Txt));
            }
        }

        foreach (var (index, questions) in byInterface)
        {
            if (FindInterface(index) is { } iface)
            {
                SendQuery(iface, questions, []);
            }
        }
    }

    private TimeSpan NextResolveDeadline()
    {
        TimeSpan next = Never;
        foreach (ResolveState state in _resolving.Values)
        {
            next = state.NextAt < next ? state.NextAt : next;
        }

        return next;
    }

    private void ForgetInterfacesNotIn(IReadOnlyList<MdnsInterface> interfaces)
    {
        foreach (var key in _cache.Keys.Where(k => !interfaces.Any(i => i.Index == k.Interface)).ToList())
        {
            _cache.Remove(key);
        }

        foreach (var key in _resolving.Keys.Where(k => !interfaces.Any(i => i.Index == k.Interface)).ToList())
        {
            _resolving.Remove(key);
        }
    }

    /// <summary>IPv4 first, then global IPv6, then link-local IPv6; by address bytes, then port, within each.</summary>
    private sealed class EndPointOrder : IComparer<IPEndPoint>
    {
        public static readonly EndPointOrder Instance = new();

        public int Compare(IPEndPoint? x, IPEndPoint? y)
        {
            if (x is null || y is null)
            {
                return x is null ? (y is null ? 0 : -1) : 1;
            }

            int c = Rank(x.Address).CompareTo(Rank(y.Address));
            if (c == 0)
            {
                c = x.Address.GetAddressBytes().AsSpan().SequenceCompareTo(y.Address.GetAddressBytes());
            }

            return c != 0 ? c : x.Port.CompareTo(y.Port);
        }

        private static int Rank(IPAddress address) =>
            address.AddressFamily == AddressFamily.InterNetwork ? 0 : address.IsIPv6LinkLocal ? 2 : 1;
    }
}
