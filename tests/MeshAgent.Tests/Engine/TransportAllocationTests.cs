using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Tests.Engine;

/// <summary>STYLE rule 1: sealing and opening a transport packet allocates nothing.</summary>
public sealed class TransportAllocationTests
{
    [Fact]
    public void Seal_and_open_of_1420_byte_packets_allocate_nothing()
    {
        using var pair = new DevicePair();
        pair.A.SendHandshakeInitiation(pair.PeerBOnA, isRetry: false);
        pair.Pump();
        Peer peer = pair.PeerBOnA;
        var buffer = new byte[16 + 1420 + 16];
        var work = new byte[buffer.Length];
        buffer[16] = 0x45;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(18), 1420);

        // Warm up (JIT, first-use paths, tiering).
        for (int i = 0; i < 2000; i++)
        {
            RoundTrip(pair, peer, buffer, work);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            RoundTrip(pair, peer, buffer, work);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    private static void RoundTrip(DevicePair pair, Peer peer, byte[] buffer, byte[] work)
    {
        buffer.AsSpan().CopyTo(work);
        if (pair.A.TrySeal(peer, work, 1420, 1420, out int length) != SealStatus.Sealed)
        {
            throw new InvalidOperationException("no session");
        }

        InboundResult result = pair.B.ReceiveTransport(work.AsSpan(0, length), DevicePair.EndpointA);
        if (result.Kind != InboundKind.Data || result.PayloadLength != 1420)
        {
            throw new InvalidOperationException($"open failed: {result.Kind} {result.Drop}");
        }
    }
}
