namespace MeshAgent.Engine.Membership;

/// <summary>
/// Gossip tuning, one options type with documented defaults (STYLE rule 14). The presets follow
/// hashicorp/memberlist's <c>DefaultLANConfig</c> / <c>DefaultWANConfig</c> /
/// <c>DefaultLocalConfig</c> for the SWIM and Lifeguard numbers; the anti-entropy numbers are our
/// own because our push-pull is bounded (see <see cref="MaxSyncBytesPerExchange"/>) where
/// memberlist's is a full-state TCP transfer.
/// <para>Formulas, with N = live members including this node (the numbers are for <see cref="Lan"/>):</para>
/// <list type="bullet">
/// <item>retransmits per broadcast = RetransmitMult × ⌈log10(N+1)⌉ — 8 at N=10, 12 at N=100, 16 at N=1,000, 20 at N=10,000.</item>
/// <item>suspicion min = SuspicionMult × max(1, log10(N+1)) × ProbeInterval — 4 s at N≤9, 8 s at N=100, 12 s at N=1,000, 16 s at N=10,000.</item>
/// <item>suspicion max = SuspicionMaxTimeoutMult × min — 24 s, 48 s, 72 s, 96 s.</item>
/// <item>confirmations that drive the timeout to min: k = SuspicionMult − 2 = 2 (0 when N − 2 &lt; k: tiny meshes use min at once).</item>
/// <item>Lifeguard awareness score s ∈ [0, AwarenessMaxMultiplier − 1]: probe interval and probe timeout are multiplied by (s + 1), so 1×…8×.</item>
/// </list>
/// Immutable record; build variants with <c>with</c>. <see cref="Validate"/> lists every problem by name.
/// </summary>
public sealed record GossipConfig
{
    /// <summary>Wire overhead around one control frame as sent: IPv4 20 + UDP 8 + WireGuard transport header 16 + Poly1305 tag 16. Used for byte accounting only.</summary>
    public const int WireOverheadBytes = 60;

    /// <summary>One direct probe per interval, to the next member of a shuffled round-robin list (SWIM §4.3: every member is probed within N intervals). memberlist LAN: 1 s.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait for a direct ack before asking <see cref="IndirectChecks"/> members to probe for us. Should exceed the 99th-percentile RTT. memberlist LAN: 500 ms.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>k, the members asked to probe indirectly (ping-req) after a missed direct ack. memberlist: 3.</summary>
    public int IndirectChecks { get; init; } = 3;

    /// <summary>How often queued broadcasts go out to <see cref="GossipNodes"/> random members (only when something is queued). memberlist LAN: 200 ms.</summary>
    public TimeSpan GossipInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Fan-out per gossip interval. memberlist: 3.</summary>
    public int GossipNodes { get; init; } = 3;

    /// <summary>Dead members still receive gossip for this long, so a wrongly declared one learns it and refutes. memberlist LAN: 30 s.</summary>
    public TimeSpan GossipToTheDeadTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Retransmit multiplier; see the class formulas. memberlist: 4.</summary>
    public int RetransmitMult { get; init; } = 4;

    /// <summary>Suspicion timeout multiplier; see the class formulas. memberlist LAN: 4.</summary>
    public int SuspicionMult { get; init; } = 4;

    /// <summary>Max/min suspicion timeout ratio (Lifeguard). memberlist: 6 ("for 10k nodes this will give a max timeout of 120 seconds" with their log10(N) rounding).</summary>
    public int SuspicionMaxTimeoutMult { get; init; } = 6;

    /// <summary>Lifeguard local-health bound: timeouts stretch up to this factor when this node looks unhealthy. memberlist: 8.</summary>
    public int AwarenessMaxMultiplier { get; init; } = 8;

