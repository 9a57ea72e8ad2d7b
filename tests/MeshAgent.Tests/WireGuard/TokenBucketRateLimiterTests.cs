using System.Net;
using MeshAgent.Core.WireGuard;
using MeshAgent.Tests.Support;
using Xunit;

namespace MeshAgent.Tests.WireGuard;

public sealed class TokenBucketRateLimiterTests
{
    private static readonly byte[] SourceA = [192, 0, 2, 1];
    private static readonly byte[] SourceB = [198, 51, 100, 7];

    [Fact]
    public void A_new_source_gets_a_burst_of_five_then_is_refused()
    {
        var limiter = new TokenBucketRateLimiter(new ManualTimeProvider());
        for (int i = 0; i < TokenBucketRateLimiter.PacketsBurstable; i++)
        {
            Assert.True(limiter.Allow(SourceA), $"burst packet {i}");
        }

        Assert.False(limiter.Allow(SourceA));
        Assert.False(limiter.Allow(SourceA));
    }

    [Fact]
    public void Tokens_refill_at_one_packet_per_50_ms()
    {
        var time = new ManualTimeProvider();
        var limiter = new TokenBucketRateLimiter(time);
        Exhaust(limiter, SourceA);

        time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.False(limiter.Allow(SourceA)); // a refused packet costs nothing...
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(limiter.Allow(SourceA));  // ...so 49 + 1 ms buy exactly one packet
        Assert.False(limiter.Allow(SourceA));
    }

    [Fact]
    public void Sustained_rate_is_20_per_second_plus_the_burst()
    {
        var time = new ManualTimeProvider();
        var limiter = new TokenBucketRateLimiter(time);
        int allowed = 0;
        for (int ms = 0; ms < 10_000; ms++)
        {
            allowed += limiter.Allow(SourceA) ? 1 : 0;
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        // 5 up front, then one per 50 ms of the 10 s (the very last one may fall outside).
        int expected = TokenBucketRateLimiter.PacketsBurstable + 10 * TokenBucketRateLimiter.PacketsPerSecond;
        Assert.InRange(allowed, expected - 1, expected);
    }

    [Fact]
    public void The_bucket_never_holds_more_than_the_burst()
    {
        var time = new ManualTimeProvider();
        var limiter = new TokenBucketRateLimiter(time);
        Assert.True(limiter.Allow(SourceA));
        time.Advance(TimeSpan.FromMilliseconds(900)); // long idle, but under the 1 s garbage-collection age
        Assert.Equal(TokenBucketRateLimiter.PacketsBurstable, Exhaust(limiter, SourceA));
    }

    [Fact]
    public void Sources_have_independent_buckets()
    {
        var limiter = new TokenBucketRateLimiter(new ManualTimeProvider());
        Exhaust(limiter, SourceA);
        Assert.True(limiter.Allow(SourceB));
        Assert.False(limiter.Allow(SourceA));
    }

    [Fact]
    public void IPv6_sources_share_a_bucket_per_64()
    {
        var limiter = new TokenBucketRateLimiter(new ManualTimeProvider());
        Exhaust(limiter, IPAddress.Parse("2001:db8:1:2::1").GetAddressBytes());
        Assert.False(limiter.Allow(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:fffe")));
        Assert.True(limiter.Allow(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal(2, limiter.Count);
    }

    [Fact]
    public void IPv4_mapped_IPv6_is_the_same_source_as_IPv4()
    {
        var limiter = new TokenBucketRateLimiter(new ManualTimeProvider());
        Exhaust(limiter, SourceA);
        Assert.False(limiter.Allow(IPAddress.Parse("::ffff:192.0.2.1")));
        // An IPv6 /64 whose bits equal an IPv4 key is still a different source.
        Assert.True(limiter.Allow(IPAddress.Parse("0:0:c000:201::1"))); // /64 prefix 0x00000000c0000201
    }

    [Fact]
    public void Idle_sources_are_forgotten_after_one_second()
    {
        var time = new ManualTimeProvider();
        var limiter = new TokenBucketRateLimiter(time);
        Exhaust(limiter, SourceA);
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(limiter.Allow(SourceB));
        Assert.Equal(2, limiter.Count);

        time.Advance(TimeSpan.FromMilliseconds(500)); // A idle 1 s, B idle 0.5 s
        limiter.CollectGarbage();
        Assert.Equal(1, limiter.Count);

        // The lazy sweep from Allow runs at most once per second: B (idle 1.5 s) survives until then.
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(limiter.Allow(SourceA));
        Assert.Equal(2, limiter.Count);
        time.Advance(TimeSpan.FromMilliseconds(500)); // 1 s since the last sweep: this call sweeps B
        Assert.True(limiter.Allow(SourceA));
        Assert.Equal(1, limiter.Count);
    }

    [Fact]
    public void A_full_table_refuses_new_sources_but_serves_known_ones()
    {
        var time = new ManualTimeProvider();
        var limiter = new TokenBucketRateLimiter(time, maxEntries: 3);
        for (byte i = 1; i <= 3; i++)
        {
            Assert.True(limiter.Allow([10, 0, 0, i]));
        }

        Assert.False(limiter.Allow([10, 0, 0, 4]));
        Assert.Equal(3, limiter.Count);
        Assert.True(limiter.Allow([10, 0, 0, 1]));

        time.Advance(TimeSpan.FromSeconds(1)); // all idle: the next call sweeps them and makes room
        Assert.True(limiter.Allow([10, 0, 0, 4]));
        Assert.Equal(1, limiter.Count);
    }

    [Fact]
    public void Concurrent_callers_share_one_burst_exactly()
    {
        var limiter = new TokenBucketRateLimiter(new ManualTimeProvider()); // frozen clock: no refill
        int allowed = 0;
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                if (limiter.Allow(SourceA))
                {
                    Interlocked.Increment(ref allowed);
                }
            }
        });

        Assert.Equal(TokenBucketRateLimiter.PacketsBurstable, allowed);
    }

    [Fact]
    public void Addresses_of_other_lengths_are_a_caller_bug()
    {
        var limiter = new TokenBucketRateLimiter(new ManualTimeProvider());
        var error = Assert.Throws<ArgumentException>(() => limiter.Allow(new byte[5]));
        Assert.Contains("5", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucketRateLimiter(TimeProvider.System, maxEntries: 0));
    }

    private static int Exhaust(TokenBucketRateLimiter limiter, byte[] source)
    {
        int allowed = 0;
        while (limiter.Allow(source))
        {
            allowed++;
            Assert.True(allowed <= 100, "bucket never ran dry");
        }

        return allowed;
    }
}
