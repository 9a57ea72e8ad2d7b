using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace MeshAgent.Core.MessagePack;

/// <summary>
/// Writes the MessagePack format (https://github.com/msgpack/msgpack/blob/master/spec.md) into a
/// fixed span or an <see cref="IBufferWriter{T}"/>, always in the <b>canonical form</b> that signed
/// records rely on.
/// </summary>
/// <remarks>
/// <para>Canonical form — one byte string per value, so a signature over bytes re-encoded from decoded
/// fields equals a signature over the bytes received (the reader's <c>strict</c> mode enforces it):</para>
/// <list type="bullet">
/// <item>Integers take the smallest format for their value, whatever the C# type: 0..127 positive fixint,
///   then uint 8/16/32/64; -32..-1 negative fixint, then int 8/16/32/64. A non-negative value is never
///   written in an int (signed) format.</item>
/// <item>str uses fixstr up to 31 bytes, then str 8/16/32; bin uses bin 8/16/32 (bin has no fix form);
///   array and map headers use fixarray/fixmap up to 15 entries, then the 16- and 32-bit forms.</item>
/// <item>Strings are UTF-8 without normalisation or BOM; invalid UTF-16 input is a caller bug and throws.</item>
/// <item>Floats are always float 64 (our signed records contain none); ext types are never written.</item>
/// <item>Map key order is the caller's: our records are arrays of fields in a fixed order, or maps with
///   integer keys in ascending order. Set-like lists (tags, routes) are sorted by the record type itself.</item>
/// </list>
/// <para>Span mode: running out of room is a caller bug (the buffer was sized wrongly) and throws
/// <see cref="InvalidOperationException"/>; check <see cref="FreeCapacity"/> first when filling a packet.
/// A copy of the struct is a save point: assigning it back undoes what was written since (span mode only).
/// Buffer-writer mode advances the output after every value, so nothing needs flushing.</para>
/// </remarks>
public ref struct MessagePackWriter
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Span<byte> _destination;
    private readonly IBufferWriter<byte>? _output;
    private int _written;

    /// <summary>Writes into <paramref name="destination"/> from its start. Borrowed for the writer's lifetime.</summary>
    public MessagePackWriter(Span<byte> destination)
    {
        _destination = destination;
        _output = null;
        _written = 0;
    }

    /// <summary>Appends to <paramref name="output"/>, advancing it after each value.</summary>
    public MessagePackWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _destination = default;
        _output = output;
        _written = 0;
    }

    /// <summary>Bytes written so far by this writer.</summary>
    public readonly int BytesWritten => _written;

    /// <summary>Bytes still free in span mode; <see cref="int.MaxValue"/> in buffer-writer mode.</summary>
    public readonly int FreeCapacity => _output is null ? _destination.Length - _written : int.MaxValue;

    /// <summary>The bytes written so far in span mode. Borrowed from the destination. Empty in buffer-writer mode.</summary>
    public readonly ReadOnlySpan<byte> WrittenSpan => _output is null ? _destination[.._written] : default;

    public void WriteNil()
    {
        Reserve(1)[0] = MessagePackCode.Nil;
        Commit(1);
    }

    public void WriteBoolean(bool value)
    {
        Reserve(1)[0] = value ? MessagePackCode.True : MessagePackCode.False;
        Commit(1);
    }

    /// <summary>Smallest of positive fixint, uint 8, uint 16, uint 32, uint 64.</summary>
    public void WriteUInt64(ulong value)
    {
        if (value <= MessagePackCode.MaxPositiveFixInt)
        {
            Reserve(1)[0] = (byte)value;
            Commit(1);
        }
        else if (value <= byte.MaxValue)
        {
            Span<byte> s = Reserve(2);
            s[0] = MessagePackCode.UInt8;
            s[1] = (byte)value;
            Commit(2);
        }
        else if (value <= ushort.MaxValue)
        {
            Span<byte> s = Reserve(3);
            s[0] = MessagePackCode.UInt16;
            BinaryPrimitives.WriteUInt16BigEndian(s[1..], (ushort)value);
            Commit(3);
        }
        else if (value <= uint.MaxValue)
        {
            Span<byte> s = Reserve(5);
            s[0] = MessagePackCode.UInt32;
            BinaryPrimitives.WriteUInt32BigEndian(s[1..], (uint)value);
            Commit(5);
        }
        else
        {
            Span<byte> s = Reserve(9);
            s[0] = MessagePackCode.UInt64;
            BinaryPrimitives.WriteUInt64BigEndian(s[1..], value);
            Commit(9);
        }
    }

    /// <summary>Non-negative values as <see cref="WriteUInt64"/>; negative ones as the smallest of negative fixint, int 8/16/32/64.</summary>
    public void WriteInt64(long value)
    {
        if (value >= 0)
        {
            WriteUInt64((ulong)value);
        }
        else if (value >= MessagePackCode.MinNegativeFixIntValue)
        {
            Reserve(1)[0] = (byte)(sbyte)value;
            Commit(1);
        }
        else if (value >= sbyte.MinValue)
        {
            Span<byte> s = Reserve(2);
            s[0] = MessagePackCode.Int8;
            s[1] = (byte)(sbyte)value;
            Commit(2);
        }
        else if (value >= short.MinValue)
        {
            Span<byte> s = Reserve(3);
            s[0] = MessagePackCode.Int16;
            BinaryPrimitives.WriteInt16BigEndian(s[1..], (short)value);
            Commit(3);
        }
        else if (value >= int.MinValue)
        {
            Span<byte> s = Reserve(5);
            s[0] = MessagePackCode.Int32;
            BinaryPrimitives.WriteInt32BigEndian(s[1..], (int)value);
            Commit(5);
        }
        else
        {
            Span<byte> s = Reserve(9);
            s[0] = MessagePackCode.Int64;
            BinaryPrimitives.WriteInt64BigEndian(s[1..], value);
            Commit(9);
        }
    }

    /// <summary>float 64, the IEEE 754 bits as given (NaN payloads included).</summary>
    public void WriteFloat64(double value)
    {
        Span<byte> s = Reserve(9);
        s[0] = MessagePackCode.Float64;
        BinaryPrimitives.WriteDoubleBigEndian(s[1..], value);
        Commit(9);
    }

    /// <summary>
    /// UTF-8 of <paramref name="value"/> in the str family. Throws <see cref="ArgumentException"/> on a lone
    /// surrogate: silently replacing it would sign a different string than the caller holds.
    /// </summary>
    public void WriteString(scoped ReadOnlySpan<char> value)
    {
        int byteCount = StrictUtf8.GetByteCount(value);
        int headerLength = StringHeaderLength(byteCount);
        Span<byte> s = Reserve(headerLength + byteCount);
        WriteStringHeader(s, byteCount);
        StrictUtf8.GetBytes(value, s[headerLength..]);
        Commit(headerLength + byteCount);
    }

    /// <summary>Already-encoded UTF-8 in the str family. Throws <see cref="ArgumentException"/> when it is not valid UTF-8.</summary>
    public void WriteStringUtf8(scoped ReadOnlySpan<byte> utf8)
    {
        if (!Utf8.IsValid(utf8))
        {
            throw new ArgumentException($"a MessagePack str must be valid UTF-8; these {utf8.Length} bytes are not", nameof(utf8));
        }

        int headerLength = StringHeaderLength(utf8.Length);
        Span<byte> s = Reserve(headerLength + utf8.Length);
        WriteStringHeader(s, utf8.Length);
        utf8.CopyTo(s[headerLength..]);
        Commit(headerLength + utf8.Length);
    }

    /// <summary>bin 8/16/32, smallest that fits.</summary>
    public void WriteBinary(scoped ReadOnlySpan<byte> value)
    {
        int length = value.Length;
        int headerLength = length <= byte.MaxValue ? 2 : length <= ushort.MaxValue ? 3 : 5;
        Span<byte> s = Reserve(headerLength + length);
        switch (headerLength)
        {
            case 2:
                s[0] = MessagePackCode.Bin8;
                s[1] = (byte)length;
                break;
            case 3:
                s[0] = MessagePackCode.Bin16;
                BinaryPrimitives.WriteUInt16BigEndian(s[1..], (ushort)length);
                break;
            default:
                s[0] = MessagePackCode.Bin32;
                BinaryPrimitives.WriteUInt32BigEndian(s[1..], (uint)length);
                break;
        }

        value.CopyTo(s[headerLength..]);
        Commit(headerLength + length);
    }

    /// <summary>Array header; the caller then writes exactly <paramref name="count"/> values.</summary>
    public void WriteArrayHeader(int count) =>
        WriteContainerHeader(count, MessagePackCode.MinFixArray, MessagePackCode.Array16, MessagePackCode.Array32);

    /// <summary>Map header; the caller then writes exactly <paramref name="count"/> key/value pairs, keys in canonical order.</summary>
    public void WriteMapHeader(int count) =>
        WriteContainerHeader(count, MessagePackCode.MinFixMap, MessagePackCode.Map16, MessagePackCode.Map32);

    /// <summary>
    /// Copies bytes that already are exactly one complete, canonical MessagePack value (for example a
    /// nested record's own encoding). Unchecked: a wrong value corrupts the document without any error here.
    /// </summary>
    public void WriteRawUnchecked(scoped ReadOnlySpan<byte> encodedValue)
    {
        encodedValue.CopyTo(Reserve(encodedValue.Length));
        Commit(encodedValue.Length);
    }

    private void WriteContainerHeader(int count, byte fixBase, byte code16, byte code32)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count <= MessagePackCode.MaxFixContainerCount)
        {
            Reserve(1)[0] = (byte)(fixBase | count);
            Commit(1);
        }
        else if (count <= ushort.MaxValue)
        {
            Span<byte> s = Reserve(3);
            s[0] = code16;
            BinaryPrimitives.WriteUInt16BigEndian(s[1..], (ushort)count);
            Commit(3);
        }
        else
        {
            Span<byte> s = Reserve(5);
            s[0] = code32;
            BinaryPrimitives.WriteUInt32BigEndian(s[1..], (uint)count);
            Commit(5);
        }
    }

    private static int StringHeaderLength(int byteCount) =>
        byteCount <= MessagePackCode.MaxFixStrLength ? 1 : byteCount <= byte.MaxValue ? 2 : byteCount <= ushort.MaxValue ? 3 : 5;

    private static void WriteStringHeader(Span<byte> s, int byteCount)
    {
        if (byteCount <= MessagePackCode.MaxFixStrLength)
        {
            s[0] = (byte)(MessagePackCode.MinFixStr | byteCount);
        }
        else if (byteCount <= byte.MaxValue)
        {
            s[0] = MessagePackCode.Str8;
            s[1] = (byte)byteCount;
        }
        else if (byteCount <= ushort.MaxValue)
        {
            s[0] = MessagePackCode.Str16;
            BinaryPrimitives.WriteUInt16BigEndian(s[1..], (ushort)byteCount);
        }
        else
        {
            s[0] = MessagePackCode.Str32;
            BinaryPrimitives.WriteUInt32BigEndian(s[1..], (uint)byteCount);
        }
    }

    /// <summary>A span of exactly <paramref name="length"/> bytes to fill before <see cref="Commit"/>.</summary>
    private readonly Span<byte> Reserve(int length)
    {
        if (_output is not null)
        {
            return _output.GetSpan(length)[..length];
        }

        if (_destination.Length - _written < length)
        {
            throw new InvalidOperationException(
                $"MessagePack writer: {length} more bytes do not fit in the {_destination.Length}-byte destination ({_written} already written); " +
                "size the buffer for the record or write into an IBufferWriter<byte>");
        }

        return _destination.Slice(_written, length);
    }

    private void Commit(int length)
    {
        _output?.Advance(length);
        _written += length;
    }
}
