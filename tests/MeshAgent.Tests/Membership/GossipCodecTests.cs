using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Engine.Membership;
using static MeshAgent.Tests.WireGuard.WireGuardGens;

namespace MeshAgent.Tests.Membership;

/// <summary>
/// The gossip frame codec: byte layouts checked against the diagrams in the message comments,
/// round trips as FsCheck properties, and the rule that nothing from the network throws
/// (STYLE rule 7) — every TryRead, the frame reader and the whole engine fed random and
/// mutated frames.
/// </summary>
public sealed class GossipCodecTests
{
    private static readonly MemberId Member = EngineHarness.Id(1);
    private static readonly MemberId From = EngineHarness.Id(2);

    private static Gen<MemberId> AnyMemberId => Bytes(MemberId.Size).Select(b => new MemberId(b));

    [Fact]
    public void Member_id_keeps_its_bytes_orders_by_them_and_prints_base64()
    {
        byte[] key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var id = new MemberId(key);
        Assert.Equal(key, id.ToArray());
        Assert.Equal(0x0001020304050607UL, id.Prefix);
        Assert.Equal(Convert.ToBase64String(key), id.ToString());
        byte[] larger = (byte[])key.Clone();
        larger[31]++;
        Assert.True(id.CompareTo(new MemberId(larger)) < 0);
        Assert.False(MemberId.TryRead(key.AsSpan(0, 31), out _));
        Assert.Throws<ArgumentException>(() => new MemberId(key.AsSpan(0, 31)));
    }

    [Fact]
    public void Suspect_layout_is_member_incarnation_from()
    {
        byte[] body = new byte[SuspectMessage.Size];
        new SuspectMessage(Member, 0x01020304, From).Write(body);
        byte[] expected = [.. Member.ToArray(), 1, 2, 3, 4, .. From.ToArray()];
        Assert.Equal(expected, body);
        Assert.Equal(68, SuspectMessage.Size);
    }

    [Fact]
    public void Alive_layout_is_member_incarnation_version_flags_payload()
    {
        var alive = new AliveMessage(Member, 7, 0x0A0B0C0D0E0F1011, AliveFlags.None, [0xEE, 0xFF]);
        byte[] body = new byte[alive.Size];
        alive.Write(body);
        byte[] expected = [.. Member.ToArray(), 0, 0, 0, 7, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0, 0xEE, 0xFF];
        Assert.Equal(expected, body);
        Assert.False(AliveMessage.TryRead(body.AsSpan(0, AliveMessage.FixedSize - 1), out _));
        body[44] = (byte)AliveFlags.PayloadOmitted;
        Assert.False(AliveMessage.TryRead(body, out _)); // omitted, yet a payload follows
        body[44] = 0x80;
        Assert.False(AliveMessage.TryRead(body, out _)); // unknown flag
    }

    [Fact]
    public void Ping_req_layout_is_sequence_timeout_target()
    {
        byte[] body = new byte[PingReqMessage.Size];
        new PingReqMessage(0x11223344, 500, Member).Write(body);
        Assert.Equal([0x11, 0x22, 0x33, 0x44, 0, 0, 0x01, 0xF4, .. Member.ToArray()], body);
    }

    [Fact]
    public void Sync_begin_carries_exactly_2_to_the_level_hashes()
    {
        ulong[] hashes = [1, 2, 3, 4];
        byte[] body = new byte[SyncBeginMessage.SizeFor(2)];
        Assert.Equal(5 + 32, SyncBeginMessage.Write(body, 9, 2, hashes));
        Assert.Equal([0, 0, 0, 9, 2, 0, 0, 0, 0, 0, 0, 0, 1], body[..13]);
        Assert.True(SyncBeginMessage.TryRead(body, out SyncBeginMessage begin));
        Assert.Equal((9u, 2, 4), (begin.Exchange, begin.Level, begin.HashCount));
        ulong[] readHashes = [begin.GetHash(0), begin.GetHash(1), begin.GetHash(2), begin.GetHash(3)];
        Assert.Equal(hashes, readHashes);
        Assert.False(SyncBeginMessage.TryRead(body.AsSpan(0, body.Length - 8), out _));
        body[4] = 8;
        Assert.False(SyncBeginMessage.TryRead(body, out _));
        Assert.Throws<ArgumentException>(() => SyncBeginMessage.Write(new byte[100], 1, 2, [1, 2, 3]));
        Assert.Equal(1033, GossipFrame.HeaderSize + GossipFrame.PartHeaderSize + SyncBeginMessage.SizeFor(SyncBeginMessage.MaxLevel));
    }

