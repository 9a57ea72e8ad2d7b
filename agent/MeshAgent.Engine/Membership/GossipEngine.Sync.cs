using System.Buffers.Binary;

namespace MeshAgent.Engine.Membership;

// Bounded push-pull anti-entropy.
//
// Why bounded: memberlist's push-pull sends the full member list both ways (TCP). Every node
// does one per interval, so the mesh moves N × N records per interval; Consul's 10k-node
// clusters saw 3,000 concurrent push-pulls of the 10k-node list take about 7 GB. Here:
//
//   initiator A                                   responder B
//   SyncBegin(hashes of 128 buckets) ---------->  compares with its own bucket hashes
//                                                 equal → SyncDone(InSync)          [the usual case]
//                                                 for differing buckets only, from a random one on:
//                                    <----------    A's bucket empty → the records themselves
//                                    <----------    else → SyncDigest pages (21 bytes per member)
//   per digest page: newer here → records ---->
//                    newer there → SyncPull --->  records for those prefixes
//                                    <----------  SyncDone(Complete | Partial)
//
// Bounds, each independent of N: a begin is one frame (1,033 bytes); each side sends at most
// MaxSyncBytesPerExchange (32 KiB) per exchange, digests at most half of it; each node sends at
// most SyncBytesPerSecond (64 KiB/s) of anti-entropy long-run, whichever role it plays (token
// bucket); a responder serves at most MaxConcurrentSyncs peers per SyncTimeout, and one peer at
// most once per SyncFollowUpDelay / 2, answering "busy" beyond that. When views agree (steady
// state) an exchange costs one begin and one done, about 1.2 KB with headers. A node far behind
// (a joiner, a node back from a partition) catches up in a series of such bounded exchanges,
// paced by SyncFollowUpDelay and the bandwidth cap, never in one transfer proportional to N: the
// full-state-sync hazard cannot form. At 10,000 members a differing bucket holds ~80 members
// (a 1.7 KB digest); a joiner needs ~100 exchanges (3 MB at 64 KiB/s ≈ 50 s).
//
// Dead and left records are not pushed to nodes that never knew the member and are not in the
// bucket hashes (tombstones differ legitimately between nodes as they expire); they are still
// listed in digests, so a node that holds a member alive learns of its death.
public sealed partial class GossipEngine
{
    private readonly byte[] _syncBuffer;
    private readonly List<InboundSync> _inbound = new();
    private readonly List<MemberRecord> _syncScratch = new();
    private readonly List<ulong> _pullScratch = new();
    private SyncOutput? _syncOutput;
    private OutboundSync? _outSync;
    private double _syncTokens;
    private long _syncTokensAt;
    private bool _catchingUp;
    private MemberId _catchUpPeer;
    private int _catchUpFailures;

    /// <summary>
    /// True after <see cref="Join"/> until this node's view matches a peer's: exchanges then
    /// follow each other every SyncFollowUpDelay (within the byte and bandwidth caps) instead of
    /// every PushPullInterval.
    /// </summary>
    public bool IsCatchingUp => _catchingUp;

    /// <summary>
    /// Starts an anti-entropy exchange with <paramref name="peer"/> now instead of at the next
    /// PushPullInterval (after a partition heals, or a network change); ignored while one is in
    /// progress. Bounded like every exchange; continued while it keeps teaching something.
    /// </summary>
    public void SyncNow(MemberId peer)
    {
        EnsureStarted();
        long now = NowTicks();
        if (!_leaving && !_stopped && peer != _self.Id && !SyncInProgress(now))
        {
            BeginExchange(peer, now);
        }
    }

    private SyncOutput Output => _syncOutput ??= new SyncOutput(this, _syncBuffer);

    private bool SyncInProgress(long now) => _outSync is { Done: false } o && now - o.StartedAt < _config.SyncTimeout.Ticks;

