namespace MeshAgent.Core.Net;

/// <summary>
/// A token bucket for one client and one quantity (packets, bytes, notices): refills at a rate, holds at most a
/// burst. A mutable struct kept inside its owner (a relay session, a peer-relay source) and used under the owner's
/// lock or thread, so it costs no allocation and no lock of its own. (TokenBucketRateLimiter is a per-source-address
/// table with WireGuard's fixed handshake constants; this is the smaller per-client piece for traffic.)
/// </summary>
public struct TokenBucket
{
    private double _tokens;
    private long _last;

    /// <summary>A bucket that starts full.</summary>
    public static TokenBucket Full(double burst, long now) => new() { _tokens = burst, _last = now };

    /// <summary>Takes <paramref name="amount"/> if available; a refused take costs nothing.</summary>
    /// <param name="rate">Tokens added per second.</param>
    /// <param name="burst">Most tokens the bucket holds.</param>
    /// <param name="now">Monotonic timestamp (<see cref="TimeProvider.GetTimestamp"/>).</param>
    /// <param name="frequency"><see cref="TimeProvider.TimestampFrequency"/>.</param>
    public bool TryTake(double amount, double rate, double burst, long now, long frequency)
    {
        if (now > _last)
        {
            _tokens = Math.Min(burst, _tokens + ((now - _last) * rate / frequency));
            _last = now;
        }

        if (_tokens < amount)
        {
            return false;
        }

        _tokens -= amount;
        return true;
    }
}
