using MeshAgent.Engine.Membership;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Membership;

public sealed class GossipConfigTests
{
    [Fact]
    public void Lan_preset_has_memberlist_numbers()
    {
        GossipConfig lan = GossipConfig.Lan;
        Assert.Equal(TimeSpan.FromSeconds(1), lan.ProbeInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(500), lan.ProbeTimeout);
        Assert.Equal(3, lan.IndirectChecks);
        Assert.Equal(TimeSpan.FromMilliseconds(200), lan.GossipInterval);
        Assert.Equal(3, lan.GossipNodes);
        Assert.Equal(4, lan.RetransmitMult);
        Assert.Equal(4, lan.SuspicionMult);
        Assert.Equal(6, lan.SuspicionMaxTimeoutMult);
        Assert.Equal(8, lan.AwarenessMaxMultiplier);
        Assert.Equal(TimeSpan.FromSeconds(30), lan.PushPullInterval);
        Assert.Empty(lan.Validate());
        Assert.Empty(GossipConfig.Wan.Validate());
        Assert.Empty(GossipConfig.Local.Validate());
    }

    [Theory]
    [InlineData(1, 4, 4.0, 2)]
    [InlineData(4, 4, 4.0, 2)]
    [InlineData(10, 8, 4.166, 2)]
    [InlineData(100, 12, 8.017, 2)]
    [InlineData(1000, 16, 12.002, 2)]
    [InlineData(10000, 20, 16.0, 2)]
    public void Formulas_scale_with_log10_of_n(int members, int retransmits, double minSeconds, int confirmations)
    {
        GossipConfig lan = GossipConfig.Lan;
        Assert.Equal(retransmits, lan.RetransmitLimit(members));
        Assert.Equal(minSeconds, lan.SuspicionMinTimeout(members).TotalSeconds, 2);
        Assert.Equal(6 * minSeconds, lan.SuspicionMaxTimeout(members).TotalSeconds, 1);
        Assert.Equal(members - 2 < confirmations ? 0 : confirmations, lan.SuspicionConfirmations(members));
    }

    [Fact]
    public void Validation_lists_every_problem_by_name_and_the_engine_refuses_the_configuration()
    {
        GossipConfig bad = GossipConfig.Lan with
        {
            ProbeTimeout = TimeSpan.FromSeconds(2),
            GossipNodes = 0,
            MaxMessageSize = 100,
            MaxSyncBytesPerExchange = 10,
        };
        IReadOnlyList<string> errors = bad.Validate();
        Assert.Contains(errors, e => e.StartsWith("ProbeTimeout", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("GossipNodes", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("MaxMessageSize", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("MaxPayloadSize", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("MaxSyncBytesPerExchange", StringComparison.Ordinal));

        var ex = Assert.Throws<ArgumentException>(() => new GossipEngine(bad, EngineHarness.Id(0), MemberPayload.Empty, 1, new NullTransport(), new ManualTimeProvider(), new Random(1)));
        Assert.Contains("GossipNodes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ProbeTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_payload_larger_than_the_limit_is_refused_with_the_sizes()
    {
        var payload = new MemberPayload(1, new byte[GossipConfig.Lan.MaxPayloadSize + 1]);
        var ex = Assert.Throws<ArgumentException>(() => new GossipEngine(GossipConfig.Lan, EngineHarness.Id(0), payload, 1, new NullTransport(), new ManualTimeProvider(), new Random(1)));
        Assert.Contains("1025 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxPayloadSize = 1024", ex.Message, StringComparison.Ordinal);
    }

    private sealed class NullTransport : IGossipTransport
    {
        public void Send(MemberId to, ReadOnlySpan<byte> frame)
        {
        }
    }
}
