using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text.Unicode;

namespace MeshAgent.Core.MessagePack;

/// <summary>
/// Reads the MessagePack format (https://github.com/msgpack/msgpack/blob/master/spec.md) from a span
/// that may come straight off the network.
/// </summary>
/// <remarks>
/// <para>Contract: every <c>Try*</c> method returns false on malformed, truncated or unexpected input and then
/// leaves <see cref="Position"/> where it was, so a caller may try another type. Nothing here throws on
/// input bytes (only on caller bugs such as a bad <c>maxDepth</c>). Lengths and element counts are checked
/// against the bytes that remain before anything is returned, so a claimed length of 4 GiB in a 10-byte
/// datagram fails at once and no caller ever allocates from it: an array of n elements needs at least n
/// more bytes, a map of n pairs at least 2n.</para>
/// <para><b>Strict</b> mode accepts only the canonical form <see cref="MessagePackWriter"/> produces
/// (smallest integer, str, bin and container formats; non-negative integers only in the uint formats;
/// float 64 only; no ext; str always valid UTF-8), so decoding and re-encoding gives back the same bytes.
/// Signed records are read in strict mode. Map key order is the record decoder's to check.</para>
/// <para>Nesting depth matters only where the reader walks values itself (<see cref="TrySkip"/>,
/// <see cref="TryReadRaw"/>); it is limited to <c>maxDepth</c> container levels and walked without recursion.
/// Spans returned by the reader are borrowed from the input buffer.</para>
/// </remarks>
public ref struct MessagePackReader
{
    public const int DefaultMaxDepth = 32;

    /// <summary>Upper bound for <c>maxDepth</c>: the skip walker keeps one counter per level on the stack.</summary>
    public const int MaxDepthLimit = 256;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly int _maxDepth;
    private int _position;

    /// <param name="buffer">Borrowed: the input, read from its start.</param>
    /// <param name="strict">Accept only canonical encodings (see the type remarks).</param>
    /// <param name="maxDepth">Container levels <see cref="TrySkip"/> will enter, 1..<see cref="MaxDepthLimit"/>.</param>
    public MessagePackReader(ReadOnlySpan<byte> buffer, bool strict = false, int maxDepth = DefaultMaxDepth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDepth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDepth, MaxDepthLimit);
        _buffer = buffer;
        _maxDepth = maxDepth;
        _position = 0;
        Strict = strict;
    }

    public bool Strict { get; }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool End => _position == _buffer.Length;

    /// <summary>The type of the next value, from its first byte only (the value itself may still be malformed).</summary>
    public readonly bool TryPeekType(out MessagePackType type)
    {
        type = default;
        if (End)
        {
            return false;
        }

        byte code = _buffer[_position];
        switch (code)
        {
            case <= MessagePackCode.MaxPositiveFixInt or >= MessagePackCode.MinNegativeFixInt:
            case >= MessagePackCode.UInt8 and <= MessagePackCode.Int64:
                type = MessagePackType.Integer;
                return true;
            case < MessagePackCode.MinFixArray:
                type = MessagePackType.Map;
                return true;
            case < MessagePackCode.MinFixStr:
                type = MessagePackType.Array;
                return true;
            case < MessagePackCode.Nil:
            case >= MessagePackCode.Str8 and <= MessagePackCode.Str32:
                type = MessagePackType.String;
                return true;
            case MessagePackCode.Nil:
                type = MessagePackType.Nil;
                return true;
            case MessagePackCode.False or MessagePackCode.True:
                type = MessagePackType.Boolean;
                return true;
            case >= MessagePackCode.Bin8 and <= MessagePackCode.Bin32:
                type = MessagePackType.Binary;
                return true;
            case >= MessagePackCode.Ext8 and <= MessagePackCode.Ext32:
            case >= MessagePackCode.FixExt1 and <= MessagePackCode.FixExt16:
                type = MessagePackType.Extension;
                return true;
            case MessagePackCode.Float32 or MessagePackCode.Float64:
                type = MessagePackType.Float;
                return true;
            case MessagePackCode.Array16 or MessagePackCode.Array32:
                type = MessagePackType.Array;
                return true;
            case MessagePackCode.Map16 or MessagePackCode.Map32:
                type = MessagePackType.Map;
                return true;
            default: // 0xc1, never used
                return false;
        }
    }

    public bool TryReadNil()
    {
        if (End || _buffer[_position] != MessagePackCode.Nil)
        {
            return false;
        }

        _position++;
        return true;
    }

    public bool TryReadBoolean(out bool value)
    {
        value = false;
        if (End)
        {
            return false;
        }

        byte code = _buffer[_position];
        if (code is not (MessagePackCode.True or MessagePackCode.False))
        {
            return false;
        }

        value = code == MessagePackCode.True;
        _position++;
        return true;
    }

    /// <summary>Any int-family value in -2^63..2^63-1.</summary>
    public bool TryReadInt64(out long value)
    {
        value = 0;
        if (!TryDecodeHead(_position, out Head head) || head.Type != MessagePackType.Integer
            || (!head.Negative && head.Magnitude > long.MaxValue))
        {
            return false;
        }

        value = (long)head.Magnitude; // a negative value's magnitude field holds its two's-complement bits
        _position += head.Size;
        return true;
    }

    /// <summary>Any int-family value in 0..2^64-1.</summary>
    public bool TryReadUInt64(out ulong value)
    {
        value = 0;
        if (!TryDecodeHead(_position, out Head head) || head.Type != MessagePackType.Integer || head.Negative)
        {
            return false;
        }

        value = head.Magnitude;
        _position += head.Size;
        return true;
    }

    /// <summary>Any int-family value in <see cref="int"/> range.</summary>
    public bool TryReadInt32(out int value)
    {
        int start = _position;
        value = 0;
        if (!TryReadInt64(out long wide))
        {
            return false;
        }

        if (wide is < int.MinValue or > int.MaxValue)
        {
            _position = start;
            return false;
        }

        value = (int)wide;
        return true;
    }

    /// <summary>Any int-family value in <see cref="uint"/> range.</summary>
    public bool TryReadUInt32(out uint value)
    {
        int start = _position;
        value = 0;
        if (!TryReadUInt64(out ulong wide))
        {
            return false;
        }

        if (wide > uint.MaxValue)
        {
            _position = start;
            return false;
        }

        value = (uint)wide;
        return true;
    }

    /// <summary>float 64, or float 32 widened (not in strict mode).</summary>
    public bool TryReadFloat64(out double value)
    {
        value = 0;
        if (!TryDecodeHead(_position, out Head head) || head.Type != MessagePackType.Float)
        {
            return false;
        }

        ReadOnlySpan<byte> bits = _buffer.Slice(_position + 1, head.Size - 1);
        value = head.Size == 9 ? BinaryPrimitives.ReadDoubleBigEndian(bits) : BinaryPrimitives.ReadSingleBigEndian(bits);
        _position += head.Size;
        return true;
    }

    /// <summary>A str value's UTF-8 bytes, which must be valid UTF-8 (in any mode). Borrowed from the input.</summary>
    public bool TryReadStringUtf8(out ReadOnlySpan<byte> utf8)
    {
        utf8 = default;
        if (!TryDecodeHead(_position, out Head head) || head.Type != MessagePackType.String)
        {
            return false;
        }

        ReadOnlySpan<byte> payload = _buffer.Slice(_position + head.PayloadOffset, head.PayloadLength);
        if (!Utf8.IsValid(payload))
        {
            return false;
        }

        utf8 = payload;
        _position += head.Size;
        return true;
    }

    /// <summary>A str value as a new string (the one allocation a caller asks for).</summary>
    public bool TryReadString([NotNullWhen(true)] out string? value)
    {
        value = null;
        if (!TryReadStringUtf8(out ReadOnlySpan<byte> utf8))
        {
            return false;
        }

        value = System.Text.Encoding.UTF8.GetString(utf8);
        return true;
    }

    /// <summary>A bin value's bytes. Borrowed from the input.</summary>
    public bool TryReadBinary(out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (!TryDecodeHead(_position, out Head head) || head.Type != MessagePackType.Binary)
        {
            return false;
        }

        bytes = _buffer.Slice(_position + head.PayloadOffset, head.PayloadLength);
        _position += head.Size;
        return true;
    }

    /// <summary>An array header; <paramref name="count"/> elements follow (at most <see cref="Remaining"/>).</summary>
    public bool TryReadArrayHeader(out int count) => TryReadContainerHeader(MessagePackType.Array, out count);

    /// <summary>A map header; <paramref name="count"/> key/value pairs follow (at most half of <see cref="Remaining"/>).</summary>
    public bool TryReadMapHeader(out int count) => TryReadContainerHeader(MessagePackType.Map, out count);

    /// <summary>Skips one complete value, containers included, within the depth limit (and canonical in strict mode).</summary>
    public bool TrySkip() => TryReadRaw(out _);

    /// <summary>
    /// The bytes of one complete value, containers included. Borrowed from the input. In strict mode every
    /// nested value is checked to be canonical, so the bytes can be decoded strictly on their own later.
    /// </summary>
    public bool TryReadRaw(out ReadOnlySpan<byte> raw)
    {
        raw = default;
        Span<long> pendingAtLevel = stackalloc long[_maxDepth + 1];
        int depth = 0;
        pendingAtLevel[0] = 1;
        int position = _position;
        while (true)
        {
            while (pendingAtLevel[depth] == 0)
            {
                if (depth == 0)
                {
                    raw = _buffer[_position..position];
                    _position = position;
                    return true;
                }

                depth--;
            }

            if (!TryDecodeHead(position, out Head head))
            {
                return false;
            }

            pendingAtLevel[depth]--;
            position += head.Size;
            if (head.Type is MessagePackType.Array or MessagePackType.Map)
            {
                if (depth == _maxDepth)
                {
                    return false;
                }

                depth++;
                pendingAtLevel[depth] = head.Type == MessagePackType.Map ? 2L * head.Count : head.Count;
            }
        }
    }

    private bool TryReadContainerHeader(MessagePackType type, out int count)
    {
        count = 0;
        if (!TryDecodeHead(_position, out Head head) || head.Type != type)
        {
            return false;
        }

        count = (int)head.Count;
        _position += head.Size;
        return true;
    }

    /// <summary>
    /// What one value's first bytes say. <see cref="Size"/> covers the whole value for scalars, str, bin and
    /// ext, but only the header for arrays and maps (their elements follow as separate values).
    /// </summary>
    private struct Head
    {
        public MessagePackType Type;
        public int Size;
        public int PayloadOffset;
        public int PayloadLength;
        public uint Count;
        public ulong Magnitude; // integers: the value, or for Negative the two's-complement bits of the long
        public bool Negative;
    }

    /// <summary>Decodes and validates the value starting at <paramref name="position"/> without moving.</summary>
    private readonly bool TryDecodeHead(int position, out Head head)
    {
        head = default;
        ReadOnlySpan<byte> input = _buffer[position..];
        if (input.IsEmpty)
        {
            return false;
        }

        byte code = input[0];
        ReadOnlySpan<byte> rest = input[1..];
        switch (code)
        {
            case <= MessagePackCode.MaxPositiveFixInt:
                head = new Head { Type = MessagePackType.Integer, Size = 1, Magnitude = code };
                return true;
            case >= MessagePackCode.MinNegativeFixInt:
                head = new Head { Type = MessagePackType.Integer, Size = 1, Magnitude = (ulong)(long)(sbyte)code, Negative = true };
                return true;
            case < MessagePackCode.MinFixArray:
                head = new Head { Type = MessagePackType.Map, Size = 1, Count = (uint)(code & 0x0f) };
                return CountFits(ref head, input.Length);
            case < MessagePackCode.MinFixStr:
                head = new Head { Type = MessagePackType.Array, Size = 1, Count = (uint)(code & 0x0f) };
                return CountFits(ref head, input.Length);
            case < MessagePackCode.Nil:
                return Payload(MessagePackType.String, 1, (uint)(code & 0x1f), 0, input, out head);
            case MessagePackCode.Nil:
                head = new Head { Type = MessagePackType.Nil, Size = 1 };
                return true;
            case MessagePackCode.False or MessagePackCode.True:
                head = new Head { Type = MessagePackType.Boolean, Size = 1 };
                return true;
            case MessagePackCode.Bin8:
                return rest.Length >= 1 && Payload(MessagePackType.Binary, 2, rest[0], 0, input, out head);
            case MessagePackCode.Bin16:
                return rest.Length >= 2 && Payload(MessagePackType.Binary, 3, BinaryPrimitives.ReadUInt16BigEndian(rest), 256, input, out head);
            case MessagePackCode.Bin32:
                return rest.Length >= 4 && Payload(MessagePackType.Binary, 5, BinaryPrimitives.ReadUInt32BigEndian(rest), 65536, input, out head);
            case MessagePackCode.Str8:
                return rest.Length >= 1 && Payload(MessagePackType.String, 2, rest[0], 32, input, out head);
            case MessagePackCode.Str16:
                return rest.Length >= 2 && Payload(MessagePackType.String, 3, BinaryPrimitives.ReadUInt16BigEndian(rest), 256, input, out head);
            case MessagePackCode.Str32:
                return rest.Length >= 4 && Payload(MessagePackType.String, 5, BinaryPrimitives.ReadUInt32BigEndian(rest), 65536, input, out head);
            case MessagePackCode.Ext8:
                return !Strict && rest.Length >= 2 && Payload(MessagePackType.Extension, 3, rest[0], 0, input, out head);
            case MessagePackCode.Ext16:
                return !Strict && rest.Length >= 3 && Payload(MessagePackType.Extension, 4, BinaryPrimitives.ReadUInt16BigEndian(rest), 0, input, out head);
            case MessagePackCode.Ext32:
                return !Strict && rest.Length >= 5 && Payload(MessagePackType.Extension, 6, BinaryPrimitives.ReadUInt32BigEndian(rest), 0, input, out head);
            case >= MessagePackCode.FixExt1 and <= MessagePackCode.FixExt16:
                // type byte + 1, 2, 4, 8 or 16 data bytes
                return !Strict && Payload(MessagePackType.Extension, 2, 1u << (code - MessagePackCode.FixExt1), 0, input, out head);
            case MessagePackCode.Float32:
                head = new Head { Type = MessagePackType.Float, Size = 5 };
                return !Strict && rest.Length >= 4;
            case MessagePackCode.Float64:
                head = new Head { Type = MessagePackType.Float, Size = 9 };
                return rest.Length >= 8;
            case MessagePackCode.UInt8:
                return rest.Length >= 1 && Unsigned(2, rest[0], 0x80, out head);
            case MessagePackCode.UInt16:
                return rest.Length >= 2 && Unsigned(3, BinaryPrimitives.ReadUInt16BigEndian(rest), 0x100, out head);
            case MessagePackCode.UInt32:
                return rest.Length >= 4 && Unsigned(5, BinaryPrimitives.ReadUInt32BigEndian(rest), 0x1_0000, out head);
            case MessagePackCode.UInt64:
                return rest.Length >= 8 && Unsigned(9, BinaryPrimitives.ReadUInt64BigEndian(rest), 0x1_0000_0000, out head);
            case MessagePackCode.Int8:
                return rest.Length >= 1 && Signed(2, (sbyte)rest[0], MessagePackCode.MinNegativeFixIntValue, out head);
            case MessagePackCode.Int16:
                return rest.Length >= 2 && Signed(3, BinaryPrimitives.ReadInt16BigEndian(rest), sbyte.MinValue, out head);
            case MessagePackCode.Int32:
                return rest.Length >= 4 && Signed(5, BinaryPrimitives.ReadInt32BigEndian(rest), short.MinValue, out head);
            case MessagePackCode.Int64:
                return rest.Length >= 8 && Signed(9, BinaryPrimitives.ReadInt64BigEndian(rest), int.MinValue, out head);
            case MessagePackCode.Array16:
                return rest.Length >= 2 && Container(MessagePackType.Array, 3, BinaryPrimitives.ReadUInt16BigEndian(rest), 16, input.Length, out head);
            case MessagePackCode.Array32:
                return rest.Length >= 4 && Container(MessagePackType.Array, 5, BinaryPrimitives.ReadUInt32BigEndian(rest), 65536, input.Length, out head);
            case MessagePackCode.Map16:
                return rest.Length >= 2 && Container(MessagePackType.Map, 3, BinaryPrimitives.ReadUInt16BigEndian(rest), 16, input.Length, out head);
            case MessagePackCode.Map32:
                return rest.Length >= 4 && Container(MessagePackType.Map, 5, BinaryPrimitives.ReadUInt32BigEndian(rest), 65536, input.Length, out head);
            default: // 0xc1 is never used
                return false;
        }
    }

    /// <summary>
    /// A length-prefixed payload: fits in the input, and in strict mode the length needed this format
    /// (at least <paramref name="canonicalMinimum"/>) and a str is valid UTF-8.
    /// </summary>
    private readonly bool Payload(MessagePackType type, int headerLength, uint length, uint canonicalMinimum, ReadOnlySpan<byte> input, out Head head)
    {
        head = default;
        if (length > (long)input.Length - headerLength || (Strict && length < canonicalMinimum))
        {
            return false;
        }

        if (Strict && type == MessagePackType.String && !Utf8.IsValid(input.Slice(headerLength, (int)length)))
        {
            return false;
        }

        head = new Head { Type = type, Size = headerLength + (int)length, PayloadOffset = headerLength, PayloadLength = (int)length };
        return true;
    }

    private readonly bool Unsigned(int size, ulong value, ulong canonicalMinimum, out Head head)
    {
        head = new Head { Type = MessagePackType.Integer, Size = size, Magnitude = value };
        return !Strict || value >= canonicalMinimum;
    }

    /// <summary>Strict mode: a signed format only for a negative value below what the next smaller format holds.</summary>
    private readonly bool Signed(int size, long value, long canonicalUpperBound, out Head head)
    {
        head = value < 0
            ? new Head { Type = MessagePackType.Integer, Size = size, Magnitude = (ulong)value, Negative = true }
            : new Head { Type = MessagePackType.Integer, Size = size, Magnitude = (ulong)value };
        return !Strict || value < canonicalUpperBound;
    }

    private readonly bool Container(MessagePackType type, int headerLength, uint count, uint canonicalMinimum, int inputLength, out Head head)
    {
        head = new Head { Type = type, Size = headerLength, Count = count };
        return (!Strict || count >= canonicalMinimum) && CountFits(ref head, inputLength);
    }

    /// <summary>Every element takes at least one byte, so a count beyond the remaining bytes is a lie.</summary>
    private static bool CountFits(ref Head head, int inputLength)
    {
        long minimumBytes = head.Type == MessagePackType.Map ? 2L * head.Count : head.Count;
        return minimumBytes <= inputLength - head.Size;
    }
}
