using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.WireGuard;
using Xunit;

namespace MeshAgent.Tests.WireGuard;

public sealed class TransportHeaderTests
{
    [Theory]
    // plaintext, mtu, padded: rounding up to 16, capped at the MTU (wireguard-go send.go).
    [InlineData(0, 1420, 0)]     // keepalive stays empty
    [InlineData(1, 1420, 16)]
    [InlineData(16, 1420, 16)]
    [InlineData(17, 1420, 32)]
    [InlineData(1405, 1420, 1408)]
    [InlineData(1409, 1420, 1420)] // 1424 would exceed the MTU
    [InlineData(1419, 1420, 1420)]
    [InlineData(1420, 1420, 1420)]
    [InlineData(1419, 0, 1424)]  // MTU 0: no cap
    [InlineData(1421, 1420, 1436)] // oversized: remainder 1 padded to 16, as wireguard-go does
    [InlineData(2840, 1420, 2840)] // exact multiple of the MTU: no padding
    public void PaddedLength_rounds_up_to_16_and_caps_at_the_mtu(int plaintext, int mtu, int expected) =>
        Assert.Equal(expected, TransportHeader.PaddedLength(plaintext, mtu));

    [Fact]
    public void PaddedLength_matches_a_naive_model_for_every_length_up_to_the_mtu()
    {
        foreach (int mtu in new[] { 1280, 1420, 1500, 9000, 1 << 16 })
        {
            for (int length = 0; length <= mtu; length++)
            {
                int smallestMultipleOf16 = length;
                while (smallestMultipleOf16 % 16 != 0)
                {
                    smallestMultipleOf16++;
                }

                Assert.Equal(Math.Min(smallestMultipleOf16, mtu), TransportHeader.PaddedLength(length, mtu));
            }
        }
    }

    [Fact]
    public void PaddedLength_rejects_negative_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TransportHeader.PaddedLength(-1, 1420));
        Assert.Throws<ArgumentOutOfRangeException>(() => TransportHeader.PaddedLength(10, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => TransportHeader.PaddedLength(int.MaxValue, 0));
    }

    [Fact]
    public void Sizes_follow_from_the_layout()
    {
        Assert.Equal(16, TransportHeader.HeaderSize);
        Assert.Equal(16, TransportHeader.TagSize);
        Assert.Equal(32, TransportHeader.KeepaliveSize);
        Assert.Equal(TransportHeader.KeepaliveSize, TransportHeader.MinSize);
        // Default MTU + header + tag + outer IPv6 (40) + UDP (8) = a 1500-byte Ethernet frame payload.
        Assert.Equal(1500, WireGuardConstants.DefaultMtu + TransportHeader.HeaderSize + TransportHeader.TagSize + 40 + 8);
    }

    [Fact]
    public void Write_puts_header_in_headroom_without_touching_the_payload()
    {
        byte[] packet = new byte[TransportHeader.HeaderSize + 32];
        Array.Fill(packet, (byte)0x5A);
        TransportHeader.Write(packet, receiverIndex: 0x11223344, counter: 0x0102030405060708);
        Assert.Equal(new byte[] { 4, 0, 0, 0, 0x44, 0x33, 0x22, 0x11, 8, 7, 6, 5, 4, 3, 2, 1 }, packet[..16]);
        Assert.All(packet[16..], b => Assert.Equal(0x5A, b));
    }

    [Fact]
    public void Keepalive_is_the_smallest_accepted_transport_message()
    {
        byte[] keepalive = new byte[TransportHeader.KeepaliveSize];
        TransportHeader.Write(keepalive, 7, 9);
        Assert.True(TransportHeader.TryRead(keepalive, out TransportHeader header));
        Assert.Equal(TransportHeader.TagSize, header.EncryptedPayload.Length);
        Assert.False(TransportHeader.TryRead(keepalive.AsSpan(0, 31), out _));
    }

    [Fact]
    public void Hot_paths_allocate_nothing_over_100k_packets()
    {
        // STYLE rule 1: the receive path parses the header and checks the replay window per packet.
        byte[] packet = new byte[TransportHeader.HeaderSize + 64];
        var window = new ReplayWindow();
        var limiter = new TokenBucketRateLimiter(TimeProvider.System);
        byte[] source = [192, 0, 2, 1];

        // Warm up both paths first: JIT, tiering and lazily created statics (comparers) allocate once.
        ulong sink = RunHotPath(packet, window, 0, 1000);
        for (int i = 0; i < 10; i++)
        {
            sink += limiter.Allow(source) ? 1UL : 0;
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        sink += RunHotPath(packet, window, 1000, 100_000);
        long middle = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            sink += limiter.Allow(source) ? 1UL : 0; // existing source: lookup only
        }

        long after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal((0L, 0L), (middle - before, after - middle));
        Assert.NotEqual(0UL, sink);
    }

    private static ulong RunHotPath(byte[] packet, ReplayWindow window, int start, int count)
    {
        ulong sink = 0;
        for (int i = start; i < start + count; i++)
        {
            // Mostly in order, with some reordering and duplicates, as a real receive queue.
            ulong counter = (ulong)(i % 7 == 0 ? Math.Max(0, i - 3) : i);
            TransportHeader.Write(packet, 42, counter);
            if (TransportHeader.TryRead(packet, out TransportHeader header) && window.TryAccept(header.Counter))
            {
                sink += header.ReceiverIndex;
            }
        }

        return sink;
    }
}
