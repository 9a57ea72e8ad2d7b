namespace MeshAgent.Engine.Paths;

/// <summary>
/// What a <see cref="PathManager"/> knows about one direct candidate: where it was learned, when it
/// was last probed and answered, and its recent RTTs. Times are monotonic ticks (100 ns).
/// </summary>
internal sealed class CandidateState
{
    /// <summary>"Never": far enough in the past that every age comparison treats it as stale, without overflow.</summary>
    public const long Never = long.MinValue / 4;

    private readonly long[] _samples;
    private int _next;

    public CandidateState(PathAddress address, int rttSamples)
    {
        Address = address;
        _samples = new long[rttSamples];
    }

    public PathAddress Address { get; }

    /// <summary>Kind given by the peer's record (gossip or mDNS), 0 if absent there.</summary>
    public PathCandidateKind GossipKind { get; set; }

    /// <summary>Kind given by the peer's latest call-me-maybe, 0 if absent there.</summary>
    public PathCandidateKind AnnouncedKind { get; set; }

    /// <summary>Learned from a ping, a pong or data that came from here; kept until <see cref="LastHeardAt"/> is older than the peer-reflexive lifetime.</summary>
    public bool Learned { get; set; }

    public long LastHeardAt { get; set; } = Never;

    public long LastPingAt { get; set; } = Never;

    public long LastPongAt { get; set; } = Never;

    /// <summary>The most trusted source wins: Local &lt; Reflexive &lt; Mapped &lt; PeerReflexive (a LAN address stays a LAN address however else it was heard of).</summary>
    public PathCandidateKind Kind
    {
        get
        {
            PathCandidateKind kind = Learned ? PathCandidateKind.PeerReflexive : 0;
            if (GossipKind != 0 && (kind == 0 || GossipKind < kind))
            {
                kind = GossipKind;
            }

            if (AnnouncedKind != 0 && (kind == 0 || AnnouncedKind < kind))
            {
                kind = AnnouncedKind;
            }

            return kind;
        }
    }

    public bool HasSource => GossipKind != 0 || AnnouncedKind != 0 || Learned;

    /// <summary>Pongs counted so far (not capped by the window).</summary>
    public int SampleCount { get; private set; }

    /// <summary>Smallest RTT among the last window of pongs: the path's propagation delay with queueing jitter filtered out.</summary>
    public long MinRtt { get; private set; }

    /// <summary>RFC 6298 smoothed RTT (α = 1/8): what status output shows.</summary>
    public long SmoothedRtt { get; private set; }

    public void AddSample(long rtt)
    {
        rtt = Math.Max(rtt, 0);
        _samples[_next] = rtt;
        _next = (_next + 1) % _samples.Length;
        SmoothedRtt = SampleCount == 0 ? rtt : SmoothedRtt + (rtt - SmoothedRtt) / 8;
        SampleCount++;
        int filled = Math.Min(SampleCount, _samples.Length);
        long min = long.MaxValue;
        for (int i = 0; i < filled; i++)
        {
            min = Math.Min(min, _samples[i]);
        }

        MinRtt = min;
    }

    /// <summary>Answered by a pong within <paramref name="window"/> before <paramref name="now"/>.</summary>
    public bool ConfirmedWithin(long now, long window) => now - LastPongAt < window;
}

/// <summary>The hysteresis rule between two direct paths (see <see cref="PathConfig.SwitchRttRatio"/>). A pure function, so a table test can pin it down.</summary>
internal static class PathPreference
{
    /// <summary>
    /// Does <paramref name="candidate"/> deserve to replace <paramref name="current"/>? Only on
    /// measured RTTs: a LAN candidate when its minimum RTT is no worse (LAN ties win); any other when
    /// its minimum RTT is below <paramref name="ratio"/> × the current one's. The rule is
    /// asymmetric on purpose: no pair of paths satisfies it both ways, so it cannot flap.
    /// </summary>
    public static bool IsBetter(PathCandidateKind candidateKind, long candidateMinRtt, PathCandidateKind currentKind, long currentMinRtt, double ratio)
    {
        if (candidateKind == PathCandidateKind.Local && currentKind != PathCandidateKind.Local)
        {
            return candidateMinRtt <= currentMinRtt;
        }

        return candidateMinRtt < currentMinRtt * ratio;
    }
}
