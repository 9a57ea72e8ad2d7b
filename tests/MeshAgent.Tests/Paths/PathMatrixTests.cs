using MeshAgent.Engine.Paths;
using MeshAgent.Tests.Paths.Simulation;
using Xunit.Abstractions;

namespace MeshAgent.Tests.Paths;

/// <summary>
/// The lab's punch matrix (shared/lab/README.md, "Observed results"), replayed in the simulated
/// network with two real <see cref="PathManager"/>s exchanging encoded pings, pongs and
/// call-me-maybes. Site a is 20 ms from the core, site b 30 ms, the relay adds 15 ms: direct RTT
/// 100 ms, relayed 130 ms. Both agents send data every 20 ms from t = 0. Each case prints its
/// time to first packet (relay) and time to direct.
/// </summary>
public sealed class PathMatrixTests(ITestOutputHelper output)
{
    internal static readonly TimeSpan DataInterval = TimeSpan.FromMilliseconds(20);

    [Theory]
    [InlineData(SiteType.None, SiteType.Cone)]
    [InlineData(SiteType.Cone, SiteType.None)]
    [InlineData(SiteType.None, SiteType.None)]
    [InlineData(SiteType.Cone, SiteType.Cone)]
    [InlineData(SiteType.None, SiteType.Symmetric)]
    internal void Punchable_pairs_start_on_the_relay_at_once_and_go_direct_within_a_second(SiteType siteA, SiteType siteB)
    {
        PairRun run = PairRun.Start(seed: 1, siteA, siteB);
        run.Lab.Network.RunFor(TimeSpan.FromSeconds(10));
        output.WriteLine(run.Report($"{siteA} ↔ {siteB}"));

        Assert.NotNull(run.FirstPacketAToB);
        Assert.True(run.FirstPacketAToB < 0.2, $"first packet a→b after {run.FirstPacketAToB:F3} s: the relay should carry it at once (relayed one-way 65 ms)");
        Assert.True(run.FirstPacketBToA < 0.2, $"first packet b→a after {run.FirstPacketBToA:F3} s");
        Assert.NotNull(run.TimeToDirect);
        Assert.True(run.TimeToDirect < 1.0, $"direct after {run.TimeToDirect:F3} s; plain punching needs a few RTTs");
        Assert.True(run.A.Manager.IsDirect && run.B.Manager.IsDirect);
        Assert.Equal(0, run.A.MaxProbeSocketsOpen + run.B.MaxProbeSocketsOpen); // no hard-NAT probing needed
        Assert.Equal(1, run.A.Switches.Count(s => s.Path is { IsDirect: true })); // once direct, stays direct
        Assert.Equal(1, run.B.Switches.Count(s => s.Path is { IsDirect: true }));
    }

    [Fact]
    internal void Cone_to_cone_punches_through_the_call_me_maybe_when_one_side_does_not_know_the_other()
    {
        // b's copy of a's record has no endpoints yet: a's first pings die at b's NAT (b never sent to a),
        // a's call-me-maybe over the relay gives b a's candidates, b's pings pass a's NAT (a has sent to b),
        // and b's ping to a makes a ping back through b's now-open NAT.
        var lab = new PathLab(seed: 4);
        SimNode a = lab.Site("a", 1, SiteType.Cone, TimeSpan.FromMilliseconds(20));
        SimNode b = lab.Site("b", 2, SiteType.Cone, TimeSpan.FromMilliseconds(30));
        PairRun run = PairRun.Start(lab, a, b, bKnowsA: false);
        lab.Network.RunFor(TimeSpan.FromSeconds(10));
        output.WriteLine(run.Report("cone ↔ cone, b learns a only from the call-me-maybe"));

        Assert.True(b.Manager.Counters.CallMeMaybesReceived >= 1);
        Assert.True(b.Host.Nat!.InboundDropped > 0, "a's first pings should have died at b's NAT");
        Assert.NotNull(run.TimeToDirect);
        Assert.True(run.TimeToDirect < 0.5, $"direct after {run.TimeToDirect:F3} s: relay one-way 65 ms + two direct RTTs");
    }

    [Fact]
    internal void Symmetric_to_symmetric_stays_on_the_relay_and_backs_off()
    {
        PairRun run = PairRun.Start(seed: 2, SiteType.Symmetric, SiteType.Symmetric);
        run.Lab.Network.RunFor(TimeSpan.FromMinutes(5));
        output.WriteLine(run.Report("symmetric ↔ symmetric"));

        Assert.True(run.FirstPacketAToB < 0.2);
        Assert.Null(run.TimeToDirect);
        Assert.Equal(PathAddress.Relay("relay1"), run.A.Manager.CurrentPath);
        Assert.Equal(PathAddress.Relay("relay1"), run.B.Manager.CurrentPath);
        Assert.Equal(0, run.A.MaxProbeSocketsOpen + run.B.MaxProbeSocketsOpen); // two hard NATs: no birthday attempt
        Assert.Equal(0, run.A.DataWithoutPath + run.B.DataWithoutPath);

        // Backoff 5, 10, 20, 30, 30, …: 12 rounds in 300 s, not 60. Each round pings the peer's 2 candidates
        // (plus call-me-maybe-triggered rounds from the peer's own schedule).
        long rounds = run.A.Manager.Counters.DiscoveryRounds;
        output.WriteLine($"a: {rounds} discovery rounds, {run.A.PingsSent.Count} pings in 5 min");
        Assert.InRange(rounds, 11, 13);
        Assert.True(run.A.PingsSent.Count < 120, $"{run.A.PingsSent.Count} pings in 5 minutes: backoff is not working");
    }

