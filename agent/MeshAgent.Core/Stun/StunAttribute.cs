using System.Buffers.Binary;

namespace MeshAgent.Core.Stun;

/// <summary>
/// One attribute of a parsed message (RFC 8489 §14): type, and the value without its padding.
/// Borrowed: valid while the datagram the message was read from is.
/// </summary>
public readonly ref struct StunAttribute
{
    internal StunAttribute(ushort type, ReadOnlySpan<byte> value, int offset)
    {
        Type = type;
        Value = value;
        Offset = offset;
    }

    /// <summary>The attribute type (<see cref="StunAttributeType"/>).</summary>
    public ushort Type { get; }

    /// <summary>The value, <c>Length</c> bytes, padding excluded.</summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>Offset of the attribute's 4-byte header in the datagram.</summary>
    public int Offset { get; }
}

/// <summary>
/// Walks the attributes of a message lazily, in wire order, including any after
/// MESSAGE-INTEGRITY (use <see cref="StunMessage.TryGetAttribute"/> for the RFC's view). The
/// layout was validated by <see cref="StunMessage.TryRead"/>, so walking cannot fail. Allocation-free.
/// </summary>
public ref struct StunAttributeEnumerator
{
    private readonly ReadOnlySpan<byte> _datagram;
    private int _next;

    internal StunAttributeEnumerator(ReadOnlySpan<byte> datagram)
    {
        _datagram = datagram;
        _next = StunMessage.HeaderSize;
        Current = default;
    }

    public StunAttribute Current { get; private set; }

    public readonly StunAttributeEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_next + StunMessage.AttributeHeaderSize > _datagram.Length)
        {
            return false;
        }

        ushort type = BinaryPrimitives.ReadUInt16BigEndian(_datagram[_next..]);
        int length = BinaryPrimitives.ReadUInt16BigEndian(_datagram[(_next + 2)..]);
        Current = new StunAttribute(type, _datagram.Slice(_next + StunMessage.AttributeHeaderSize, length), _next);
        _next += StunMessage.AttributeHeaderSize + StunMessage.Padded(length);
        return true;
    }
}