    [Fact]
    public void Sync_digest_rejects_entries_out_of_order_out_of_range_or_with_unknown_states()
    {
        byte[] body = Digest(10, 100, (10, MemberState.Alive), (50, MemberState.Dead), (100, MemberState.Revoked));
        Assert.True(SyncDigestMessage.TryRead(body, out SyncDigestMessage page));
        Assert.Equal(3, page.Count);
        Assert.Equal(new SyncDigestEntry(50, 5, 6, MemberState.Dead), page.GetEntry(1));

        Assert.False(SyncDigestMessage.TryRead(Digest(10, 100, (50, MemberState.Alive), (20, MemberState.Alive)), out _));
        Assert.False(SyncDigestMessage.TryRead(Digest(10, 100, (101, MemberState.Alive)), out _));
        Assert.False(SyncDigestMessage.TryRead(Digest(10, 100, (9, MemberState.Alive)), out _));
        Assert.False(SyncDigestMessage.TryRead(Digest(100, 10), out _));
        byte[] badState = Digest(10, 100, (10, MemberState.Alive));
        badState[^1] = 5;
        Assert.False(SyncDigestMessage.TryRead(badState, out _));
        Assert.False(SyncDigestMessage.TryRead(body.AsSpan(0, body.Length - 1), out _));
    }

    [Fact]
    public void Frame_reader_stops_at_a_truncated_part_and_keeps_the_ones_before()
    {
        byte[] frame = GossipTestFrames.Frame(GossipTestFrames.Part(new PingMessage(1)), [(byte)GossipMessageType.Ack, 0, 4, 0, 0]);
        Assert.True(GossipFrameReader.TryCreate(frame, out GossipFrameReader reader));
        Assert.True(reader.TryReadPart(out GossipMessageType type, out ReadOnlySpan<byte> body));
        Assert.Equal((GossipMessageType.Ping, 4), (type, body.Length));
        Assert.False(reader.TryReadPart(out _, out _));
        Assert.True(reader.IsMalformed);
        Assert.False(GossipFrameReader.TryCreate([2, 1, 0, 0], out _));
        Assert.False(GossipFrameReader.TryCreate([], out _));
    }

    [Fact]
    public void Frame_writer_refuses_parts_that_do_not_fit()
    {
        byte[] buffer = new byte[10];
        var writer = new GossipFrameWriter(buffer);
        Assert.True(writer.TryAppend(GossipMessageType.Ping, 4, out Span<byte> body));
        Assert.Equal(4, body.Length);
        Assert.False(writer.TryAppend(GossipMessageType.Ack, 4, out _));
        Assert.Equal(8, writer.Length);
        Assert.Equal(1, writer.Parts);
    }

    [Fact]
    public void Fixed_size_messages_round_trip()
    {
        Check.One(PropertyConfig(), Prop.ForAll(Arb.From(
            from member in AnyMemberId
            from accuser in AnyMemberId
            from incarnation in AnyUInt32
            from sequence in AnyUInt32
            from version in AnyUInt64
            from status in Gen.Elements(SyncStatus.InSync, SyncStatus.Complete, SyncStatus.Partial, SyncStatus.Busy)
            select (member, accuser, incarnation, sequence, version, status)), t =>
        {
            Assert.Equal(new SuspectMessage(t.member, t.incarnation, t.accuser), RoundTrip<SuspectMessage>(new SuspectMessage(t.member, t.incarnation, t.accuser).Write, SuspectMessage.Size, SuspectMessage.TryRead));
            Assert.Equal(new DeadMessage(t.member, t.incarnation, t.accuser), RoundTrip<DeadMessage>(new DeadMessage(t.member, t.incarnation, t.accuser).Write, DeadMessage.Size, DeadMessage.TryRead));
            Assert.Equal(new LeftMessage(t.member, t.incarnation), RoundTrip<LeftMessage>(new LeftMessage(t.member, t.incarnation).Write, LeftMessage.Size, LeftMessage.TryRead));
            Assert.Equal(new PingMessage(t.sequence), RoundTrip<PingMessage>(new PingMessage(t.sequence).Write, PingMessage.Size, PingMessage.TryRead));
            Assert.Equal(new AckMessage(t.sequence), RoundTrip<AckMessage>(new AckMessage(t.sequence).Write, AckMessage.Size, AckMessage.TryRead));
            Assert.Equal(new NackMessage(t.sequence), RoundTrip<NackMessage>(new NackMessage(t.sequence).Write, NackMessage.Size, NackMessage.TryRead));
            Assert.Equal(new PingReqMessage(t.sequence, t.incarnation, t.member), RoundTrip<PingReqMessage>(new PingReqMessage(t.sequence, t.incarnation, t.member).Write, PingReqMessage.Size, PingReqMessage.TryRead));
            Assert.Equal(new SyncDoneMessage(t.sequence, t.status), RoundTrip<SyncDoneMessage>(new SyncDoneMessage(t.sequence, t.status).Write, SyncDoneMessage.Size, SyncDoneMessage.TryRead));
            Assert.Equal(new SyncRecordsMessage(t.sequence), RoundTrip<SyncRecordsMessage>(new SyncRecordsMessage(t.sequence).Write, SyncRecordsMessage.Size, SyncRecordsMessage.TryRead));
        }));
    }

