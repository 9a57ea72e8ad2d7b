using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Relay;
using MeshAgent.Engine.Relay;
using static MeshAgent.Tests.WireGuard.WireGuardGens;

namespace MeshAgent.Tests.Relay;

/// <summary>The TCP stream relay framing (uint16 length prefix) through the shared reader and writer.</summary>
public sealed class RelayStreamFramingTests
{
    [Fact]
    public void Frames_written_come_back_whole_and_in_order_however_the_stream_chunks_them()
    {
        Check.One(PropertyConfig(60), Prop.ForAll(Arb.From(
            from count in Gen.Choose(1, 20)
            from sizes in Gen.ListOf(Gen.Frequency((4, Gen.Choose(4, 300)), (1, Gen.Choose(4000, 9000)), (1, Gen.Constant(RelayProtocol.MaxFrameLength))), count)
            from chunk in Gen.Choose(1, 5000)
            select (sizes.ToArray(), chunk)),
            t =>
            {
                (int[] sizes, int chunk) = t;
                byte[][] frames = [.. sizes.Select((size, i) => Frame(size, i))];
                var sink = new MemoryStream();
                var writer = new RelayStreamWriter(sink, 4 * RelayProtocol.MaxFrameLength * frames.Length);
                foreach (byte[] frame in frames)
                {
                    Assert.True(writer.TryEnqueue(frame));
                }

                writer.Complete();
                writer.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
                Assert.Equal(frames.Length, writer.Written);
                Assert.Equal(0, writer.QueuedBytes);
                Assert.Equal(frames.Sum(f => f.Length + 2), sink.Length);

                using var reader = new RelayStreamReader(new ChunkedStream(sink.ToArray(), chunk));
                foreach (byte[] frame in frames)
                {
                    Memory<byte> read = reader.ReadFrameAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
                    Assert.True(frame.AsSpan().SequenceEqual(read.Span));
                }

                Assert.True(reader.ReadFrameAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult().IsEmpty);
            }));
    }

    [Fact]
    public async Task A_stream_that_is_not_relay_framing_is_refused_at_once()
    {
        using var http = new RelayStreamReader(new MemoryStream("GET / HTTP/1.1\r\n"u8.ToArray()));
        await Assert.ThrowsAsync<InvalidDataException>(() => http.ReadFrameAsync(CancellationToken.None).AsTask());

        using var tiny = new RelayStreamReader(new MemoryStream([0, 2, (byte)'m', (byte)'r']));
        await Assert.ThrowsAsync<InvalidDataException>(() => tiny.ReadFrameAsync(CancellationToken.None).AsTask());

        // A stream that ends inside a frame is the end of the stream, not an error.
        using var cut = new RelayStreamReader(new MemoryStream([0, 20, (byte)'m', (byte)'r', 1, 6]));
        Assert.True((await cut.ReadFrameAsync(CancellationToken.None)).IsEmpty);
    }

    [Fact]
    public void The_write_queue_is_bounded_and_drops_are_counted()
    {
        int bound = 2 + RelayProtocol.MaxFrameLength;
        var writer = new RelayStreamWriter(new MemoryStream(), bound);
        byte[] frame = Frame(1000, 1);
        int accepted = 0;
        for (int i = 0; i < 100; i++)
        {
            accepted += writer.TryEnqueue(frame) ? 1 : 0;
        }

        Assert.Equal(bound / 1002, accepted);
        Assert.Equal(100 - accepted, writer.Dropped);
        Assert.True(writer.QueuedBytes <= bound);

        writer.Complete();
        Assert.False(writer.TryEnqueue(frame));
        Assert.Throws<ArgumentException>(() => writer.TryEnqueue([]));
    }

    private static byte[] Frame(int size, int seed)
    {
        byte[] frame = new byte[size];
        for (int i = 0; i < size; i++)
        {
            frame[i] = (byte)(seed * 31 + i);
        }

        RelayProtocol.WriteHeader(frame, RelayFrameType.Recv);
        if (size >= 8)
        {
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(4), seed);
        }

        return frame;
    }

    /// <summary>A read-only stream that returns at most <c>chunk</c> bytes per read, as TCP may.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, chunk), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
