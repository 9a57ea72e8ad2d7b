namespace MeshAgent.Engine.Membership;

/// <summary>Why a received frame or part was not used. Counted, never logged per message (STYLE rule 12).</summary>
public enum GossipDropReason
{
    /// <summary>Wrong version byte, truncated part, or a body of the wrong size for its type.</summary>
    Malformed,
    /// <summary>A part type this version does not know (skipped by length).</summary>
    UnknownPart,
    /// <summary>A frame from a member we know to be revoked.</summary>
    RevokedSender,
    /// <summary>A payload or revocation proof larger than <see cref="GossipConfig.MaxPayloadSize"/>.</summary>
    TooLarge,
    /// <summary>The payload validation hook said no.</summary>
    InvalidPayload,
    /// <summary>The revocation validation hook said no.</summary>
    InvalidRevocation,
    /// <summary>An alive without its payload (a refutation) about a member we do not know.</summary>
    PayloadUnknown,
    /// <summary>An alive with a higher incarnation but an older payload version than we hold.</summary>
    StalePayload,
    /// <summary>A sync step for an exchange we are not part of (late, or forged).</summary>
    UnknownExchange,
    /// <summary>A ping-req beyond <see cref="GossipConfig.MaxPendingRelays"/>.</summary>
    RelayLimit,
}

/// <summary>Event and drop counters of one engine. Single-threaded like the engine; read them from its thread.</summary>
public sealed class GossipCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<GossipDropReason>().Length];

    public long this[GossipDropReason reason] => _drops[(int)reason];

    public long FramesSent { get; internal set; }

    public long BytesSent { get; internal set; }

    public long FramesReceived { get; internal set; }

    public long BytesReceived { get; internal set; }

    public long ProbesSent { get; internal set; }

    public long IndirectProbes { get; internal set; }

    public long ProbesFailed { get; internal set; }

    public long NacksReceived { get; internal set; }

    public long Suspicions { get; internal set; }

    public long Refutations { get; internal set; }

    public long DeathsDeclared { get; internal set; }

    public long SyncExchangesStarted { get; internal set; }

    public long SyncExchangesServed { get; internal set; }

    public long SyncBusy { get; internal set; }

    public long SyncTimeouts { get; internal set; }

    public long SyncRecordsApplied { get; internal set; }

    public long SyncBytesSent { get; internal set; }

    internal void Drop(GossipDropReason reason) => _drops[(int)reason]++;
}