    [Fact]
    public void Variable_size_messages_round_trip()
    {
        Check.One(PropertyConfig(), Prop.ForAll(Arb.From(
            from member in AnyMemberId
            from incarnation in AnyUInt32
            from version in AnyUInt64
            from length in Gen.Choose(0, 300)
            from payload in Bytes(length)
            from prefixes in Gen.ArrayOf(AnyUInt64)
            select (member, incarnation, version, payload, prefixes)), t =>
        {
            var alive = new AliveMessage(t.member, t.incarnation, t.version, AliveFlags.None, t.payload);
            byte[] body = new byte[alive.Size];
            alive.Write(body);
            Assert.True(AliveMessage.TryRead(body, out AliveMessage read));
            Assert.Equal((t.member, t.incarnation, t.version, false), (read.Member, read.Incarnation, read.PayloadVersion, read.PayloadOmitted));
            Assert.Equal(t.payload, read.Payload.ToArray());

            var revoked = new RevokedMessage(t.member, t.payload);
            body = new byte[revoked.Size];
            revoked.Write(body);
            Assert.True(RevokedMessage.TryRead(body, out RevokedMessage readRevoked));
            Assert.Equal(t.member, readRevoked.Member);
            Assert.Equal(t.payload, readRevoked.Proof.ToArray());

            if (t.prefixes.Length > 0)
            {
                body = new byte[SyncPullMessage.FixedSize + (8 * t.prefixes.Length)];
                SyncPullMessage.WriteHeader(body, t.incarnation);
                for (int i = 0; i < t.prefixes.Length; i++)
                {
                    SyncPullMessage.WritePrefix(body, i, t.prefixes[i]);
                }

                Assert.True(SyncPullMessage.TryRead(body, out SyncPullMessage pull));
                Assert.Equal(t.incarnation, pull.Exchange);
                var readPrefixes = new ulong[pull.Count];
                for (int i = 0; i < readPrefixes.Length; i++)
                {
                    readPrefixes[i] = pull.GetPrefix(i);
                }

                Assert.Equal(t.prefixes, readPrefixes);
            }

            ulong[] sorted = t.prefixes.Order().ToArray();
            if (sorted.Length > 0)
            {
                body = new byte[SyncDigestMessage.FixedSize + (SyncDigestEntry.Size * sorted.Length)];
                SyncDigestMessage.WriteHeader(body, t.incarnation, sorted[0], sorted[^1]);
                var entries = sorted.Select((p, i) => new SyncDigestEntry(p, (uint)i, t.version, (MemberState)(i % 5))).ToArray();
                for (int i = 0; i < entries.Length; i++)
                {
                    SyncDigestMessage.WriteEntry(body.AsSpan(SyncDigestMessage.FixedSize + (i * SyncDigestEntry.Size)), entries[i]);
                }

                Assert.True(SyncDigestMessage.TryRead(body, out SyncDigestMessage page));
                Assert.Equal((sorted[0], sorted[^1]), (page.Low, page.High));
                var readEntries = new SyncDigestEntry[page.Count];
                for (int i = 0; i < readEntries.Length; i++)
                {
                    readEntries[i] = page.GetEntry(i);
                }

                Assert.Equal(entries, readEntries);
            }
        }));
    }

    [Fact]
    public void Every_try_read_and_the_frame_reader_accept_any_bytes_without_throwing()
    {
        Check.One(PropertyConfig(3000), Prop.ForAll(Arb.From(AnyDatagram), (byte[] bytes) => ParseEverything(bytes)));
    }

    [Fact]
    public void The_engine_survives_random_and_mutated_frames()
    {
        var h = new EngineHarness(20);
        MemberId stranger = EngineHarness.Id(500);
        byte[][] valid =
        [
            GossipTestFrames.Frame(GossipTestFrames.Part(new PingMessage(1)), GossipTestFrames.Alive(EngineHarness.Id(3), 9, EngineHarness.Payload(3, 4))),
            GossipTestFrames.Frame(GossipTestFrames.Part(new SyncRecordsMessage(5)), GossipTestFrames.Part(new DeadMessage(EngineHarness.Id(4), 3, From))),
            GossipTestFrames.Frame(GossipTestFrames.Part(GossipMessageType.SyncBegin, BeginBody())),
            GossipTestFrames.Frame(GossipTestFrames.Part(GossipMessageType.SyncDigest, Digest(0, ulong.MaxValue, (5, MemberState.Alive), (EngineHarness.Id(5).Prefix, MemberState.Suspect)))),
            GossipTestFrames.Frame(GossipTestFrames.Revoked(EngineHarness.Id(6), [1, 2, 3])),
        ];
        Gen<byte[]> mutated =
            from frame in Gen.Elements(valid)
            from position in Gen.Choose(0, 400)
            from value in AnyByte
            from cut in Gen.Choose(0, 400)
            select Mutate(frame, position, value, cut);
        Gen<byte[]> framed = AnyDatagram.Select(bytes => bytes.Length > 0 ? [GossipFrame.Version, .. bytes[1..]] : bytes);

        Check.One(PropertyConfig(3000), Prop.ForAll(Arb.From(Gen.OneOf(mutated, framed, AnyDatagram)), (byte[] frame) =>
        {
            h.Engine.Receive(stranger, frame);
            h.Engine.Receive(From, frame);
            h.Advance(TimeSpan.FromMilliseconds(50));
        }));
        Assert.True(h.Engine.Counters[GossipDropReason.Malformed] > 0);
    }

