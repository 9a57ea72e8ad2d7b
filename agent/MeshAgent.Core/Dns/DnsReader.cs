using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace MeshAgent.Core.Dns;

/// <summary>
/// Reads big-endian fields and (possibly compressed) names from one DNS message. Never throws on
/// message content: every Try method returns false and sets <see cref="Error"/> instead.
/// <para>
/// Name compression (RFC 1035 §4.1.4): a label byte with the top bits 11 starts a 14-bit pointer
/// to an earlier position in the message. Loops are impossible to follow forever: a pointer
/// must point strictly before itself, at most <see cref="MaxPointerHops"/> pointers are followed
/// per name, and the uncompressed name may not exceed 255 bytes. Top bits 01 and 10 (extended
/// label types, deprecated by RFC 6891 §5) are rejected.
/// </para>
/// Borrowed: the reader holds the caller's span; names it returns own copies of their bytes.
/// </summary>
public ref struct DnsReader
{
    /// <summary>A 255-byte name has at most 127 labels, so no honest name needs more pointers than this.</summary>
    public const int MaxPointerHops = 128;

    private readonly ReadOnlySpan<byte> _message;
    private int _position;

    public DnsReader(ReadOnlySpan<byte> message, int position = 0)
    {
        _message = message;
        _position = position;
    }

    /// <summary>Offset of the next byte to read, from the start of the message.</summary>
    public readonly int Position => _position;

    public readonly int Remaining => _message.Length - _position;

    /// <summary>Why the last failed Try method failed.</summary>
    public DnsReadError Error { get; private set; }

    public bool TryReadUInt8(out byte value)
    {
        if (_position + 1 > _message.Length)
        {
            value = 0;
            return Fail(DnsReadError.Truncated);
        }

        value = _message[_position++];
        return true;
    }

    public bool TryReadUInt16(out ushort value)
    {
        if (_position + 2 > _message.Length)
        {
            value = 0;
            return Fail(DnsReadError.Truncated);
        }

        value = BinaryPrimitives.ReadUInt16BigEndian(_message[_position..]);
        _position += 2;
        return true;
    }

    public bool TryReadUInt32(out uint value)
    {
        if (_position + 4 > _message.Length)
        {
            value = 0;
            return Fail(DnsReadError.Truncated);
        }

        value = BinaryPrimitives.ReadUInt32BigEndian(_message[_position..]);
        _position += 4;
        return true;
    }

    /// <summary>The next <paramref name="count"/> bytes. Borrowed: a slice of the message.</summary>
    public bool TryReadBytes(int count, out ReadOnlySpan<byte> bytes)
    {
        if (count < 0 || _position + count > _message.Length)
        {
            bytes = default;
            return Fail(DnsReadError.Truncated);
        }

        bytes = _message.Slice(_position, count);
        _position += count;
        return true;
    }

    /// <summary>Reads a name, following compression pointers; the position moves past the name's bytes at this spot only.</summary>
    public bool TryReadName([NotNullWhen(true)] out DnsName? name)
    {
        name = null;
        Span<byte> wire = stackalloc byte[DnsName.MaxLength];
        int length = 0;
        int position = _position;
        int resume = -1;
        int hops = 0;
        while (true)
        {
            if (position >= _message.Length)
            {
                return Fail(DnsReadError.Truncated);
            }

            byte b = _message[position];
            switch (b & 0xC0)
            {
                case 0x00 when b == 0:
                    wire[length++] = 0;
                    _position = resume < 0 ? position + 1 : resume;
                    name = DnsName.FromCheckedWire(wire[..length].ToArray());
                    return true;

                case 0x00:
                    if (position + 1 + b > _message.Length)
                    {
                        return Fail(DnsReadError.Truncated);
                    }

                    // Room must remain for the root label's zero byte.
                    if (length + 1 + b + 1 > DnsName.MaxLength)
                    {
                        return Fail(DnsReadError.NameTooLong);
                    }

                    _message.Slice(position, 1 + b).CopyTo(wire[length..]);
                    length += 1 + b;
                    position += 1 + b;
                    break;

                case 0xC0:
                    if (position + 2 > _message.Length)
                    {
                        return Fail(DnsReadError.Truncated);
                    }

                    int target = ((b & 0x3F) << 8) | _message[position + 1];
                    if (target >= position)
                    {
                        return Fail(DnsReadError.BadPointer);
                    }

                    if (++hops > MaxPointerHops)
                    {
                        return Fail(DnsReadError.PointerLoop);
                    }

                    if (resume < 0)
                    {
                        resume = position + 2;
                    }

                    position = target;
                    break;

                default:
                    return Fail(DnsReadError.BadLabelType);
            }
        }
    }

    /// <summary>
    /// A reader at the same position that ends at <paramref name="end"/> (for one record's RDATA):
    /// compression pointers still reach every earlier byte of the message.
    /// </summary>
    public readonly DnsReader Limit(int end)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(end, _position);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(end, _message.Length);
        return new DnsReader(_message[..end], _position);
    }

    /// <summary>Moves past <paramref name="count"/> bytes; false (Truncated) when fewer remain.</summary>
    public bool Skip(int count) => TryReadBytes(count, out _);

    /// <summary>Records <paramref name="error"/> and returns false, for "return Fail(...)" in readers built on this one.</summary>
    public bool Fail(DnsReadError error)
    {
        Error = error;
        return false;
    }
}
