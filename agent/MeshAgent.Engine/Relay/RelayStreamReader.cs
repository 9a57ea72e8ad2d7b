using System.Buffers;
using System.Buffers.Binary;
using MeshAgent.Core.Relay;

namespace MeshAgent.Engine.Relay;

/// <summary>
/// Reads the frames of the TCP stream relay (<see cref="RelayProtocol"/>: each frame preceded by its length as a
/// big-endian uint16) from a stream. Used by both ends: the relay's TCP listener and <see cref="TcpRelayClient"/>.
/// </summary>
/// <remarks>
/// Memory is bounded per stream: a small owned buffer (<see cref="SmallBufferSize"/>) holds typical frames and
/// several of them per read; a frame longer than that is read into an array rented from the shared pool for just
/// that frame and returned on the next call, so ten thousand idle connections cost 4 KiB each, not 64 KiB.
/// One reader at a time (not thread-safe).
/// </remarks>
public sealed class RelayStreamReader : IDisposable
{
    public const int SmallBufferSize = 4096;

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[SmallBufferSize];
    private int _start;
    private int _end;
    private byte[]? _rented;

    public RelayStreamReader(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
    }

    /// <summary>
    /// Reads the next frame. Returns it (borrowed: valid until the next call or Dispose), or an empty block at the end
    /// of the stream (also when it ends inside a frame).
    /// </summary>
    /// <exception cref="InvalidDataException">A length prefix smaller than a frame header, or a frame without the relay
    /// magic: the stream is not relay framing (or it lost sync); the connection cannot continue.</exception>
    public async ValueTask<Memory<byte>> ReadFrameAsync(CancellationToken cancellationToken)
    {
        ReturnRented();
        while (_end - _start < RelayProtocol.TcpLengthPrefix)
        {
            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                return Memory<byte>.Empty;
            }
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_start));
        if (length < RelayProtocol.HeaderLength)
        {
            throw new InvalidDataException($"relay stream framing broken: a frame length of {length} bytes is shorter than the {RelayProtocol.HeaderLength}-byte header");
        }

        // Judge the magic as soon as it is here, so a stranger (an HTTP client, a scanner) is turned away at once
        // instead of being waited on for the thousands of bytes its first two letters "announce".
        while (_end - _start < RelayProtocol.TcpLengthPrefix + 2)
        {
            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                return Memory<byte>.Empty;
            }
        }

        if (!RelayProtocol.LooksLikeRelayFrame(_buffer.AsSpan(_start + RelayProtocol.TcpLengthPrefix, 2)))
        {
            throw new InvalidDataException("relay stream framing broken: a frame does not start with the relay magic 'mr'");
        }

        int total = RelayProtocol.TcpLengthPrefix + length;
        if (total <= _buffer.Length)
        {
            while (_end - _start < total)
            {
                if (!await FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    return Memory<byte>.Empty;
                }
            }

            Memory<byte> frame = _buffer.AsMemory(_start + RelayProtocol.TcpLengthPrefix, length);
            _start += total;
            return frame;
        }

        // A large frame: rent exactly enough for it, take what is buffered, read the rest straight into it.
        _rented = ArrayPool<byte>.Shared.Rent(length);
        _start += RelayProtocol.TcpLengthPrefix;
        int have = Math.Min(_end - _start, length);
        _buffer.AsSpan(_start, have).CopyTo(_rented);
        _start += have;
        while (have < length)
        {
            int n = await _stream.ReadAsync(_rented.AsMemory(have, length - have), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return Memory<byte>.Empty;
            }

            have += n;
        }

        return _rented.AsMemory(0, length);
    }

    public void Dispose() => ReturnRented();

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length || _start > _buffer.Length / 2)
        {
            // Compact: the partial frame moves to the front so the rest of it fits behind it.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        int n = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (n == 0)
        {
            return false;
        }

        _end += n;
        return true;
    }

    private void ReturnRented()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }
    }
}