    /// <summary>
    /// Anti-entropy period: one bounded exchange with one random live member. Not scaled with N
    /// (memberlist multiplies by ⌈log2 N − 5⌉ + 1 because each of its exchanges carries the whole
    /// member list; ours costs one bucket-hash message when views agree). memberlist LAN: 30 s.
    /// </summary>
    public TimeSpan PushPullInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest control frame this node sends: fits an IPv6 minimum-MTU path (1280) after the WireGuard and UDP/IP headers. memberlist: 1400 (UDPBufferSize).</summary>
    public int MaxMessageSize { get; init; } = 1200;

    /// <summary>Largest member payload (certificate + signed dynamic state) or revocation proof accepted; larger ones are dropped. At most MaxMessageSize − 55 so one record always fits a frame.</summary>
    public int MaxPayloadSize { get; init; } = 1024;

    /// <summary>
    /// Bound on what one side sends in one anti-entropy exchange (digest pages, record pushes and
    /// pull answers together). A node that differs in more than this catches up over follow-up
    /// exchanges, each bounded, never one transfer proportional to N.
    /// </summary>
    public int MaxSyncBytesPerExchange { get; init; } = 32 * 1024;

    /// <summary>
    /// Long-run cap on anti-entropy bytes this node sends per second, as both initiator and
    /// responder (token bucket, burst = <see cref="MaxSyncBytesPerExchange"/>). A responder out of
    /// budget answers "busy" and the initiator tries again later: push-pull storms cannot form.
    /// </summary>
    public int SyncBytesPerSecond { get; init; } = 64 * 1024;

    /// <summary>Distinct peers this node serves exchanges for at once; more are answered "busy" (Consul capped concurrent push-pulls at 128 for the same reason; ours are far smaller, so a few suffice).</summary>
    public int MaxConcurrentSyncs { get; init; } = 4;

