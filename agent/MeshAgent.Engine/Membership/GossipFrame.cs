using System.Buffers.Binary;

namespace MeshAgent.Engine.Membership;

/// <summary>Part types inside a gossip frame. Values are wire format.</summary>
public enum GossipMessageType : byte
{
    Ping = 1,
    PingReq = 2,
    Ack = 3,
    Nack = 4,
    Alive = 5,
    Suspect = 6,
    Dead = 7,
    Left = 8,
    Revoked = 9,
    SyncBegin = 10,
    SyncDigest = 11,
    SyncPull = 12,
    SyncDone = 13,
    SyncRecords = 14,
}

/// <summary>
/// A gossip control frame: what MeshAgent carries inside a WireGuard session to a member (the
/// session authenticates the sender, so nothing here is signed or encrypted). One frame is one
/// datagram of at most <see cref="GossipConfig.MaxMessageSize"/> bytes.
/// <code>
/// +---------+-------------------------------------------------------+
/// | version |  part 1  |  part 2  |  ...                            |  byte 0 = 1
/// +---------+-------------------------------------------------------+
/// part:
/// +--------+----------------+---------------------------------------+
/// |  type  | length (u16 BE)|  body (length bytes, layout per type) |
/// +--------+----------------+---------------------------------------+
/// </code>
/// The first part is usually the frame's purpose (a ping, an ack, a sync step); the parts after it
/// are piggybacked broadcasts (alive, suspect, dead, left, revoked), SWIM §4.4's "infection-style"
/// dissemination. Parts after a <see cref="GossipMessageType.SyncRecords"/> part are anti-entropy
/// records rather than broadcasts (applied, not re-broadcast). All integers are big-endian.
/// Unknown part types are skipped by length, so newer nodes can add parts.
/// </summary>
public static class GossipFrame
{
    public const byte Version = 1;
    public const int HeaderSize = 1;
    public const int PartHeaderSize = 3;

    /// <summary>Frame header + SyncRecords part + alive part header and fixed fields: what surrounds the largest record payload in the tightest frame.</summary>
    public const int RecordOverhead = HeaderSize + PartHeaderSize + SyncRecordsMessage.Size + PartHeaderSize + AliveMessage.FixedSize;
}

/// <summary>
/// Iterates the parts of a received frame. Never throws: a frame with the wrong version fails
/// <see cref="TryCreate"/>; a part whose length runs past the end stops iteration and sets
/// <see cref="IsMalformed"/>. Borrowed: valid while the frame buffer is.
/// </summary>
public ref struct GossipFrameReader
{
    private readonly ReadOnlySpan<byte> _frame;
    private int _offset;

    private GossipFrameReader(ReadOnlySpan<byte> frame)
    {
        _frame = frame;
        _offset = GossipFrame.HeaderSize;
        IsMalformed = false;
    }

    /// <summary>True once a truncated part was met; the parts before it were returned and are valid.</summary>
    public bool IsMalformed { get; private set; }

    public static bool TryCreate(ReadOnlySpan<byte> frame, out GossipFrameReader reader)
    {
        if (frame.Length < GossipFrame.HeaderSize || frame[0] != GossipFrame.Version)
        {
            reader = default;
            return false;
        }

        reader = new GossipFrameReader(frame);
        return true;
    }

    /// <summary>The next part, or false at the end of the frame (check <see cref="IsMalformed"/>).</summary>
    public bool TryReadPart(out GossipMessageType type, out ReadOnlySpan<byte> body)
    {
        int remaining = _frame.Length - _offset;
        if (remaining == 0)
        {
            type = default;
            body = default;
            return false;
        }

        if (remaining < GossipFrame.PartHeaderSize)
        {
            return Malformed(out type, out body);
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(_frame[(_offset + 1)..]);
        if (remaining - GossipFrame.PartHeaderSize < length)
        {
            return Malformed(out type, out body);
        }

        type = (GossipMessageType)_frame[_offset];
        body = _frame.Slice(_offset + GossipFrame.PartHeaderSize, length);
        _offset += GossipFrame.PartHeaderSize + length;
        return true;
    }

    private bool Malformed(out GossipMessageType type, out ReadOnlySpan<byte> body)
    {
        IsMalformed = true;
        _offset = _frame.Length;
        type = default;
        body = default;
        return false;
    }
}

/// <summary>
/// Builds a frame in a caller's buffer, whose length is the frame size limit. Borrowed: the
/// buffer must outlive the writer; <see cref="Written"/> is a view of it.
/// </summary>
public ref struct GossipFrameWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public GossipFrameWriter(Span<byte> buffer)
    {
        if (buffer.Length < GossipFrame.HeaderSize)
        {
            throw new ArgumentException("a frame buffer needs at least the version byte", nameof(buffer));
        }

        _buffer = buffer;
        _buffer[0] = GossipFrame.Version;
        _length = GossipFrame.HeaderSize;
        Parts = 0;
    }

    public readonly int Length => _length;

    /// <summary>Bytes left for parts, headers included.</summary>
    public readonly int Remaining => _buffer.Length - _length;

    public int Parts { get; private set; }

    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    /// <summary>Reserves a part of <paramref name="bodyLength"/> bytes and returns its body to fill; false (and nothing written) when it does not fit.</summary>
    public bool TryAppend(GossipMessageType type, int bodyLength, out Span<byte> body)
    {
        if (bodyLength < 0 || bodyLength > ushort.MaxValue || GossipFrame.PartHeaderSize + bodyLength > Remaining)
        {
            body = default;
            return false;
        }

        _buffer[_length] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(_length + 1)..], (ushort)bodyLength);
        body = _buffer.Slice(_length + GossipFrame.PartHeaderSize, bodyLength);
        _length += GossipFrame.PartHeaderSize + bodyLength;
        Parts++;
        return true;
    }

    /// <summary>Copies an already encoded part (header included), as the broadcast queue stores them.</summary>
    public bool TryAppendEncoded(ReadOnlySpan<byte> part)
    {
        if (part.Length > Remaining)
        {
            return false;
        }

        part.CopyTo(_buffer[_length..]);
        _length += part.Length;
        Parts++;
        return true;
    }
}