    private void StartCatchUp(MemberId peer, long now)
    {
        _catchingUp = true;
        _catchUpPeer = peer;
        _catchUpFailures = 0;
        if (!SyncInProgress(now))
        {
            BeginExchange(peer, now);
        }
    }

    private void OnSyncTick(long now)
    {
        Schedule(TimerKind.SyncTick, now + _config.PushPullInterval.Ticks);
        if (_leaving || SyncInProgress(now))
        {
            return;
        }

        if (_catchingUp)
        {
            BeginExchange(_catchUpPeer, now);
            return;
        }

        PickRandomMembers(1, exclude: null, includeRecentlyDead: false, now);
        if (_picked.Count > 0)
        {
            BeginExchange(_picked[0].Id, now);
        }
    }

    /// <summary>
    /// The bucket level of a begin: the finest that fits one frame (7, 128 buckets, with
    /// 1,200-byte frames). It costs about 1 KB per PushPullInterval (≈ 35 B/s), and fine buckets
    /// keep each differing bucket's digest small (N/128 entries) and let a responder see which
    /// buckets the initiator has nothing in, so a node that knows little (a joiner, a node back
    /// from a long partition) gets records directly without a digest round trip.
    /// </summary>
    internal int SyncLevel()
    {
        int level = 0;
        while (level < SyncBeginMessage.MaxLevel
            && GossipFrame.HeaderSize + GossipFrame.PartHeaderSize + SyncBeginMessage.SizeFor(level + 1) <= _config.MaxMessageSize)
        {
            level++;
        }

        return level;
    }

    private void BeginExchange(MemberId peer, long now)
    {
        RefillSyncTokens(now);
        int level = SyncLevel();
        int bodySize = SyncBeginMessage.SizeFor(level);
        if (_syncTokens < GossipFrame.HeaderSize + GossipFrame.PartHeaderSize + bodySize)
        {
            return;
        }

        uint exchange = NextSequence();
        Span<ulong> hashes = stackalloc ulong[1 << level];
        _table.CoarseHashes(level, hashes);
        var writer = new GossipFrameWriter(_sendBuffer);
        writer.TryAppend(GossipMessageType.SyncBegin, bodySize, out Span<byte> body);
        SyncBeginMessage.Write(body, exchange, level, hashes);
        _outSync = new OutboundSync(exchange, peer, now) { BytesSent = writer.Length };
        SendSync(peer, writer.Written);
        Schedule(TimerKind.SyncExpire, now + _config.SyncTimeout.Ticks, exchange);
        Counters.SyncExchangesStarted++;
    }

    private void OnSyncExpire(uint exchange, long now)
    {
        OutboundSync? o = _outSync;
        if (o is null || o.Exchange != exchange || o.Done)
        {
            return;
        }

        Counters.SyncTimeouts++;
        _outSync = null;
        if (_catchingUp && !_leaving)
        {
            CatchUpFailed(now);
            BeginExchange(_catchUpPeer, now);
        }
    }

    /// <summary>Three failures in a row with one peer: catch up from another member we already learned, or the next seed.</summary>
    private void CatchUpFailed(long now)
    {
        _catchUpFailures++;
        if (_catchUpFailures % 3 != 0)
        {
            return;
        }

        PickRandomMembers(1, exclude: null, includeRecentlyDead: false, now);
        if (_picked.Count > 0)
        {
            _catchUpPeer = _picked[0].Id;
        }
        else if (_joinSeeds.Count > 0)
        {
            _catchUpPeer = _joinSeeds[(_catchUpFailures / 3) % _joinSeeds.Count];
        }
    }

