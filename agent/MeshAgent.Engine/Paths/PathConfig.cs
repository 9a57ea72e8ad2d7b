namespace MeshAgent.Engine.Paths;

/// <summary>
/// Path-selection timing, one options type with documented defaults (STYLE rule 14). Each default
/// names where it comes from: Tailscale's <c>wgengine/magicsock</c> constants (notes §2.5), NAT
/// mapping lifetimes, or the requirement it serves. Immutable; build variants with <c>with</c>;
/// <see cref="Validate"/> lists every problem by name.
/// <para>The timing contract the defaults give (and the simulation checks):</para>
/// <list type="bullet">
/// <item>An active session's direct path dies → the data plane is on the relay at most
/// <see cref="DirectPathTimeout"/> (2 s) after the last pong that made it back, i.e. ≤ 3 s after the
/// path died for any one-way delay up to 0.5 s, with 0.5 s left for a busy control loop (the lab saw
/// 0.5 s of it on a loaded 2-core machine at 2.5 s).</item>
/// <item>Up to three heartbeat pings (at +1 s, +1.5 s, +2 s after the last answered one) fit in that
/// window, so random loss rarely drops a live path: with 1 % loss each way the chance that all
/// three round trips fail is (1 − 0.99²)³ ≈ 8 × 10⁻⁶ per second of activity.</item>
/// <item>No direct path has gone unprobed for more than <see cref="IdleKeepaliveInterval"/> (20 s), idle or not,
/// so a NAT mapping with a 30 s idle timeout never expires under it.</item>
/// </list>
/// </summary>
public sealed record PathConfig
{
    /// <summary>
    /// While the session is active, the current direct path is pinged this often. Tailscale
    /// heartbeats every 3 s and trusts a path for 6.5 s (two heartbeats + 0.5 s); scaled to the 3 s
    /// fallback requirement we trust a path for 2 s: a heartbeat at 1 s, its retry at 1.5 s, and one more at 2 s.
    /// Cost: one ~60-byte ping and pong per second per active peer.
    /// </summary>
    public TimeSpan ActiveHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A heartbeat unanswered for this long is repeated at once (until the path times out), so a single lost datagram does not cost a whole interval.</summary>
    public TimeSpan HeartbeatRetryInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// A direct path is trusted for this long after its last pong (Tailscale's
    /// <c>trustUDPAddrDuration</c>, 6.5 s there); when it lapses the data plane moves to the relay.
    /// 2 s keeps relay fallback within 3 s of the path dying, with room for scheduling delays.
    /// </summary>
    public TimeSpan DirectPathTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Heartbeat interval of an idle session's direct path, kept up so its NAT mappings live: below
    /// the 25 s WireGuard recommends for persistent keepalives (wg(8)) and the 30 s UDP idle
    /// timeout of Linux conntrack (<c>nf_conntrack_udp_timeout</c>, what nftables masquerade uses,
    /// and a common home-router value) with room for retries. An idle path is trusted for this plus
    /// <see cref="DirectPathTimeout"/>; when traffic resumes the path must answer within
    /// <see cref="DirectPathTimeout"/> again.
    /// </summary>
    public TimeSpan IdleKeepaliveInterval { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>A session with no data either way for this long is idle: no discovery rounds, slow heartbeats. Tailscale's <c>sessionActiveTimeout</c>: 45 s.</summary>
    public TimeSpan SessionActiveTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>
    /// While on the relay, all candidates are probed (and a call-me-maybe sent) after this long,
    /// doubling each unanswered round up to <see cref="MaxDiscoveryInterval"/>. 5 s is Tailscale's
    /// disco ping interval; the first round is at once (start, new candidates, path death).
    /// </summary>
    public TimeSpan DiscoveryInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Cap of the discovery backoff: a healed network is found again within 30 s (plus one RTT).</summary>
    public TimeSpan MaxDiscoveryInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>On a direct path slower than <see cref="GoodEnoughLatency"/>, the other candidates are probed this often for a better one. Tailscale's <c>upgradeUDPDirectInterval</c>: 60 s.</summary>
    public TimeSpan UpgradeInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A direct path this fast is not worth improving. Tailscale's <c>goodEnoughLatency</c>: 5 ms.</summary>
    public TimeSpan GoodEnoughLatency { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>A pong later than this is ignored (its ping forgotten). Tailscale's <c>pingTimeoutDuration</c>: 5 s.</summary>
    public TimeSpan PingTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Hysteresis: another direct path replaces the current one only if its minimum RTT is below
    /// this fraction of the current one's (and it was confirmed by two pongs). Minimum RTTs over
    /// <see cref="RttSamples"/> pongs cancel queueing jitter; the 2/3 margin keeps two similar paths
    /// from trading places. LAN candidates win ties instead (no NAT state, no paid egress). A
    /// direct path always replaces a relay.
    /// </summary>
    public double SwitchRttRatio { get; init; } = 2.0 / 3.0;

    /// <summary>Pongs per candidate kept for its minimum and smoothed RTT.</summary>
    public int RttSamples { get; init; } = 8;

    /// <summary>A candidate learned from a received probe is forgotten after this long without probes from it (Tailscale drops such endpoints after <c>sessionActiveTimeout</c>, 45 s).</summary>
    public TimeSpan PeerReflexiveLifetime { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>Probe rounds triggered by the peer's call-me-maybes are at least this far apart; more frequent ones update candidates only.</summary>
    public TimeSpan CallMeMaybeMinSpacing { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Pings sent back in answer to received pings (which punch our side of the NAT), per second; bursts up to twice this. Bounds what a peer can make us send.</summary>
    public int TriggeredPingsPerSecond { get; init; } = 10;

    /// <summary>Direct candidates kept per peer (gossip, call-me-maybe and peer-reflexive together); more are ignored and counted.</summary>
    public int MaxCandidates { get; init; } = 32;

    /// <summary>Hard-NAT probing starts this long after a plain probe round that found no direct path (plain punching answers within one RTT when it works; lab: 0–0.07 s).</summary>
    public TimeSpan HardNatStartDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Sockets the hard side opens (Tailscale's article: 256). With <see cref="HardNatProbes"/> random
    /// probes from the easy side, success = 1 − Π (1 − n/(P − i)) over i &lt; probes (ports drawn
    /// without repeats from P = 64,512 usable ports) ≈ 98.2 %; see <see cref="BirthdayMath"/>.
    /// </summary>
    public int HardNatPorts { get; init; } = 256;

    /// <summary>
    /// Probes the easy side sends to random ports of the hard side's address (the article's "1024 probes ≈ 98 %";
    /// 1,000 gives 98.2 % without repeats, 2,000 gives 99.96 %: in the lab one attempt in ~15 failed at 1,000, and a
    /// failed attempt costs a retry interval, far beyond the 20 s the issue allows).
    /// </summary>
    public int HardNatProbes { get; init; } = 2000;

    /// <summary>
    /// Pace of the easy side's probes. 400/s: 2,000 probes take 5 s, well inside the 30 s that the
    /// hard side's 256 fresh (unanswered) mappings live; the expected first hit comes after
    /// P/n ≈ 252 probes, ~0.6 s; ~100-byte datagrams make 40 kB/s (320 kbit/s) for at most 5 s,
    /// tolerable on a 1 Mbit/s uplink. The article quotes 100/s as a worst case
    /// for a full scan; the lab punched at 500/s (2 ms spacing).
    /// </summary>
    public int HardNatProbesPerSecond { get; init; } = 400;

    /// <summary>Lowest port the hard side's NAT hands out; probes go to [this, 65535]. Linux masquerade's random range starts at 1024.</summary>
    public int HardNatLowestPort { get; init; } = 1024;

    /// <summary>A hard-NAT attempt gives up (closing its sockets) this long after it began: the spray's 5 s plus relay delay and margin.</summary>
    public TimeSpan HardNatAttemptDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The hard side re-sends from every probe socket this often during an attempt, so its mappings outlive a slow start of the spray.</summary>
    public TimeSpan HardNatRefreshInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>After a failed attempt the next one waits this long (an attempt costs 256 sockets and 2,000 probes, ~5 s of 40 kB/s).</summary>
    public TimeSpan HardNatRetryInterval { get; init; } = TimeSpan.FromSeconds(30);

    public static PathConfig Default => new();

    /// <summary>Every problem with this configuration, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Positive(string name, TimeSpan value)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{name} must be positive, got {value}");
            }
        }

        Positive(nameof(ActiveHeartbeatInterval), ActiveHeartbeatInterval);
        Positive(nameof(HeartbeatRetryInterval), HeartbeatRetryInterval);
        Positive(nameof(DirectPathTimeout), DirectPathTimeout);
        Positive(nameof(IdleKeepaliveInterval), IdleKeepaliveInterval);
        Positive(nameof(SessionActiveTimeout), SessionActiveTimeout);
        Positive(nameof(DiscoveryInterval), DiscoveryInterval);
        Positive(nameof(UpgradeInterval), UpgradeInterval);
        Positive(nameof(PingTimeout), PingTimeout);
        Positive(nameof(PeerReflexiveLifetime), PeerReflexiveLifetime);
        Positive(nameof(CallMeMaybeMinSpacing), CallMeMaybeMinSpacing);
        Positive(nameof(HardNatStartDelay), HardNatStartDelay);
        Positive(nameof(HardNatAttemptDuration), HardNatAttemptDuration);
        Positive(nameof(HardNatRefreshInterval), HardNatRefreshInterval);
        Positive(nameof(HardNatRetryInterval), HardNatRetryInterval);
        if (GoodEnoughLatency < TimeSpan.Zero)
        {
            errors.Add($"{nameof(GoodEnoughLatency)} must not be negative, got {GoodEnoughLatency}");
        }

        if (DirectPathTimeout <= ActiveHeartbeatInterval + HeartbeatRetryInterval)
        {
            errors.Add($"{nameof(DirectPathTimeout)} ({DirectPathTimeout}) must exceed {nameof(ActiveHeartbeatInterval)} + {nameof(HeartbeatRetryInterval)} ({ActiveHeartbeatInterval + HeartbeatRetryInterval}), or one lost heartbeat drops a live path");
        }

        if (IdleKeepaliveInterval < ActiveHeartbeatInterval)
        {
            errors.Add($"{nameof(IdleKeepaliveInterval)} ({IdleKeepaliveInterval}) must not be shorter than {nameof(ActiveHeartbeatInterval)} ({ActiveHeartbeatInterval})");
        }

        if (IdleKeepaliveInterval > TimeSpan.FromSeconds(25))
        {
            errors.Add($"{nameof(IdleKeepaliveInterval)} ({IdleKeepaliveInterval}) must be at most 25 s: NAT mappings commonly expire after 30 s idle, and the path would die between keepalives");
        }

        if (MaxDiscoveryInterval < DiscoveryInterval)
        {
            errors.Add($"{nameof(MaxDiscoveryInterval)} ({MaxDiscoveryInterval}) must not be shorter than {nameof(DiscoveryInterval)} ({DiscoveryInterval})");
        }

        if (SwitchRttRatio is <= 0 or > 1 || double.IsNaN(SwitchRttRatio))
        {
            errors.Add($"{nameof(SwitchRttRatio)} must be in (0, 1], got {SwitchRttRatio}");
        }

        if (RttSamples is < 1 or > 64)
        {
            errors.Add($"{nameof(RttSamples)} must be in 1..64, got {RttSamples}");
        }

        if (TriggeredPingsPerSecond < 1)
        {
            errors.Add($"{nameof(TriggeredPingsPerSecond)} must be at least 1, got {TriggeredPingsPerSecond}");
        }

        if (MaxCandidates is < 1 or > 1024)
        {
            errors.Add($"{nameof(MaxCandidates)} must be in 1..1024, got {MaxCandidates}");
        }

        if (HardNatPorts is < 0 or > 4096)
        {
            errors.Add($"{nameof(HardNatPorts)} must be in 0..4096 (0 disables hard-NAT probing), got {HardNatPorts}");
        }

        if (HardNatLowestPort is < 1 or > ushort.MaxValue)
        {
            errors.Add($"{nameof(HardNatLowestPort)} must be in 1..65535, got {HardNatLowestPort}");
        }
        else if (HardNatProbes < 0 || HardNatProbes > ushort.MaxValue - HardNatLowestPort + 1)
        {
            errors.Add($"{nameof(HardNatProbes)} must be in 0..{ushort.MaxValue - HardNatLowestPort + 1} (distinct ports from {HardNatLowestPort}), got {HardNatProbes}");
        }

        if (HardNatProbesPerSecond < 1)
        {
            errors.Add($"{nameof(HardNatProbesPerSecond)} must be at least 1, got {HardNatProbesPerSecond}");
        }

        return errors;
    }
}
