using System.Buffers.Binary;

namespace MeshAgent.Core.Dns;

/// <summary>
/// Writes big-endian fields and names into one DNS message, compressing names (RFC 1035 §4.1.4)
/// when asked: a name's longest suffix already written at an offset below 0x4000 becomes a
/// 2-byte pointer. Suffixes match byte for byte (not ignoring case), so a message read back
/// holds exactly the names written. Try methods return false when the buffer is full; the
/// message is then incomplete, and <see cref="Rewind"/> returns to a known-good position.
/// Borrowed: the destination span, for the writer's lifetime.
/// </summary>
public ref struct DnsWriter
{
    private const int MaxPointerTarget = 0x3FFF;

    private readonly Span<byte> _buffer;
    private readonly List<(DnsName Name, int SuffixStart, int Offset)>? _written;
    private int _position;

    /// <param name="compress">False writes every name in full (for canonical RDATA, RFC 6762 §8.2).</param>
    public DnsWriter(Span<byte> buffer, bool compress = true)
    {
        _buffer = buffer;
        _written = compress ? [] : null;
        _position = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Position => _position;

    /// <summary>The bytes written so far. Borrowed: a slice of the destination.</summary>
    public readonly ReadOnlySpan<byte> Written => _buffer[.._position];

    /// <summary>
    /// Moves back to <paramref name="position"/> (a <see cref="Position"/> seen earlier), forgetting
    /// names written after it so no later pointer refers to discarded bytes.
    /// </summary>
    public void Rewind(int position)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, _position);
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        _position = position;
        _written?.RemoveAll(entry => entry.Offset >= position);
    }

    public bool TryWriteUInt8(byte value)
    {
        if (_position + 1 > _buffer.Length)
        {
            return false;
        }

        _buffer[_position++] = value;
        return true;
    }

    public bool TryWriteUInt16(ushort value)
    {
        if (_position + 2 > _buffer.Length)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], value);
        _position += 2;
        return true;
    }

    public bool TryWriteUInt32(uint value)
    {
        if (_position + 4 > _buffer.Length)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], value);
        _position += 4;
        return true;
    }

    public bool TryWriteBytes(scoped ReadOnlySpan<byte> bytes)
    {
        if (_position + bytes.Length > _buffer.Length)
        {
            return false;
        }

        bytes.CopyTo(_buffer[_position..]);
        _position += bytes.Length;
        return true;
    }

    /// <summary>Overwrites a 16-bit field written earlier (an RDLENGTH or a header count).</summary>
    public void PatchUInt16(int offset, ushort value)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + 2, _position);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[offset..], value);
    }

    /// <summary>Writes <paramref name="name"/>, as a pointer to an earlier copy of its longest possible suffix when <paramref name="compress"/>.</summary>
    public bool TryWriteName(DnsName name, bool compress = true)
    {
        ReadOnlySpan<byte> wire = name.WireForm;
        int start = _position;

        // Longest suffix first: label boundaries from the left.
        int suffix = 0;
        int pointer = -1;
        if (compress && _written is not null)
        {
            for (; wire[suffix] != 0; suffix += 1 + wire[suffix])
            {
                pointer = FindSuffix(wire[suffix..]);
                if (pointer >= 0)
                {
                    break;
                }
            }
        }
        else
        {
            suffix = wire.Length - 1;
        }

        int needed = pointer >= 0 ? suffix + 2 : wire.Length;
        if (_position + needed > _buffer.Length)
        {
            return false;
        }

        if (pointer >= 0)
        {
            wire[..suffix].CopyTo(_buffer[_position..]);
            _position += suffix;
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], (ushort)(0xC000 | pointer));
            _position += 2;
        }
        else
        {
            wire.CopyTo(_buffer[_position..]);
            _position += wire.Length;
        }

        if (_written is not null)
        {
            // Remember each label written in full here as a suffix later names may point to.
            for (int label = 0; label < suffix && wire[label] != 0; label += 1 + wire[label])
            {
                if (start + label <= MaxPointerTarget)
                {
                    _written.Add((name, label, start + label));
                }
            }
        }

        return true;
    }

    private readonly int FindSuffix(ReadOnlySpan<byte> suffix)
    {
        foreach (var (name, suffixStart, offset) in _written!)
        {
            if (name.WireForm[suffixStart..].SequenceEqual(suffix))
            {
                return offset;
            }
        }

        return -1;
    }
}