    [Fact]
    internal void Cone_to_symmetric_goes_direct_by_birthday_probing()
    {
        var times = new List<double>();
        int direct = 0;
        const int runs = 20;
        for (int seed = 1; seed <= runs; seed++)
        {
            PairRun run = PairRun.Start(seed, SiteType.Cone, SiteType.Symmetric);
            run.Lab.Network.RunFor(TimeSpan.FromSeconds(30));
            if (seed <= 3)
            {
                output.WriteLine(run.Report($"cone ↔ symmetric (seed {seed})"));
                output.WriteLine($"  a (easy) sprayed {run.A.Manager.Counters.HardNatProbesSent} probes; b (hard) opened {run.B.MaxProbeSocketsOpen} sockets, {run.B.Host.ProbeSocketsOpen} still open");
            }

            Assert.True(run.FirstPacketAToB < 0.2);
            Assert.Equal(0, run.A.MaxProbeSocketsOpen); // the easy side opens none
            if (run.TimeToDirect is double t)
            {
                direct++;
                times.Add(t);
                Assert.Equal(PathKind.Direct, run.B.Manager.CurrentPath?.Kind);
                Assert.True(run.B.Host.ProbeSocketsOpen <= 1, "the hard side keeps only the winning probe socket");
                Assert.Equal(256, run.B.MaxProbeSocketsOpen);
            }
            else
            {
                Assert.Equal(0, run.B.Host.ProbeSocketsOpen); // a failed attempt closes all its sockets
            }
        }

        times.Sort();
        output.WriteLine($"cone ↔ symmetric: direct in {direct}/{runs} runs; time to direct min {times.First():F2} s, median {times[times.Count / 2]:F2} s, max {times.Last():F2} s");
        output.WriteLine($"expected success per attempt: {BirthdayMath.SuccessWithoutRepeats(256, 1000, 64512):P1} (plus the symmetric side's main-socket mapping)");

        // 98 % per attempt: P(≥ 17 of 20) > 0.999. A miss gets its second attempt 2 min later, beyond this run.
        Assert.True(direct >= 17, $"direct in only {direct} of {runs} runs");
        Assert.True(times[times.Count / 2] < 5.0, $"median time to direct {times[times.Count / 2]:F2} s");
    }

    [Fact]
    internal void Two_agents_behind_one_nat_go_direct_over_the_lan()
    {
        foreach (bool hairpin in new[] { false, true })
        {
            var lab = new PathLab(seed: 3);
            SimNode a = lab.Site("a", 1, SiteType.Cone, TimeSpan.FromMilliseconds(20));
            SimNode a2 = lab.SecondAgent(a, "a2", 11);
            a.Host.Nat!.Hairpin = hairpin;
            PairRun run = PairRun.Start(lab, a, a2);
            lab.Network.RunFor(TimeSpan.FromSeconds(70)); // past one upgrade round
            output.WriteLine(run.Report($"same LAN, hairpin {(hairpin ? "on" : "off")}"));

            Assert.True(run.TimeToDirect < 0.5);
            Assert.Equal(PathAddress.Direct(a2.Host.LocalEndpoint(0)), a.Manager.CurrentPath);
            Assert.Equal(PathAddress.Direct(a.Host.LocalEndpoint(0)), a2.Manager.CurrentPath);
            Assert.Equal(1, a.Switches.Count(s => s.Path is { IsDirect: true }));
        }
    }
}

/// <summary>Two nodes connected through a <see cref="PathLab"/>, sending data both ways from t = 0, and what to print about them.</summary>
internal sealed class PairRun
{
    private PairRun(PathLab lab, SimNode a, SimNode b)
    {
        Lab = lab;
        A = a;
        B = b;
        StartedAt = lab.Network.Now;
    }

    public PathLab Lab { get; }

    public SimNode A { get; }

    public SimNode B { get; }

    public long StartedAt { get; }

    public double? FirstPacketAToB => Since(B.FirstDataReceivedAt);

    public double? FirstPacketBToA => Since(A.FirstDataReceivedAt);

    /// <summary>When both sides were on a direct path (the later of the two first switches).</summary>
    public double? TimeToDirect => A.FirstDirectAt is long a && B.FirstDirectAt is long b ? Since(Math.Max(a, b)) : null;

    public static PairRun Start(int seed, SiteType siteA, SiteType siteB, PathConfig? config = null)
    {
        var lab = new PathLab(seed, config);
        SimNode a = lab.Site("a", 1, siteA, TimeSpan.FromMilliseconds(20));
        SimNode b = lab.Site("b", 2, siteB, TimeSpan.FromMilliseconds(30));
        return Start(lab, a, b);
    }

    public static PairRun Start(PathLab lab, SimNode a, SimNode b, IReadOnlyList<PathCandidate>? relays = null, bool bKnowsA = true)
    {
        var run = new PairRun(lab, a, b);
        lab.Connect(a, b, relays, bKnowsA);
        a.StartData(PathMatrixTests.DataInterval);
        b.StartData(PathMatrixTests.DataInterval);
        return run;
    }

    public string Report(string name) =>
        $"{name}: first packet a→b {Format(FirstPacketAToB)}, b→a {Format(FirstPacketBToA)}; direct a {Format(Since(A.FirstDirectAt))}, b {Format(Since(B.FirstDirectAt))}, both {Format(TimeToDirect)}; now a: {A.Manager.CurrentPath?.ToString() ?? "none"} (rtt {A.Manager.CurrentRtt?.TotalMilliseconds:F1} ms), b: {B.Manager.CurrentPath?.ToString() ?? "none"}";

    private double? Since(long? at) => at is long t ? PathLab.Seconds(t - StartedAt) : null;

    private static string Format(double? seconds) => seconds is double s ? $"{s:F3} s" : "never";
}