    /// <summary>
    /// Continue after a cut-short exchange only while exchanges still teach us something, so a
    /// difference we cannot resolve (a record our validator rejects) costs one exchange per
    /// PushPullInterval, not one per follow-up delay. Catching up also retries busy peers, and
    /// ends at the first exchange that teaches nothing.
    /// </summary>
    private void OnSyncFollowUp(uint exchange, long now)
    {
        OutboundSync? o = _outSync;
        if (o is null || o.Exchange != exchange || _leaving)
        {
            return;
        }

        if (_catchingUp)
        {
            if (o.Status is SyncStatus.Partial or SyncStatus.Busy || o.Applied > 0)
            {
                BeginExchange(_catchUpPeer, now);
            }
            else
            {
                _catchingUp = false;
            }
        }
        else if (o.Applied > 0)
        {
            BeginExchange(o.Peer, now);
        }
    }

    private bool HandleSyncBegin(MemberId from, ReadOnlySpan<byte> body, long now)
    {
        if (!SyncBeginMessage.TryRead(body, out SyncBeginMessage begin))
        {
            return false;
        }

        if (_leaving)
        {
            return true;
        }

        RefillSyncTokens(now);
        InboundSync? slot = FindInbound(from, now);
        bool busy = slot is null
            ? _inbound.Count >= _config.MaxConcurrentSyncs
            : now - slot.StartedAt < _config.SyncFollowUpDelay.Ticks / 2; // one peer cannot spin us faster than its follow-up pace
        if (busy || _syncTokens < _config.MaxMessageSize)
        {
            SendDone(from, begin.Exchange, SyncStatus.Busy);
            Counters.SyncBusy++;
            return true;
        }

        if (slot is null)
        {
            slot = new InboundSync();
            _inbound.Add(slot);
        }

        slot.Peer = from;
        slot.Exchange = begin.Exchange;
        slot.StartedAt = now;
        slot.BytesSent = 0;
        Counters.SyncExchangesServed++;
        ServeRegular(slot, begin);
        return true;
    }

    private void ServeRegular(InboundSync slot, in SyncBeginMessage begin)
    {
        int level = begin.Level;
        int buckets = 1 << level;
        Span<ulong> local = stackalloc ulong[buckets];
        _table.CoarseHashes(level, local);
        Span<int> differing = stackalloc int[buckets];
        int count = 0;
        for (int b = 0; b < buckets; b++)
        {
            if (local[b] != begin.GetHash(b))
            {
                differing[count++] = b;
            }
        }

        if (count == 0)
        {
            SendDone(slot.Peer, slot.Exchange, SyncStatus.InSync);
            return;
        }

        SyncOutput output = Output;
        int budget = SyncBudget(slot.BytesSent);
        // Digests may use half the budget: the rest answers the pulls they cause.
        output.Open(slot.Peer, slot.Exchange, budget, digestBudget: budget / 2);
        // Start at a random differing bucket so that repeated cut-short exchanges cover them all.
        int start = _random.Next(count);
        bool truncated = false;
        for (int i = 0; i < count && !truncated; i++)
        {
            int bucket = differing[(start + i) % count];
            (ulong low, ulong high) = MemberTable.BucketRange(level, bucket);
            _syncScratch.Clear();
            _table.CollectRange(low, high, _syncScratch);
            if (begin.GetHash(bucket) == 0)
            {
                // The initiator has nothing live here: skip the digest round trip.
                foreach (MemberRecord record in _syncScratch)
                {
                    if (record.State.IsSynced() && !output.TryAddRecord(record))
                    {
                        truncated = true;
                        break;
                    }
                }
            }
            else
            {
                output.BeginRange(low);
                foreach (MemberRecord record in _syncScratch)
                {
                    if (!output.TryAddDigestEntry(record))
                    {
                        truncated = true;
                        break;
                    }
                }

                if (!truncated && !output.EndRange(high))
                {
                    truncated = true;
                }
            }
        }

        output.Flush();
        slot.BytesSent += output.Spent;
        SendDone(slot.Peer, slot.Exchange, truncated ? SyncStatus.Partial : SyncStatus.Complete);
    }

