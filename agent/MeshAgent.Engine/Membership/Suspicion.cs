namespace MeshAgent.Engine.Membership;

/// <summary>
/// Lifeguard's dynamic suspicion timeout (Lifeguard §4.2 "LHA-Suspicion"; memberlist
/// suspicion.go): a suspicion starts with the long timeout <c>max</c> and shrinks towards
/// <c>min</c> as independent members confirm it, on a log scale:
/// <code>timeout(n) = max − (max − min) × log(n + 1) / log(k + 1),  never below min</code>
/// where n counts distinct confirming members beyond the first accuser. A member wrongly
/// suspected by one lossy prober gets the long timeout to refute; a member that really failed is
/// confirmed by several probers and declared dead after about <c>min</c>.
/// </summary>
internal sealed class Suspicion
{
    private readonly List<MemberId> _accusers;
    private readonly int _wanted;
    private readonly long _start;
    private readonly long _min;
    private readonly long _max;

    /// <param name="from">The first accuser; later messages from it are not confirmations (our own suspicion gossiped back to us must not count).</param>
    /// <param name="wanted">k: confirmations that bring the timeout to min; 0 means min from the start.</param>
    public Suspicion(MemberId from, int wanted, long startTicks, long minTicks, long maxTicks)
    {
        _accusers = new List<MemberId>(wanted + 1) { from };
        _wanted = wanted;
        _start = startTicks;
        _min = minTicks;
        _max = maxTicks;
    }

    public int Confirmations { get; private set; }

    /// <summary>When the member is declared dead unless it refutes.</summary>
    public long Deadline => _start + Timeout(Confirmations, _wanted, _min, _max);

    /// <summary>Counts <paramref name="from"/> once; true when that shortened the timeout (the caller re-broadcasts then, so others see the confirmation too).</summary>
    public bool Confirm(MemberId from)
    {
        if (Confirmations >= _wanted || _accusers.Contains(from))
        {
            return false;
        }

        _accusers.Add(from);
        Confirmations++;
        return true;
    }

    /// <summary>The total timeout after <paramref name="confirmations"/> confirmations, in ticks, rounded down to a millisecond as memberlist does.</summary>
    public static long Timeout(int confirmations, int wanted, long minTicks, long maxTicks)
    {
        if (wanted < 1)
        {
            return minTicks;
        }

        double fraction = Math.Log(confirmations + 1.0) / Math.Log(wanted + 1.0);
        double raw = maxTicks - (fraction * (maxTicks - minTicks));
        long timeout = (long)Math.Floor(raw / TimeSpan.TicksPerMillisecond) * TimeSpan.TicksPerMillisecond;
        return Math.Max(timeout, minTicks);
    }
}
