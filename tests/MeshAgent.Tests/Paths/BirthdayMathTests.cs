using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Engine.Paths;
using Xunit.Abstractions;

namespace MeshAgent.Tests.Paths;

/// <summary>
/// The birthday-paradox numbers behind hard-NAT probing, checked three ways: against the values
/// quoted in Tailscale's "How NAT traversal works" (1,024 probes ≈ 98 %, 174 probes ≈ 50 %),
/// against brute-force enumeration on small port spaces, and by Monte Carlo with the engine's own
/// port sampler against randomly placed open ports.
/// </summary>
public sealed class BirthdayMathTests(ITestOutputHelper output)
{
    private const int UsablePorts = 65536 - 1024; // 1024–65535, Linux masquerade's random range

    [Fact]
    public void The_articles_numbers_hold()
    {
        // 1 − (1 − 256/65535)^k, the article's formula, repeats allowed.
        Assert.Equal(0.98004, BirthdayMath.SuccessWithRepeats(256, 1000, 65535), 5);
        Assert.Equal(0.98183, BirthdayMath.SuccessWithRepeats(256, 1024, 65535), 5);
        Assert.Equal(0.49390, BirthdayMath.SuccessWithRepeats(256, 174, 65535), 5);

        // What the engine does: 1,000 distinct ports among 64,512.
        double engine = BirthdayMath.SuccessWithoutRepeats(256, 1000, UsablePorts);
        Assert.Equal(0.98182, engine, 5);
        output.WriteLine($"256 open ports, 1,000 distinct probes over {UsablePorts} ports: P(success) = {engine:P3}; with repeats over 65,535: {BirthdayMath.SuccessWithRepeats(256, 1000, 65535):P3}");
        output.WriteLine($"probes for 50 %: {BirthdayMath.ProbesFor(0.5, 256, UsablePorts)}, 90 %: {BirthdayMath.ProbesFor(0.9, 256, UsablePorts)}, 98 %: {BirthdayMath.ProbesFor(0.98, 256, UsablePorts)}, 99.9 %: {BirthdayMath.ProbesFor(0.999, 256, UsablePorts)}");
        output.WriteLine($"with 64 probe sockets instead: {BirthdayMath.SuccessWithoutRepeats(64, 1000, UsablePorts):P1}; with 512: {BirthdayMath.SuccessWithoutRepeats(512, 1000, UsablePorts):P3} (lab: 4/6 and 6/6 runs)");

        Assert.InRange(BirthdayMath.ProbesFor(0.5, 256, UsablePorts), 170, 176);
        Assert.True(BirthdayMath.ProbesFor(0.98, 256, UsablePorts) <= 1000);
        Assert.Equal(-1, BirthdayMath.ProbesFor(0.5, 0, UsablePorts));
        Assert.Equal(0, BirthdayMath.ProbesFor(0.0, 256, UsablePorts));
    }

    [Fact]
    public void Without_repeats_matches_brute_force_enumeration_on_small_spaces()
    {
        // Every k-subset of P ports, against a fixed set of n open ones (which n ports does not matter by symmetry).
        for (int space = 1; space <= 10; space++)
        {
            for (int open = 0; open <= space; open++)
            {
                for (int probes = 0; probes <= space; probes++)
                {
                    int hits = 0;
                    int total = 0;
                    for (int mask = 0; mask < 1 << space; mask++)
                    {
                        if (System.Numerics.BitOperations.PopCount((uint)mask) != probes)
                        {
                            continue;
                        }

                        total++;
                        if ((mask & ((1 << open) - 1)) != 0)
                        {
                            hits++;
                        }
                    }

                    Assert.Equal(hits / (double)total, BirthdayMath.SuccessWithoutRepeats(open, probes, space), 12);
                }
            }
        }
    }

    [Fact]
    public void Distinct_probes_never_do_worse_than_probes_with_repeats()
    {
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(Gen.Choose(1, 5000)), Arb.From(Gen.Choose(0, 3000)), (int open, int probes) =>
            BirthdayMath.SuccessWithoutRepeats(open, probes, UsablePorts) >= BirthdayMath.SuccessWithRepeats(open, probes, UsablePorts) - 1e-12));
    }

    [Fact]
    public void The_engines_port_sampler_hits_256_random_open_ports_as_often_as_the_formula_says()
    {
        const int trials = 4000;
        var nat = new Random(12345); // where the hard NAT put its 256 mappings
        var prober = new Random(54321); // the engine's random source
        int successes = 0;
        long probesToHit = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            var open = new HashSet<int>();
            while (open.Count < 256)
            {
                open.Add(nat.Next(1024, 65536));
            }

            var sampler = new BirthdayPortSampler(prober, 1024);
            for (int i = 1; i <= 1000; i++)
            {
                if (open.Contains(sampler.Next()))
                {
                    successes++;
                    probesToHit += i;
                    break;
                }
            }
        }

        double expected = BirthdayMath.SuccessWithoutRepeats(256, 1000, UsablePorts);
        double observed = successes / (double)trials;
        double sigma = Math.Sqrt(expected * (1 - expected) / trials);
        output.WriteLine($"Monte Carlo, {trials} attempts: {observed:P2} succeeded (formula {expected:P2}, σ {sigma:P2}); mean probes to the first hit {probesToHit / (double)successes:F0} (≈ 200/s → {probesToHit / (double)successes / 200:F2} s)");
        Assert.InRange(observed, expected - 4 * sigma, expected + 4 * sigma);
    }

    [Fact]
    public void The_sampler_draws_every_port_of_its_range_once_and_then_refuses()
    {
        var sampler = new BirthdayPortSampler(new Random(1), 65000);
        var seen = new HashSet<int>();
        for (int i = 0; i < 536; i++)
        {
            Assert.True(seen.Add(sampler.Next()));
        }

        Assert.Equal(Enumerable.Range(65000, 536), seen.Order());
        Assert.Throws<InvalidOperationException>(() => sampler.Next());
    }
}