    private bool HandleSyncDigest(MemberId from, ReadOnlySpan<byte> body, long now)
    {
        if (!SyncDigestMessage.TryRead(body, out SyncDigestMessage page))
        {
            return false;
        }

        OutboundSync? o = _outSync;
        if (o is null || o.Exchange != page.Exchange || o.Peer != from || _leaving)
        {
            Counters.Drop(GossipDropReason.UnknownExchange);
            return true;
        }

        _syncScratch.Clear();
        _table.CollectRange(page.Low, page.High, _syncScratch);
        _pullScratch.Clear();
        RefillSyncTokens(now);
        SyncOutput output = Output;
        output.Open(from, o.Exchange, SyncBudget(o.BytesSent));
        int i = 0;
        int j = 0;
        bool pushing = true;
        while (i < _syncScratch.Count || j < page.Count)
        {
            MemberRecord? mine = i < _syncScratch.Count ? _syncScratch[i] : null;
            SyncDigestEntry theirs = j < page.Count ? page.GetEntry(j) : default;
            int order = mine is null ? 1 : j >= page.Count ? -1 : mine.Id.Prefix.CompareTo(theirs.Prefix);
            MemberRecord? push = null;
            if (order < 0)
            {
                push = mine!.State.IsSynced() ? mine : null;
                i++;
            }
            else if (order > 0)
            {
                if (theirs.State.IsSynced())
                {
                    _pullScratch.Add(theirs.Prefix);
                }

                j++;
            }
            else
            {
                int newer = CompareVersions(mine!.State, mine.Incarnation, mine.PayloadVersion, theirs.State, theirs.Incarnation, theirs.PayloadVersion);
                if (newer > 0)
                {
                    push = mine;
                }
                else if (newer < 0)
                {
                    _pullScratch.Add(theirs.Prefix);
                }

                i++;
                j++;
            }

            if (push is not null && pushing && !output.TryAddRecord(push))
            {
                pushing = false;
                o.Truncated = true;
            }
        }

        foreach (ulong prefix in _pullScratch)
        {
            if (!output.TryAddPull(prefix))
            {
                o.Truncated = true;
                break;
            }
        }

        output.Flush();
        o.BytesSent += output.Spent;
        return true;
    }

    private bool HandleSyncPull(MemberId from, ReadOnlySpan<byte> body, long now)
    {
        if (!SyncPullMessage.TryRead(body, out SyncPullMessage pull))
        {
            return false;
        }

        InboundSync? slot = FindInbound(from, now);
        if (slot is null || slot.Exchange != pull.Exchange)
        {
            Counters.Drop(GossipDropReason.UnknownExchange);
            return true;
        }

        RefillSyncTokens(now);
        SyncOutput output = Output;
        output.Open(from, slot.Exchange, SyncBudget(slot.BytesSent));
        for (int k = 0; k < pull.Count; k++)
        {
            MemberRecord? record = _table.FindByPrefix(pull.GetPrefix(k));
            if (record is not null && !output.TryAddRecord(record))
            {
                break;
            }
        }

        output.Flush();
        slot.BytesSent += output.Spent;
        return true;
    }

    private bool HandleSyncDone(MemberId from, ReadOnlySpan<byte> body, long now)
    {
        if (!SyncDoneMessage.TryRead(body, out SyncDoneMessage done))
        {
            return false;
        }

        OutboundSync? o = _outSync;
        if (o is null || o.Exchange != done.Exchange || o.Peer != from || o.Done)
        {
            Counters.Drop(GossipDropReason.UnknownExchange);
            return true;
        }

        o.Done = true;
        o.Status = done.Status;
        switch (done.Status)
        {
            case SyncStatus.InSync:
                _catchingUp = false;
                break;
            case SyncStatus.Busy:
                if (_catchingUp)
                {
                    CatchUpFailed(now);
                    // Back off longer than a follow-up: the responder is saturated.
                    Schedule(TimerKind.SyncFollowUp, now + (5 * _config.SyncFollowUpDelay.Ticks), o.Exchange);
                }

                break;
            default:
                // Partial, or Complete while catching up or cut short on our side: the follow-up
                // decides, once the pulled records had time to arrive.
                if (done.Status == SyncStatus.Partial || _catchingUp || o.Truncated)
                {
                    Schedule(TimerKind.SyncFollowUp, now + _config.SyncFollowUpDelay.Ticks, o.Exchange);
                }

                break;
        }

        return true;
    }

