using MeshAgent.Core.WireGuard;
using MeshAgent.Engine.WireGuard;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Engine;

public sealed class Tai64NStamperTests
{
    [Fact]
    public void Stamps_after_a_restart_with_a_clock_set_back_exceed_every_stamp_sent_before()
    {
        string dir = Directory.CreateTempSubdirectory("tai64n").FullName;
        try
        {
            var store = new FileTai64NFloorStore(Path.Combine(dir, "floor"));
            var time = new ManualTimeProvider(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
            var stamper = new Tai64NStamper(time, store);
            var last = new byte[12];
            for (int i = 0; i < 100; i++)
            {
                stamper.Next(last);
                time.Advance(TimeSpan.FromSeconds(5));
            }

            // "Reboot" with a clock years behind (no RTC, before NTP).
            var rebooted = new ManualTimeProvider(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
            var afterReboot = new Tai64NStamper(rebooted, new FileTai64NFloorStore(Path.Combine(dir, "floor")));
            var next = new byte[12];
            afterReboot.Next(next);
            Assert.True(Tai64N.IsAfter(next, last));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Floor_is_written_ahead_not_on_every_stamp()
    {
        var store = new CountingStore();
        var time = new ManualTimeProvider();
        var stamper = new Tai64NStamper(time, store);
        var stamp = new byte[12];
        for (int i = 0; i < 120; i++)
        {
            stamper.Next(stamp);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        // One write at start, then one per 60 s reservation.
        Assert.InRange(store.Saves, 2, 3);
    }

    private sealed class CountingStore : ITai64NFloorStore
    {
        public int Saves { get; private set; }

        public bool TryLoad(Span<byte> floor) => false;

        public void Save(ReadOnlySpan<byte> floor) => Saves++;
    }
}