    private static byte[] Mutate(byte[] frame, int position, byte value, int cut)
    {
        byte[] copy = (byte[])frame.Clone();
        copy[position % copy.Length] = value;
        return copy.AsSpan(0, Math.Max(1, copy.Length - (cut % copy.Length))).ToArray();
    }

    private static bool ParseEverything(byte[] bytes)
    {
        ReadOnlySpan<byte> span = bytes;
        _ = PingMessage.TryRead(span, out _);
        _ = AckMessage.TryRead(span, out _);
        _ = NackMessage.TryRead(span, out _);
        _ = PingReqMessage.TryRead(span, out _);
        _ = SuspectMessage.TryRead(span, out _);
        _ = DeadMessage.TryRead(span, out _);
        _ = LeftMessage.TryRead(span, out _);
        _ = SyncDoneMessage.TryRead(span, out _);
        _ = SyncRecordsMessage.TryRead(span, out _);
        if (AliveMessage.TryRead(span, out AliveMessage alive))
        {
            _ = alive.Payload.Length + (long)(alive.Member.Prefix >> 1);
        }

        if (RevokedMessage.TryRead(span, out RevokedMessage revoked))
        {
            _ = revoked.Proof.Length;
        }

        if (SyncBeginMessage.TryRead(span, out SyncBeginMessage begin))
        {
            for (int i = 0; i < begin.HashCount; i++)
            {
                _ = begin.GetHash(i);
            }
        }

        if (SyncDigestMessage.TryRead(span, out SyncDigestMessage page))
        {
            for (int i = 0; i < page.Count; i++)
            {
                _ = page.GetEntry(i);
            }
        }

        if (SyncPullMessage.TryRead(span, out SyncPullMessage pull))
        {
            for (int i = 0; i < pull.Count; i++)
            {
                _ = pull.GetPrefix(i);
            }
        }

        if (GossipFrameReader.TryCreate(span, out GossipFrameReader reader))
        {
            while (reader.TryReadPart(out _, out ReadOnlySpan<byte> body))
            {
                _ = body.Length;
            }
        }

        return true;
    }

    private static byte[] BeginBody()
    {
        byte[] body = new byte[SyncBeginMessage.SizeFor(1)];
        SyncBeginMessage.Write(body, 77, 1, [123, 456]);
        return body;
    }

    private static byte[] Digest(ulong low, ulong high, params (ulong Prefix, MemberState State)[] entries)
    {
        byte[] body = new byte[SyncDigestMessage.FixedSize + (entries.Length * SyncDigestEntry.Size)];
        BinaryPrimitives.WriteUInt32BigEndian(body, 1);
        BinaryPrimitives.WriteUInt64BigEndian(body.AsSpan(4), low);
        BinaryPrimitives.WriteUInt64BigEndian(body.AsSpan(12), high);
        for (int i = 0; i < entries.Length; i++)
        {
            Span<byte> entry = body.AsSpan(SyncDigestMessage.FixedSize + (i * SyncDigestEntry.Size));
            BinaryPrimitives.WriteUInt64BigEndian(entry, entries[i].Prefix);
            BinaryPrimitives.WriteUInt32BigEndian(entry[8..], 5);
            BinaryPrimitives.WriteUInt64BigEndian(entry[12..], 6);
            entry[20] = (byte)entries[i].State;
        }

        return body;
    }

    private delegate int Writer(Span<byte> destination);

    private delegate bool Reader<T>(ReadOnlySpan<byte> body, out T message);

    private static T RoundTrip<T>(Writer write, int size, Reader<T> read)
    {
        byte[] body = new byte[size];
        Assert.Equal(size, write(body));
        Assert.True(read(body, out T message));
        Assert.False(read(body.AsSpan(0, size - 1), out _));
        Assert.False(read([.. body, 0], out _));
        return message;
    }
}
