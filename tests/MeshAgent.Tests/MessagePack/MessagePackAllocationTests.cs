using MeshAgent.Core.MessagePack;

namespace MeshAgent.Tests.MessagePack;

/// <summary>
/// Control frames (gossip) are encoded and decoded per packet, so the span paths must not allocate
/// (STYLE rule 1). Only TryReadString allocates, by design (it returns a string).
/// </summary>
public sealed class MessagePackAllocationTests
{
    [Fact]
    public void Span_writing_and_strict_reading_allocate_nothing()
    {
        byte[] buffer = new byte[256];
        byte[] key = new byte[32];
        RoundTrip(buffer, key); // warm up (JIT, static UTF-8 encoder)

        long before = GC.GetAllocatedBytesForCurrentThread();
        long sum = 0;
        for (int i = 0; i < 10_000; i++)
        {
            sum += RoundTrip(buffer, key);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(10_000L * (300 + 32 + 5 + 1 + 1), sum);
    }

    private static long RoundTrip(byte[] buffer, byte[] key)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(5);
        writer.WriteUInt64(300);
        writer.WriteBinary(key);
        writer.WriteString("alive");
        writer.WriteInt64(-1);
        writer.WriteMapHeader(1);
        writer.WriteNil();
        writer.WriteBoolean(true);

        var reader = new MessagePackReader(buffer.AsSpan(0, writer.BytesWritten), strict: true);
        if (!reader.TryReadArrayHeader(out int count) || !reader.TryReadUInt64(out ulong value)
            || !reader.TryReadBinary(out ReadOnlySpan<byte> bytes) || !reader.TryReadStringUtf8(out ReadOnlySpan<byte> text)
            || !reader.TryReadInt64(out long negative) || !reader.TryReadRaw(out ReadOnlySpan<byte> map) || !reader.End)
        {
            throw new InvalidOperationException("round trip failed");
        }

        return (long)value + bytes.Length + text.Length + (count - 4) + (negative + 1) + (map.Length - 2);
    }
}
