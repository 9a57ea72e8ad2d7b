using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using MeshAgent.Core.Net;

namespace MeshAgent.Core.Stun;

/// <summary>
/// Builds a STUN message in a caller buffer (layout: <see cref="StunMessage"/>): the constructor
/// writes the header, each <c>Add…</c> appends one attribute and keeps the header's length field
/// current, so the message is complete after every call. MESSAGE-INTEGRITY and FINGERPRINT are
/// computed over what is written so far and must come last, in that order (RFC 8489 §14.5, §14.7).
/// Padding bytes are zero (§14). The content is ours, not network input, so an undersized
/// buffer or an out-of-range argument is a caller bug and throws <see cref="ArgumentException"/>.
/// Allocation-free. Borrowed: writes into <c>destination</c>, which the caller owns.
/// </summary>
public ref struct StunMessageWriter
{
    /// <summary>SOFTWARE and the ERROR-CODE reason are at most 763 bytes (§14.14, §14.8: fewer than 128 characters).</summary>
    public const int MaxTextBytes = 763;

    private readonly Span<byte> _buffer;
    private readonly byte _padding;
    private int _length;
    private bool _sealed;
    private bool _hasIntegrity;

    /// <summary>Starts a message of <paramref name="type"/> with <paramref name="transactionId"/> at the start of <paramref name="destination"/>.</summary>
    public StunMessageWriter(Span<byte> destination, StunMessageType type, StunTransactionId transactionId)
        : this(destination, type, transactionId, padding: 0)
    {
    }

    /// <summary>
    /// As the public constructor, but pads with <paramref name="padding"/>. Only for reproducing
    /// RFC 5769's vectors byte for byte: they pad with spaces (0x20), which RFC 5389 allowed and
    /// RFC 8489 §14 no longer does for senders.
    /// </summary>
    internal StunMessageWriter(Span<byte> destination, StunMessageType type, StunTransactionId transactionId, byte padding)
    {
        if (destination.Length < StunMessage.HeaderSize)
        {
            throw new ArgumentException(
                $"a STUN message needs at least {StunMessage.HeaderSize} bytes but the destination has {destination.Length}; pass a larger buffer",
                nameof(destination));
        }

        _buffer = destination;
        _padding = padding;
        _length = StunMessage.HeaderSize;
        _sealed = false;
        _hasIntegrity = false;
        BinaryPrimitives.WriteUInt16BigEndian(destination, type.Value);
        BinaryPrimitives.WriteUInt16BigEndian(destination[StunMessage.LengthOffset..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[StunMessage.CookieOffset..], StunMessage.MagicCookie);
        transactionId.WriteTo(destination[StunMessage.TransactionIdOffset..]);
    }

    /// <summary>Bytes written so far: the complete message.</summary>
    public readonly int Length => _length;

    /// <summary>The message written so far.</summary>
    public readonly Span<byte> Written => _buffer[.._length];

    /// <summary>Appends an attribute with a raw value (padded to 4 bytes).</summary>
    public void AddAttribute(ushort type, scoped ReadOnlySpan<byte> value)
    {
        Span<byte> destination = Reserve(type, value.Length);
        value.CopyTo(destination);
    }

    /// <summary>XOR-MAPPED-ADDRESS (§14.2): what a Binding success response reports.</summary>
    public void AddXorMappedAddress(UdpEndpoint endpoint)
    {
        Span<byte> value = Reserve(StunAttributeType.XorMappedAddress, StunAddressCodec.ValueSize(endpoint));
        StunAddressCodec.Encode(endpoint, _buffer.Slice(StunMessage.CookieOffset, 16), value);
    }

    /// <summary>MAPPED-ADDRESS (§14.1), for clients that predate RFC 5389.</summary>
    public void AddMappedAddress(UdpEndpoint endpoint)
    {
        Span<byte> value = Reserve(StunAttributeType.MappedAddress, StunAddressCodec.ValueSize(endpoint));
        StunAddressCodec.Encode(endpoint, default, value);
    }

    /// <summary>SOFTWARE (§14.14) from UTF-8 bytes (at most <see cref="MaxTextBytes"/>).</summary>
    public void AddSoftware(scoped ReadOnlySpan<byte> utf8)
    {
        CheckText(utf8.Length, "SOFTWARE");
        AddAttribute(StunAttributeType.Software, utf8);
    }

    /// <summary>SOFTWARE (§14.14) from text, encoded as UTF-8.</summary>
    public void AddSoftware(scoped ReadOnlySpan<char> text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        CheckText(length, "SOFTWARE");
        Encoding.UTF8.GetBytes(text, Reserve(StunAttributeType.Software, length));
    }

    /// <summary>ERROR-CODE (§14.8): <paramref name="code"/> 300–699 and a short UTF-8 reason phrase.</summary>
    public void AddErrorCode(int code, scoped ReadOnlySpan<char> reason)
    {
        if (code is < 300 or > 699)
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "a STUN error code is 300-699 (RFC 8489 §14.8)");
        }

        int reasonLength = Encoding.UTF8.GetByteCount(reason);
        CheckText(reasonLength, "the ERROR-CODE reason phrase");
        Span<byte> value = Reserve(StunAttributeType.ErrorCode, 4 + reasonLength);
        value[0] = 0;
        value[1] = 0;
        value[2] = (byte)(code / 100);
        value[3] = (byte)(code % 100);
        Encoding.UTF8.GetBytes(reason, value[4..]);
    }

    /// <summary>UNKNOWN-ATTRIBUTES (§14.9): the comprehension-required types a 420 response rejects.</summary>
    public void AddUnknownAttributes(scoped ReadOnlySpan<ushort> types)
    {
        Span<byte> value = Reserve(StunAttributeType.UnknownAttributes, 2 * types.Length);
        for (int i = 0; i < types.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(value[(2 * i)..], types[i]);
        }
    }

    /// <summary>
    /// MESSAGE-INTEGRITY (§14.5): HMAC-SHA1 with <paramref name="key"/> (<see cref="StunCredentials"/>)
    /// over everything written so far, the length field already counting this attribute. Only
    /// FINGERPRINT may follow.
    /// </summary>
    public void AddMessageIntegrity(scoped ReadOnlySpan<byte> key)
    {
        int covered = _length;
        Span<byte> value = Reserve(StunAttributeType.MessageIntegrity, StunMessage.MessageIntegrityLength);
        HMACSHA1.HashData(key, _buffer[..covered], value);
        _hasIntegrity = true;
    }

    /// <summary>FINGERPRINT (§14.7): CRC-32 of everything written so far XOR 0x5354554E. Must be last.</summary>
    public void AddFingerprint()
    {
        int covered = _length;
        Span<byte> value = Reserve(StunAttributeType.Fingerprint, 4);
        BinaryPrimitives.WriteUInt32BigEndian(value, StunCrc32.Compute(_buffer[..covered]) ^ StunMessage.FingerprintXor);
        _sealed = true;
    }

    /// <summary>
    /// A Binding request (§6.1) ending in FINGERPRINT, with SOFTWARE when
    /// <paramref name="softwareUtf8"/> is not empty. Returns the length (20 + attributes).
    /// </summary>
    public static int WriteBindingRequest(Span<byte> destination, StunTransactionId transactionId, ReadOnlySpan<byte> softwareUtf8 = default)
    {
        var writer = new StunMessageWriter(destination, StunMessageType.BindingRequest, transactionId);
        if (!softwareUtf8.IsEmpty)
        {
            writer.AddSoftware(softwareUtf8);
        }

        writer.AddFingerprint();
        return writer.Length;
    }

    /// <summary>
    /// A Binding success response (§6.3.1.1): XOR-MAPPED-ADDRESS = <paramref name="mapped"/> (the
    /// request's source as the server saw it), SOFTWARE when given, FINGERPRINT. Returns the length.
    /// </summary>
    public static int WriteBindingSuccess(Span<byte> destination, StunTransactionId transactionId, UdpEndpoint mapped, ReadOnlySpan<byte> softwareUtf8 = default)
    {
        var writer = new StunMessageWriter(destination, StunMessageType.BindingSuccess, transactionId);
        if (!softwareUtf8.IsEmpty)
        {
            writer.AddSoftware(softwareUtf8);
        }

        writer.AddXorMappedAddress(mapped);
        writer.AddFingerprint();
        return writer.Length;
    }

    /// <summary>
    /// An error response (§6.3.1.2) for <paramref name="method"/>: ERROR-CODE, UNKNOWN-ATTRIBUTES
    /// when <paramref name="unknownAttributes"/> is not empty (420, §14.9), SOFTWARE when given,
    /// FINGERPRINT. Returns the length.
    /// </summary>
    public static int WriteErrorResponse(
        Span<byte> destination,
        StunMethod method,
        StunTransactionId transactionId,
        int code,
        ReadOnlySpan<char> reason,
        ReadOnlySpan<ushort> unknownAttributes = default,
        ReadOnlySpan<byte> softwareUtf8 = default)
    {
        var writer = new StunMessageWriter(destination, new StunMessageType(method, StunClass.ErrorResponse), transactionId);
        if (!softwareUtf8.IsEmpty)
        {
            writer.AddSoftware(softwareUtf8);
        }

        writer.AddErrorCode(code, reason);
        if (!unknownAttributes.IsEmpty)
        {
            writer.AddUnknownAttributes(unknownAttributes);
        }

        writer.AddFingerprint();
        return writer.Length;
    }

    // Appends the attribute header, pads, updates the length field; returns the value's span.
    private Span<byte> Reserve(ushort type, int valueLength)
    {
        if (_sealed)
        {
            throw new InvalidOperationException("FINGERPRINT must be the last attribute (RFC 8489 §14.7); add attributes before it");
        }

        if (_hasIntegrity && type != StunAttributeType.Fingerprint)
        {
            throw new InvalidOperationException(
                $"attribute 0x{type:x4} after MESSAGE-INTEGRITY would be ignored by receivers (RFC 8489 §14.5); only FINGERPRINT may follow it");
        }

        int total = StunMessage.AttributeHeaderSize + StunMessage.Padded(valueLength);
        if (valueLength > ushort.MaxValue || _length + total > Math.Min(_buffer.Length, StunMessage.MaxSize))
        {
            throw new ArgumentException(
                $"attribute 0x{type:x4} with a {valueLength}-byte value does not fit: {_length} of {Math.Min(_buffer.Length, StunMessage.MaxSize)} bytes used; pass a larger buffer");
        }

        Span<byte> attribute = _buffer.Slice(_length, total);
        BinaryPrimitives.WriteUInt16BigEndian(attribute, type);
        BinaryPrimitives.WriteUInt16BigEndian(attribute[2..], (ushort)valueLength);
        attribute[(StunMessage.AttributeHeaderSize + valueLength)..].Fill(_padding);
        _length += total;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[StunMessage.LengthOffset..], (ushort)(_length - StunMessage.HeaderSize));
        return attribute.Slice(StunMessage.AttributeHeaderSize, valueLength);
    }

    private static void CheckText(int byteCount, string what)
    {
        if (byteCount > MaxTextBytes)
        {
            throw new ArgumentException($"{what} is {byteCount} bytes of UTF-8; RFC 8489 allows at most {MaxTextBytes}");
        }
    }
}