    private bool HandleSyncRecords(MemberId from, ReadOnlySpan<byte> body, ref bool fromSync, ref OutboundSync? source)
    {
        if (!SyncRecordsMessage.TryRead(body, out SyncRecordsMessage records))
        {
            return false;
        }

        fromSync = true;
        source = _outSync is { } o && o.Exchange == records.Exchange && o.Peer == from ? o : null;
        return true;
    }

    /// <summary>
    /// Which of two versions of one member is newer: &gt; 0 when the first. Revoked beats all;
    /// then the higher incarnation; then, at equal incarnation, the later state
    /// (alive &lt; suspect &lt; dead &lt; left); then the payload version.
    /// </summary>
    internal static int CompareVersions(MemberState aState, uint aIncarnation, ulong aVersion, MemberState bState, uint bIncarnation, ulong bVersion)
    {
        bool aRevoked = aState == MemberState.Revoked;
        bool bRevoked = bState == MemberState.Revoked;
        if (aRevoked || bRevoked)
        {
            return (aRevoked ? 1 : 0) - (bRevoked ? 1 : 0);
        }

        int c = aIncarnation.CompareTo(bIncarnation);
        if (c != 0)
        {
            return c;
        }

        c = ((byte)aState).CompareTo((byte)bState);
        return c != 0 ? c : aVersion.CompareTo(bVersion);
    }

    private InboundSync? FindInbound(MemberId peer, long now)
    {
        InboundSync? found = null;
        for (int i = _inbound.Count - 1; i >= 0; i--)
        {
            InboundSync slot = _inbound[i];
            if (now - slot.StartedAt > _config.SyncTimeout.Ticks)
            {
                _inbound.RemoveAt(i);
            }
            else if (slot.Peer == peer)
            {
                found = slot;
            }
        }

        return found;
    }

    private int SyncBudget(int alreadySent) =>
        (int)Math.Max(0, Math.Min(_config.MaxSyncBytesPerExchange - alreadySent, _syncTokens));

    private void RefillSyncTokens(long now)
    {
        double earned = (now - _syncTokensAt) * (double)_config.SyncBytesPerSecond / TimeSpan.TicksPerSecond;
        _syncTokens = Math.Min(_config.MaxSyncBytesPerExchange, _syncTokens + earned);
        _syncTokensAt = now;
    }

    private void SendSync(MemberId to, ReadOnlySpan<byte> frame)
    {
        _syncTokens -= frame.Length;
        Counters.SyncBytesSent += frame.Length;
        Send(to, frame);
    }

    private void SendDone(MemberId to, uint exchange, SyncStatus status)
    {
        var writer = new GossipFrameWriter(_sendBuffer);
        writer.TryAppend(GossipMessageType.SyncDone, SyncDoneMessage.Size, out Span<byte> body);
        new SyncDoneMessage(exchange, status).Write(body);
        SendSync(to, writer.Written);
    }

    private sealed class OutboundSync(uint exchange, MemberId peer, long startedAt)
    {
        public uint Exchange { get; } = exchange;

        public MemberId Peer { get; } = peer;

        public long StartedAt { get; } = startedAt;

        public SyncStatus Status { get; set; }

        public int BytesSent { get; set; }

        /// <summary>Records from this exchange that changed our view: the progress test for follow-ups.</summary>
        public int Applied { get; set; }

        /// <summary>Our own side hit its byte bound.</summary>
        public bool Truncated { get; set; }

        public bool Done { get; set; }
    }

