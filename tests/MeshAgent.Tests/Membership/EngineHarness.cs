using MeshAgent.Engine.Membership;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Membership;

/// <summary>
/// One real engine with a scripted world around it: the test hands it frames from any member,
/// reads what it sends, and moves a manual clock. Members listed in <see cref="Responsive"/>
/// answer the engine's pings (delivered on the next <see cref="Advance"/> step), so the engine's
/// own probing does not create suspicions the test did not ask for.
/// </summary>
internal sealed class EngineHarness : IGossipTransport
{
    private readonly List<(MemberId From, byte[] Frame)> _pending = new();

    public EngineHarness(int members, GossipConfig? config = null, GossipHooks? hooks = null, uint incarnation = 1)
    {
        Config = config ?? GossipConfig.Lan;
        var combined = new GossipHooks
        {
            ValidatePayload = hooks?.ValidatePayload,
            ValidateRevocation = hooks?.ValidateRevocation,
            MemberChanged = change =>
            {
                Changes.Add(change);
                hooks?.MemberChanged?.Invoke(change);
            },
        };
        Engine = new GossipEngine(Config, Id(0), Payload(0, 1), incarnation, this, Clock, new Random(7), combined);
        for (int i = 1; i < members; i++)
        {
            Assert.True(Engine.ImportMember(Id(i), MemberState.Alive, 1, Payload(i, 1)));
            Responsive.Add(Id(i));
        }

        Engine.Start(announce: false);
    }

    public GossipConfig Config { get; }

    public ManualTimeProvider Clock { get; } = new();

    public GossipEngine Engine { get; }

    public MemberId Self => Engine.Self;

    public List<(MemberId To, byte[] Frame)> Sent { get; } = new();

    public List<MemberChange> Changes { get; } = new();

    public HashSet<MemberId> Responsive { get; } = new();

    /// <summary>Deterministic distinct member ids (uniform prefixes, like real keys).</summary>
    public static MemberId Id(int n)
    {
        byte[] key = new byte[MemberId.Size];
        new Random(1000 + n).NextBytes(key);
        return new MemberId(key);
    }

    public static MemberPayload Payload(int member, ulong version)
    {
        byte[] data = new byte[40];
        new Random((member * 31) + (int)version).NextBytes(data);
        return new MemberPayload(version, data);
    }

    public MemberState StateOf(MemberId id) => Engine.TryGetMember(id, out MemberView view) ? view.State : throw new InvalidOperationException($"{id} is not known");

    public uint IncarnationOf(MemberId id) => Engine.TryGetMember(id, out MemberView view) ? view.Incarnation : throw new InvalidOperationException($"{id} is not known");

    public void Send(MemberId to, ReadOnlySpan<byte> frame)
    {
        byte[] copy = frame.ToArray();
        Sent.Add((to, copy));
        if (!Responsive.Contains(to))
        {
            return;
        }

        foreach ((GossipMessageType type, byte[] body) in GossipTestFrames.Parts(copy))
        {
            if (type == GossipMessageType.Ping && PingMessage.TryRead(body, out PingMessage ping))
            {
                _pending.Add((to, GossipTestFrames.Frame(GossipTestFrames.Part(new AckMessage(ping.Sequence)))));
            }
        }
    }

    public void Deliver(MemberId from, params byte[][] parts) => Engine.Receive(from, GossipTestFrames.Frame(parts));

    /// <summary>Moves time forward timer by timer, delivering the responsive members' acks as it goes.</summary>
    public void Advance(TimeSpan duration)
    {
        TimeSpan end = Engine.Now + duration;
        while (true)
        {
            FlushPending();
            TimeSpan? next = Engine.NextTimerAt;
            if (next is null || next.Value > end)
            {
                break;
            }

            if (next.Value > Engine.Now)
            {
                Clock.Advance(next.Value - Engine.Now);
            }

            Engine.RunTimers();
        }

        if (end > Engine.Now)
        {
            Clock.Advance(end - Engine.Now);
        }

        FlushPending();
        Engine.RunTimers();
    }

    /// <summary>Every part of the given type the engine sent since the last <see cref="Sent"/>.Clear().</summary>
    public IEnumerable<(MemberId To, byte[] Body)> SentParts(GossipMessageType type) =>
        Sent.SelectMany(s => GossipTestFrames.Parts(s.Frame).Where(p => p.Type == type).Select(p => (s.To, p.Body)));

    private void FlushPending()
    {
        while (_pending.Count > 0)
        {
            (MemberId from, byte[] frame) = _pending[0];
            _pending.RemoveAt(0);
            Engine.Receive(from, frame);
        }
    }
}

/// <summary>Frame building and parsing for tests, written from the layout comments, not from the engine's writer.</summary>
internal static class GossipTestFrames
{
    public static byte[] Frame(params byte[][] parts)
    {
        var frame = new List<byte> { GossipFrame.Version };
        foreach (byte[] part in parts)
        {
            frame.AddRange(part);
        }

        return frame.ToArray();
    }

    public static byte[] Part(GossipMessageType type, byte[] body)
    {
        byte[] part = new byte[3 + body.Length];
        part[0] = (byte)type;
        part[1] = (byte)(body.Length >> 8);
        part[2] = (byte)body.Length;
        body.CopyTo(part, 3);
        return part;
    }

    public static byte[] Part(AckMessage m) => Part(GossipMessageType.Ack, Body(m.Write, AckMessage.Size));

    public static byte[] Part(PingMessage m) => Part(GossipMessageType.Ping, Body(m.Write, PingMessage.Size));

    public static byte[] Part(SuspectMessage m) => Part(GossipMessageType.Suspect, Body(m.Write, SuspectMessage.Size));

    public static byte[] Part(DeadMessage m) => Part(GossipMessageType.Dead, Body(m.Write, DeadMessage.Size));

    public static byte[] Part(LeftMessage m) => Part(GossipMessageType.Left, Body(m.Write, LeftMessage.Size));

    public static byte[] Part(SyncRecordsMessage m) => Part(GossipMessageType.SyncRecords, Body(m.Write, SyncRecordsMessage.Size));

    public static byte[] Alive(MemberId member, uint incarnation, MemberPayload payload, bool omitPayload = false)
    {
        var alive = new AliveMessage(member, incarnation, payload.Version, omitPayload ? AliveFlags.PayloadOmitted : AliveFlags.None, omitPayload ? [] : payload.Data.Span);
        byte[] body = new byte[alive.Size];
        alive.Write(body);
        return Part(GossipMessageType.Alive, body);
    }

    public static byte[] Revoked(MemberId member, byte[] proof)
    {
        var revoked = new RevokedMessage(member, proof);
        byte[] body = new byte[revoked.Size];
        revoked.Write(body);
        return Part(GossipMessageType.Revoked, body);
    }

    public static IEnumerable<(GossipMessageType Type, byte[] Body)> Parts(byte[] frame)
    {
        var parts = new List<(GossipMessageType, byte[])>();
        Assert.True(GossipFrameReader.TryCreate(frame, out GossipFrameReader reader), "frame has a bad version byte");
        while (reader.TryReadPart(out GossipMessageType type, out ReadOnlySpan<byte> body))
        {
            parts.Add((type, body.ToArray()));
        }

        Assert.False(reader.IsMalformed, "the engine sent a malformed frame");
        return parts;
    }

    private delegate int Writer(Span<byte> destination);

    private static byte[] Body(Writer write, int size)
    {
        byte[] body = new byte[size];
        Assert.Equal(size, write(body));
        return body;
    }
}
