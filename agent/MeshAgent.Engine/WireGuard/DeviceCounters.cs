namespace MeshAgent.Engine.WireGuard;

/// <summary>Why an incoming or outgoing packet was dropped. Each reason is a counter, never a log line (STYLE rule 12).</summary>
public enum DropReason
{
    /// <summary>Not a WireGuard message of a known type and size.</summary>
    Malformed,
    /// <summary>mac1 did not verify: not for us, or the sender has the wrong public key for us.</summary>
    BadMac1,
    /// <summary>Under load without a valid mac2: answered with a cookie reply instead.</summary>
    CookieRequired,
    /// <summary>Under load, the source sent initiations faster than 20/s (burst 5).</summary>
    RateLimited,
    /// <summary>The Noise message did not decrypt or authenticate.</summary>
    HandshakeInvalid,
    /// <summary>An authentic initiation from a static key that is not one of our peers.</summary>
    UnknownPeer,
    /// <summary>An initiation whose TAI64N timestamp is not newer than the last one (replay).</summary>
    ReplayedTimestamp,
    /// <summary>A second initiation within 20 ms of the last (handshake flood).</summary>
    HandshakeFlood,
    /// <summary>A receiver index we did not issue, or that names the wrong kind of state.</summary>
    UnknownIndex,
    /// <summary>A transport packet that did not authenticate, or whose counter was replayed or too old.</summary>
    DecryptFailed,
    /// <summary>A transport packet for a keypair older than REJECT_AFTER_TIME.</summary>
    ExpiredKeypair,
    /// <summary>A cookie reply that did not decrypt.</summary>
    BadCookieReply,
    /// <summary>More than 128 packets waited for a session; the oldest went.</summary>
    StagedQueueFull,
    /// <summary>A packet for a peer with no known endpoint.</summary>
    NoEndpoint,
    /// <summary>A plaintext too large for the MTU or the buffer.</summary>
    TooLarge,
}

/// <summary>Lock-free drop and event counters of a device.</summary>
public sealed class DeviceCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];
    private long _handshakeInitiationsSent;
    private long _handshakeResponsesSent;
    private long _handshakesCompleted;
    private long _cookieRepliesSent;

    public long this[DropReason reason] => Interlocked.Read(ref _drops[(int)reason]);

    public long HandshakeInitiationsSent => Interlocked.Read(ref _handshakeInitiationsSent);

    public long HandshakeResponsesSent => Interlocked.Read(ref _handshakeResponsesSent);

    public long HandshakesCompleted => Interlocked.Read(ref _handshakesCompleted);

    public long CookieRepliesSent => Interlocked.Read(ref _cookieRepliesSent);

    internal void Increment(DropReason reason) => Interlocked.Increment(ref _drops[(int)reason]);

    internal void InitiationSent() => Interlocked.Increment(ref _handshakeInitiationsSent);

    internal void ResponseSent() => Interlocked.Increment(ref _handshakeResponsesSent);

    internal void HandshakeCompleted() => Interlocked.Increment(ref _handshakesCompleted);

    internal void CookieReplySent() => Interlocked.Increment(ref _cookieRepliesSent);
}