    private sealed class InboundSync
    {
        public MemberId Peer { get; set; }

        public uint Exchange { get; set; }

        public long StartedAt { get; set; }

        public int BytesSent { get; set; }
    }

    /// <summary>
    /// Packs anti-entropy output into frames for one peer within a byte budget: record frames
    /// (a SyncRecords part, then record parts), digest pages (one SyncDigest part per frame) and
    /// pull lists. Each Try… returns false, sending nothing more, once the budget cannot take the
    /// item. Frames go out as they fill; <see cref="Flush"/> sends the last one.
    /// </summary>
    private sealed class SyncOutput(GossipEngine engine, byte[] buffer)
    {
        private const int FrameStart = GossipFrame.HeaderSize;
        private const int BodyStart = FrameStart + GossipFrame.PartHeaderSize;

        private MemberId _to;
        private uint _exchange;
        private int _budget;
        private int _digestBudget;
        private GossipMessageType? _kind;
        private int _length;
        private ulong _pageLow;
        private ulong _lastPrefix;
        private bool _pageOpen;

        public int Spent { get; private set; }

        public void Open(MemberId to, uint exchange, int budget, int? digestBudget = null)
        {
            _to = to;
            _exchange = exchange;
            _budget = budget;
            _digestBudget = digestBudget ?? budget;
            _kind = null;
            _length = 0;
            _pageOpen = false;
            Spent = 0;
        }

        public bool TryAddRecord(MemberRecord record)
        {
            int size = GossipFrame.PartHeaderSize + RecordBodySize(record);
            if (_kind != GossipMessageType.SyncRecords || _length + size > buffer.Length)
            {
                Flush();
                if (!Fits(BodyStart + SyncRecordsMessage.Size + size))
                {
                    return false;
                }

                StartFrame(GossipMessageType.SyncRecords);
                new SyncRecordsMessage(_exchange).Write(buffer.AsSpan(BodyStart));
                _length = BodyStart + SyncRecordsMessage.Size;
                SetPartLength(SyncRecordsMessage.Size);
            }
            else if (!Fits(size))
            {
                return false;
            }

            Span<byte> part = buffer.AsSpan(_length, size);
            part[0] = (byte)RecordType(record);
            BinaryPrimitives.WriteUInt16BigEndian(part[1..], (ushort)(size - GossipFrame.PartHeaderSize));
            engine.WriteRecordBody(record, part[GossipFrame.PartHeaderSize..]);
            _length += size;
            return true;
        }

        public void BeginRange(ulong low)
        {
            Flush();
            _pageLow = low;
            _pageOpen = false;
        }

        public bool TryAddDigestEntry(MemberRecord record)
        {
            if (_pageOpen && _length + SyncDigestEntry.Size > buffer.Length)
            {
                ClosePage(_lastPrefix);
                _pageLow = unchecked(_lastPrefix + 1);
            }

            if (!_pageOpen)
            {
                if (!FitsDigest(BodyStart + SyncDigestMessage.FixedSize + SyncDigestEntry.Size))
                {
                    return false;
                }

                OpenPage();
            }
            else if (!FitsDigest(SyncDigestEntry.Size))
            {
                ClosePage(_lastPrefix);
                return false;
            }

            var entry = new SyncDigestEntry(record.Id.Prefix, record.Incarnation, record.PayloadVersion, record.State);
            SyncDigestMessage.WriteEntry(buffer.AsSpan(_length, SyncDigestEntry.Size), entry);
            _length += SyncDigestEntry.Size;
            _lastPrefix = record.Id.Prefix;
            return true;
        }

        /// <summary>Closes the range's last page at <paramref name="high"/> (an empty page still says "nothing here"); false when the budget cannot take it.</summary>
        public bool EndRange(ulong high)
        {
            if (!_pageOpen)
            {
                if (!FitsDigest(BodyStart + SyncDigestMessage.FixedSize))
                {
                    return false;
                }

                OpenPage();
            }

            ClosePage(high);
            return true;
        }