    /// <summary>An exchange (either side) is forgotten this long after it began; late frames for it are dropped.</summary>
    public TimeSpan SyncTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Pause before the next exchange with the same peer when the last one was cut short by a bound (joins and healing after a partition).</summary>
    public TimeSpan SyncFollowUpDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Dead and left records are dropped this long after the state change. Until then they reject stale alive messages of the same incarnation. Revocations are kept forever.</summary>
    public TimeSpan DeadMemberRetention { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Bound on ping-reqs this node relays at once (each waits for an ack for at most one probe timeout).</summary>
    public int MaxPendingRelays { get; init; } = 256;

    /// <summary>memberlist <c>DefaultLANConfig</c>: the defaults above.</summary>
    public static GossipConfig Lan => new();

    /// <summary>memberlist <c>DefaultWANConfig</c>: slower probes, longer timeouts, for members across the internet.</summary>
    public static GossipConfig Wan => new()
    {
        ProbeInterval = TimeSpan.FromSeconds(5),
        ProbeTimeout = TimeSpan.FromSeconds(3),
        GossipInterval = TimeSpan.FromMilliseconds(500),
        GossipNodes = 4,
        GossipToTheDeadTime = TimeSpan.FromSeconds(60),
        SuspicionMult = 6,
        PushPullInterval = TimeSpan.FromSeconds(60),
    };

    /// <summary>memberlist <c>DefaultLocalConfig</c>: one host or one switch (tests, namespaces).</summary>
    public static GossipConfig Local => new()
    {
        ProbeTimeout = TimeSpan.FromMilliseconds(200),
        GossipInterval = TimeSpan.FromMilliseconds(100),
        GossipToTheDeadTime = TimeSpan.FromSeconds(15),
        RetransmitMult = 2,
        SuspicionMult = 3,
        PushPullInterval = TimeSpan.FromSeconds(15),
    };

    /// <summary>Times a broadcast is sent before it leaves the queue: RetransmitMult × ⌈log10(N+1)⌉.</summary>
    public int RetransmitLimit(int members) => RetransmitMult * (int)Math.Ceiling(Math.Log10(Math.Max(1, members) + 1.0));

    /// <summary>Suspicion timeout once k confirmations arrived: SuspicionMult × max(1, log10(N+1)) × ProbeInterval.</summary>
    public TimeSpan SuspicionMinTimeout(int members)
    {
        double nodeScale = Math.Max(1.0, Math.Log10(Math.Max(1, members) + 1.0));
        return TimeSpan.FromTicks((long)(SuspicionMult * nodeScale * ProbeInterval.Ticks));
    }

    /// <summary>Suspicion timeout with no confirmation yet: SuspicionMaxTimeoutMult × min.</summary>
    public TimeSpan SuspicionMaxTimeout(int members) => SuspicionMinTimeout(members) * SuspicionMaxTimeoutMult;

    /// <summary>Independent confirmations that drive the timeout down to min: SuspicionMult − 2, or 0 when fewer than that many other members could confirm.</summary>
    public int SuspicionConfirmations(int members)
    {
        int k = SuspicionMult - 2;
        return members - 2 < k ? 0 : Math.Max(0, k);
    }

    /// <summary>All problems, each naming the setting; empty when the configuration is usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{name} must be positive, got {value}");
            }
        }

        void AtLeast(int value, int min, string name)
        {
            if (value < min)
            {
                errors.Add($"{name} must be at least {min}, got {value}");
            }
        }

        Positive(ProbeInterval, nameof(ProbeInterval));
        Positive(ProbeTimeout, nameof(ProbeTimeout));
        Positive(GossipInterval, nameof(GossipInterval));
        Positive(PushPullInterval, nameof(PushPullInterval));
        Positive(SyncTimeout, nameof(SyncTimeout));
        Positive(SyncFollowUpDelay, nameof(SyncFollowUpDelay));
        Positive(DeadMemberRetention, nameof(DeadMemberRetention));
        if (GossipToTheDeadTime < TimeSpan.Zero)
        {
            errors.Add($"{nameof(GossipToTheDeadTime)} must not be negative, got {GossipToTheDeadTime}");
        }

        if (ProbeTimeout >= ProbeInterval && ProbeInterval > TimeSpan.Zero)
        {
            errors.Add($"{nameof(ProbeTimeout)} ({ProbeTimeout}) must be shorter than {nameof(ProbeInterval)} ({ProbeInterval}): indirect probes run in the rest of the interval");
        }

        AtLeast(IndirectChecks, 0, nameof(IndirectChecks));
        AtLeast(GossipNodes, 1, nameof(GossipNodes));
        AtLeast(RetransmitMult, 1, nameof(RetransmitMult));
        AtLeast(SuspicionMult, 1, nameof(SuspicionMult));
        AtLeast(SuspicionMaxTimeoutMult, 1, nameof(SuspicionMaxTimeoutMult));
        AtLeast(AwarenessMaxMultiplier, 1, nameof(AwarenessMaxMultiplier));
        AtLeast(MaxConcurrentSyncs, 1, nameof(MaxConcurrentSyncs));
        AtLeast(MaxPendingRelays, 1, nameof(MaxPendingRelays));
        if (MaxMessageSize is < 512 or > ushort.MaxValue)
        {
            errors.Add($"{nameof(MaxMessageSize)} must be within 512..65535, got {MaxMessageSize}");
        }

        int payloadLimit = MaxMessageSize - GossipFrame.RecordOverhead;
        if (MaxPayloadSize < 0 || MaxPayloadSize > payloadLimit)
        {
            errors.Add($"{nameof(MaxPayloadSize)} must be within 0..{payloadLimit} ({nameof(MaxMessageSize)} − {GossipFrame.RecordOverhead}) so one record fits a frame, got {MaxPayloadSize}");
        }

        if (MaxSyncBytesPerExchange < MaxMessageSize)
        {
            errors.Add($"{nameof(MaxSyncBytesPerExchange)} must be at least {nameof(MaxMessageSize)} ({MaxMessageSize}), got {MaxSyncBytesPerExchange}");
        }

        if (SyncBytesPerSecond < MaxMessageSize)
        {
            errors.Add($"{nameof(SyncBytesPerSecond)} must be at least {nameof(MaxMessageSize)} ({MaxMessageSize}), got {SyncBytesPerSecond}");
        }

        return errors;
    }
}
