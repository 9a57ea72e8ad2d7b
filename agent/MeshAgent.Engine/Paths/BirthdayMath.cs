namespace MeshAgent.Engine.Paths;

/// <summary>
/// The birthday-paradox arithmetic behind hard-NAT probing (Tailscale, "How NAT traversal works",
/// "The benefits of birthdays"; danderson/nat-birthday-paradox). The hard side holds n open
/// mappings at unknown ports among P; the easy side probes k ports at random. A probe that lands on
/// one of the n is delivered and answered.
/// </summary>
public static class BirthdayMath
{
    /// <summary>
    /// P(success) when the k probe ports are distinct (what <see cref="PathManager"/> sends):
    /// 1 − C(P − n, k) / C(P, k) = 1 − Π_{i&lt;k} (1 − n / (P − i)).
    /// n = 256, k = 1,000, P = 64,512 (ports 1024–65535): 0.98182.
    /// </summary>
    public static double SuccessWithoutRepeats(int openPorts, int probes, int portSpace)
    {
        Check(openPorts, probes, portSpace);
        if (probes > portSpace - openPorts)
        {
            return 1.0; // more probes than closed ports: one must hit
        }

        double miss = 1.0;
        for (int i = 0; i < probes; i++)
        {
            miss *= 1.0 - (double)openPorts / (portSpace - i);
        }

        return 1.0 - miss;
    }

    /// <summary>
    /// P(success) when each probe picks any port, repeats allowed: 1 − (1 − n/P)^k, the article's
    /// formula. n = 256, k = 1,000, P = 65,535: 0.98004; k = 1,024: 0.98183; k = 174: 0.494 (its "even odds").
    /// </summary>
    public static double SuccessWithRepeats(int openPorts, int probes, int portSpace)
    {
        Check(openPorts, probes, portSpace);
        return 1.0 - Math.Pow(1.0 - (double)openPorts / portSpace, probes);
    }

    /// <summary>The fewest distinct probes that reach <paramref name="probability"/>, or −1 if even probing every port would not (n = 0).</summary>
    public static int ProbesFor(double probability, int openPorts, int portSpace)
    {
        Check(openPorts, 0, portSpace);
        ArgumentOutOfRangeException.ThrowIfNegative(probability);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probability, 1.0);
        double miss = 1.0;
        for (int k = 0; k <= portSpace; k++)
        {
            if (1.0 - miss >= probability)
            {
                return k;
            }

            if (k >= portSpace - openPorts)
            {
                return openPorts > 0 ? k + 1 : -1;
            }

            miss *= 1.0 - (double)openPorts / (portSpace - k);
        }

        return -1;
    }

    private static void Check(int openPorts, int probes, int portSpace)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(portSpace, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(openPorts);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(openPorts, portSpace);
        ArgumentOutOfRangeException.ThrowIfNegative(probes);
    }
}

/// <summary>
/// Draws distinct ports uniformly from [lowest, 65535] with the injected random source (so a seeded
/// simulation replays). Rejection sampling against the ports drawn so far: with 1,000 of 64,512
/// drawn, a draw repeats with probability &lt; 1.6 %, so the expected cost stays ~1 draw.
/// </summary>
internal sealed class BirthdayPortSampler(Random random, int lowestPort)
{
    private readonly HashSet<int> _used = new();

    public int Drawn => _used.Count;

    public int SpaceSize => ushort.MaxValue - lowestPort + 1;

    /// <exception cref="InvalidOperationException">Every port of the range has been drawn.</exception>
    public ushort Next()
    {
        if (_used.Count >= SpaceSize)
        {
            throw new InvalidOperationException($"all {SpaceSize} ports from {lowestPort} have been drawn");
        }

        while (true)
        {
            int port = random.Next(lowestPort, ushort.MaxValue + 1);
            if (_used.Add(port))
            {
                return (ushort)port;
            }
        }
    }
}