        public bool TryAddPull(ulong prefix)
        {
            if (_kind != GossipMessageType.SyncPull || _length + 8 > buffer.Length)
            {
                Flush();
                if (!Fits(BodyStart + SyncPullMessage.FixedSize + 8))
                {
                    return false;
                }

                StartFrame(GossipMessageType.SyncPull);
                SyncPullMessage.WriteHeader(buffer.AsSpan(BodyStart), _exchange);
                _length = BodyStart + SyncPullMessage.FixedSize;
            }
            else if (!Fits(8))
            {
                return false;
            }

            BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(_length), prefix);
            _length += 8;
            return true;
        }

        public void Flush()
        {
            if (_kind is null)
            {
                return;
            }

            if (_kind == GossipMessageType.SyncPull)
            {
                SetPartLength(_length - BodyStart);
            }

            engine.SendSync(_to, buffer.AsSpan(0, _length));
            Spent += _length;
            _kind = null;
            _length = 0;
            _pageOpen = false;
        }

        private bool Fits(int bytes) => Spent + (_kind is null ? 0 : _length) + bytes <= _budget;

        private bool FitsDigest(int bytes) => Fits(bytes) && Spent + (_kind is null ? 0 : _length) + bytes <= _digestBudget;

        private void StartFrame(GossipMessageType kind)
        {
            buffer[0] = GossipFrame.Version;
            buffer[FrameStart] = (byte)kind;
            _kind = kind;
            _length = BodyStart;
        }

        private void OpenPage()
        {
            Flush();
            StartFrame(GossipMessageType.SyncDigest);
            SyncDigestMessage.WriteHeader(buffer.AsSpan(BodyStart), _exchange, _pageLow, _pageLow);
            _length = BodyStart + SyncDigestMessage.FixedSize;
            _pageOpen = true;
        }

        private void ClosePage(ulong high)
        {
            BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(BodyStart + 12), high);
            SetPartLength(_length - BodyStart);
            Flush();
        }

        private void SetPartLength(int length) => BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(FrameStart + 1), (ushort)length);

        private static GossipMessageType RecordType(MemberRecord record) => record.State switch
        {
            MemberState.Alive => GossipMessageType.Alive,
            MemberState.Suspect => GossipMessageType.Suspect,
            MemberState.Dead => GossipMessageType.Dead,
            MemberState.Left => GossipMessageType.Left,
            _ => GossipMessageType.Revoked,
        };

        private static int RecordBodySize(MemberRecord record) => record.State switch
        {
            MemberState.Alive => AliveMessage.FixedSize + (record.Payload?.Data.Length ?? 0),
            MemberState.Suspect or MemberState.Dead => SuspectMessage.Size,
            MemberState.Left => LeftMessage.Size,
            _ => RevokedMessage.FixedSize + (record.RevocationProof?.Length ?? 0),
        };
    }

    /// <summary>A record as the message that recreates it elsewhere. Suspicions and deaths name this node as the accuser (the original accusers are not kept).</summary>
    private void WriteRecordBody(MemberRecord record, Span<byte> body)
    {
        switch (record.State)
        {
            case MemberState.Alive:
                MemberPayload payload = record.Payload ?? MemberPayload.Empty;
                new AliveMessage(record.Id, record.Incarnation, payload.Version, AliveFlags.None, payload.Data.Span).Write(body);
                break;
            case MemberState.Suspect:
                new SuspectMessage(record.Id, record.Incarnation, _self.Id).Write(body);
                break;
            case MemberState.Dead:
                new DeadMessage(record.Id, record.Incarnation, _self.Id).Write(body);
                break;
            case MemberState.Left:
                new LeftMessage(record.Id, record.Incarnation).Write(body);
                break;
            default:
                new RevokedMessage(record.Id, record.RevocationProof ?? []).Write(body);
                break;
        }
    }
}
