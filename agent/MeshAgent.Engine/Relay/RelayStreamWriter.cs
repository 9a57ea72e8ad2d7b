using System.Buffers;
using System.Buffers.Binary;
using System.Threading.Channels;
using MeshAgent.Core.Relay;

namespace MeshAgent.Engine.Relay;

/// <summary>
/// The sending half of a TCP stream relay connection: a bounded queue of frames and one loop that writes them,
/// length-prefixed (<see cref="RelayProtocol"/>), to the stream. Producers never block: when a slow reader at the
/// other end lets more than <see cref="MaxQueuedBytes"/> pile up, new frames are dropped and counted
/// (<see cref="Dropped"/>) — the payloads are WireGuard packets, whose senders recover from loss, while an
/// unbounded queue would let one slow client eat the relay's memory.
/// </summary>
/// <remarks>
/// Thread-safe: any number of threads may call <see cref="TryEnqueue"/> while <see cref="RunAsync"/> runs.
/// Frames are copied at enqueue (into arrays rented from the shared pool, returned once written), so callers
/// keep ownership of their spans. The loop coalesces queued frames into one write of up to
/// <see cref="CoalesceBytes"/> bytes.
/// </remarks>
public sealed class RelayStreamWriter
{
    public const int CoalesceBytes = 16 * 1024;

    private readonly Stream _stream;
    private readonly Channel<(byte[] Buffer, int Length)> _queue =
        Channel.CreateUnbounded<(byte[], int)>(new UnboundedChannelOptions { SingleReader = true });

    private long _queuedBytes;
    private long _dropped;
    private long _written;

    /// <param name="maxQueuedBytes">Bound on bytes waiting to be written (length prefixes included).</param>
    public RelayStreamWriter(Stream stream, int maxQueuedBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueuedBytes, RelayProtocol.TcpLengthPrefix + RelayProtocol.MaxFrameLength);
        _stream = stream;
        MaxQueuedBytes = maxQueuedBytes;
    }

    public int MaxQueuedBytes { get; }

    /// <summary>Frames refused because the queue was full or the writer was closed.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Frames written to the stream.</summary>
    public long Written => Interlocked.Read(ref _written);

    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>
    /// Queues a copy of <paramref name="frame"/> (borrowed for the call). False, counted in <see cref="Dropped"/>, when the
    /// queue is full or closed. Throws <see cref="ArgumentException"/> for an empty or over-long frame (a caller bug).
    /// </summary>
    public bool TryEnqueue(ReadOnlySpan<byte> frame)
    {
        if (frame.Length is 0 or > RelayProtocol.MaxFrameLength)
        {
            throw new ArgumentException($"a relay frame is 1..{RelayProtocol.MaxFrameLength} bytes, got {frame.Length}", nameof(frame));
        }

        int length = RelayProtocol.TcpLengthPrefix + frame.Length;
        if (Interlocked.Add(ref _queuedBytes, length) > MaxQueuedBytes)
        {
            Interlocked.Add(ref _queuedBytes, -length);
            Interlocked.Increment(ref _dropped);
            return false;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        BinaryPrimitives.WriteUInt16BigEndian(buffer, (ushort)frame.Length);
        frame.CopyTo(buffer.AsSpan(RelayProtocol.TcpLengthPrefix));
        if (!_queue.Writer.TryWrite((buffer, length)))
        {
            Interlocked.Add(ref _queuedBytes, -length);
            Interlocked.Increment(ref _dropped);
            ArrayPool<byte>.Shared.Return(buffer);
            return false;
        }

        return true;
    }

    /// <summary>Stops accepting frames; <see cref="RunAsync"/> writes what is queued and returns.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>
    /// Writes queued frames until <see cref="Complete"/> or cancellation. Stream failures propagate (the connection is
    /// over); frames still queued then are released.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        ChannelReader<(byte[] Buffer, int Length)> reader = _queue.Reader;
        byte[] coalesce = ArrayPool<byte>.Shared.Rent(CoalesceBytes);
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryPeek(out (byte[] Buffer, int Length) first))
                {
                    if (first.Length > coalesce.Length)
                    {
                        // Too big to coalesce: write it on its own.
                        reader.TryRead(out _);
                        await WriteAsync(first.Buffer.AsMemory(0, first.Length), 1, cancellationToken).ConfigureAwait(false);
                        Release(first);
                        continue;
                    }

                    int filled = 0;
                    int frames = 0;
                    while (reader.TryPeek(out (byte[] Buffer, int Length) next) && filled + next.Length <= coalesce.Length)
                    {
                        reader.TryRead(out _);
                        next.Buffer.AsSpan(0, next.Length).CopyTo(coalesce.AsSpan(filled));
                        filled += next.Length;
                        frames++;
                        Release(next);
                    }

                    await WriteAsync(coalesce.AsMemory(0, filled), frames, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(coalesce);
            _queue.Writer.TryComplete();
            while (reader.TryRead(out (byte[] Buffer, int Length) left))
            {
                Release(left);
            }
        }
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> data, int frames, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _written, frames);
    }

    private void Release((byte[] Buffer, int Length) item)
    {
        Interlocked.Add(ref _queuedBytes, -item.Length);
        ArrayPool<byte>.Shared.Return(item.Buffer);
    }
}
