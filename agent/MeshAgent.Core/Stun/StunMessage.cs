using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using MeshAgent.Core.Net;

namespace MeshAgent.Core.Stun;

/// <summary>
/// Read-only view of a STUN message (RFC 8489 §5) received in one UDP datagram.
/// <code>
///  0                   1                   2                   3
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |0 0|     STUN Message Type     |         Message Length        |   0
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Magic Cookie = 0x2112A442                   |   4
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  Transaction ID (96 bits)                     |   8
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  attributes: Type (16) | Length (16) | Value, padded to 4     |  20
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// Message Length counts the bytes after the header, attributes and their padding (§14: values
/// are padded to a multiple of 4 with bytes that the receiver ignores). <see cref="TryRead"/>
/// validates the layout once and checks FINGERPRINT; the accessors then walk the attributes lazily.
/// Nothing here allocates or throws on network input. Borrowed: the view is valid only while
/// the datagram buffer it was read from is.
/// </summary>
public readonly ref struct StunMessage
{
    public const int HeaderSize = 20;
    public const int AttributeHeaderSize = 4;
    public const uint MagicCookie = 0x2112A442;

    /// <summary>RFC 8489 §14.7: the CRC-32 in FINGERPRINT is XOR-ed with "STUN".</summary>
    public const uint FingerprintXor = 0x5354554E;

    /// <summary>Size of the FINGERPRINT attribute: header and the 4-byte CRC.</summary>
    public const int FingerprintAttributeSize = AttributeHeaderSize + 4;

    /// <summary>Size of the MESSAGE-INTEGRITY attribute: header and the 20-byte HMAC-SHA1.</summary>
    public const int MessageIntegrityAttributeSize = AttributeHeaderSize + MessageIntegrityLength;

    public const int MessageIntegrityLength = 20;

    /// <summary>Largest message: the 16-bit length field holds at most 0xFFFC (a multiple of 4).</summary>
    public const int MaxSize = HeaderSize + 0xFFFC;

    internal const int LengthOffset = 2;
    internal const int CookieOffset = 4;
    internal const int TransactionIdOffset = 8;

    // Above this, integrity verification borrows its scratch copy from the array pool instead of the stack.
    private const int MaxStackScratch = 1024;

    private readonly ReadOnlySpan<byte> _datagram;

    // Offsets of attribute headers, or -1: the first MESSAGE-INTEGRITY, the first integrity attribute
    // of either kind (after which other attributes are ignored, §14.5/§14.6), and FINGERPRINT.
    private readonly int _integrityOffset;
    private readonly int _firstIntegrityOffset;
    private readonly int _fingerprintOffset;

    private StunMessage(ReadOnlySpan<byte> datagram, int integrityOffset, int firstIntegrityOffset, int fingerprintOffset)
    {
        _datagram = datagram;
        _integrityOffset = integrityOffset;
        _firstIntegrityOffset = firstIntegrityOffset;
        _fingerprintOffset = fingerprintOffset;
    }

    /// <summary>
    /// The demultiplexing test for the agent's shared UDP port (DESIGN §2): at least a header,
    /// top two bits of byte 0 zero, the magic cookie at bytes 4–8, and a length field that is a
    /// multiple of 4 and equals the datagram size minus the header. Total and allocation-free.
    /// It cannot claim a WireGuard message: those start with type 1–4 and three zero bytes, so
    /// their STUN length field would be 0 and the datagram 20 bytes, and no WireGuard message is
    /// that short (the smallest, transport data, is 32). Nor a join message ('m' = 0x6D has bit 6 set).
    /// </summary>
    public static bool LooksLikeStun(ReadOnlySpan<byte> datagram) =>
        datagram.Length >= HeaderSize
        && (datagram[0] & 0xC0) == 0
        && BinaryPrimitives.ReadUInt32BigEndian(datagram[CookieOffset..]) == MagicCookie
        && BinaryPrimitives.ReadUInt16BigEndian(datagram[LengthOffset..]) is var length
        && (length & 3) == 0
        && length == datagram.Length - HeaderSize;

    /// <summary>
    /// Parses <paramref name="datagram"/> (exactly one message, as UDP delivers it). Validates
    /// every attribute's bounds, the MESSAGE-INTEGRITY length, and FINGERPRINT when present
    /// (4 bytes, last, CRC-32 matches). Never throws; no allocation.
    /// </summary>
    public static StunReadResult TryRead(ReadOnlySpan<byte> datagram, out StunMessage message)
    {
        message = default;
        if (!LooksLikeStun(datagram))
        {
            return StunReadResult.NotStun;
        }

        int integrityOffset = -1;
        int firstIntegrityOffset = -1;
        int fingerprintOffset = -1;
        int offset = HeaderSize;
        while (offset < datagram.Length)
        {
            if (datagram.Length - offset < AttributeHeaderSize)
            {
                return StunReadResult.MalformedAttribute;
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(datagram[offset..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(datagram[(offset + 2)..]);
            if (Padded(length) > datagram.Length - offset - AttributeHeaderSize)
            {
                return StunReadResult.MalformedAttribute;
            }

            if (fingerprintOffset >= 0)
            {
                return StunReadResult.BadFingerprint; // §14.7: FINGERPRINT MUST be the last attribute
            }

            switch (type)
            {
                case StunAttributeType.MessageIntegrity:
                    if (length != MessageIntegrityLength)
                    {
                        return StunReadResult.MalformedAttribute;
                    }

                    if (integrityOffset < 0)
                    {
                        integrityOffset = offset;
                    }

                    if (firstIntegrityOffset < 0)
                    {
                        firstIntegrityOffset = offset;
                    }

                    break;
                case StunAttributeType.MessageIntegritySha256:
                    if (firstIntegrityOffset < 0)
                    {
                        firstIntegrityOffset = offset;
                    }

                    break;
                case StunAttributeType.Fingerprint:
                    if (length != 4)
                    {
                        return StunReadResult.BadFingerprint;
                    }

                    fingerprintOffset = offset;
                    break;
            }

            offset += AttributeHeaderSize + Padded(length);
        }

        if (fingerprintOffset >= 0)
        {
            uint expected = StunCrc32.Compute(datagram[..fingerprintOffset]) ^ FingerprintXor;
            if (BinaryPrimitives.ReadUInt32BigEndian(datagram[(fingerprintOffset + AttributeHeaderSize)..]) != expected)
            {
                return StunReadResult.BadFingerprint;
            }
        }

        message = new StunMessage(datagram, integrityOffset, firstIntegrityOffset, fingerprintOffset);
        return StunReadResult.Success;
    }

    /// <summary>The whole message.</summary>
    public ReadOnlySpan<byte> Datagram => _datagram;

    public StunMessageType Type => StunMessageType.FromValue(BinaryPrimitives.ReadUInt16BigEndian(_datagram));

    public StunMethod Method => Type.Method;

    public StunClass Class => Type.Class;

    public StunTransactionId TransactionId => StunTransactionId.Read(TransactionIdBytes);

    public ReadOnlySpan<byte> TransactionIdBytes => _datagram.Slice(TransactionIdOffset, StunTransactionId.Size);

    /// <summary>True when the message carries FINGERPRINT; <see cref="TryRead"/> has already verified it.</summary>
    public bool HasFingerprint => _fingerprintOffset >= 0;

    /// <summary>True when the message carries MESSAGE-INTEGRITY (verify with <see cref="VerifyMessageIntegrity"/>).</summary>
    public bool HasMessageIntegrity => _integrityOffset >= 0;

    /// <summary>Every attribute in wire order (see <see cref="StunAttributeEnumerator"/>).</summary>
    public StunAttributeEnumerator Attributes => new(_datagram);

    /// <summary>
    /// The value of the first attribute of <paramref name="type"/> that counts: per RFC 8489
    /// §14.5/§14.6, attributes after the first MESSAGE-INTEGRITY(-SHA256) are ignored, except
    /// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT. Only the first occurrence of a type is used (§14).
    /// </summary>
    public bool TryGetAttribute(ushort type, out ReadOnlySpan<byte> value)
    {
        foreach (StunAttribute attribute in Attributes)
        {
            if (IsIgnored(attribute))
            {
                continue;
            }

            if (attribute.Type == type)
            {
                value = attribute.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>XOR-MAPPED-ADDRESS (§14.2), decoded; false when absent or malformed.</summary>
    public bool TryGetXorMappedAddress(out UdpEndpoint endpoint)
    {
        endpoint = default;
        return TryGetAttribute(StunAttributeType.XorMappedAddress, out ReadOnlySpan<byte> value)
            && StunAddressCodec.TryDecode(value, _datagram.Slice(CookieOffset, 16), out endpoint);
    }

    /// <summary>MAPPED-ADDRESS (§14.1): only servers that predate RFC 5389 send it instead of the XOR form.</summary>
    public bool TryGetMappedAddress(out UdpEndpoint endpoint)
    {
        endpoint = default;
        return TryGetAttribute(StunAttributeType.MappedAddress, out ReadOnlySpan<byte> value)
            && StunAddressCodec.TryDecode(value, default, out endpoint);
    }

    /// <summary>SOFTWARE (§14.14): UTF-8 text naming the sender's implementation, unvalidated.</summary>
    public bool TryGetSoftware(out ReadOnlySpan<byte> utf8) => TryGetAttribute(StunAttributeType.Software, out utf8);

    /// <summary>
    /// ERROR-CODE (§14.8): code 300–699 (class 3–6 × 100 + number 0–99) and the UTF-8 reason
    /// phrase. False when absent or when class or number is out of range.
    /// <code>
    /// |           Reserved, should be 0         |Class|     Number    |
    /// |      Reason Phrase (variable) ...
    /// </code>
    /// </summary>
    public bool TryGetErrorCode(out int code, out ReadOnlySpan<byte> reasonUtf8)
    {
        code = 0;
        reasonUtf8 = default;
        if (!TryGetAttribute(StunAttributeType.ErrorCode, out ReadOnlySpan<byte> value) || value.Length < 4)
        {
            return false;
        }

        int errorClass = value[2] & 0x07;
        int number = value[3];
        if (errorClass is < 3 or > 6 || number > 99)
        {
            return false;
        }

        code = errorClass * 100 + number;
        reasonUtf8 = value[4..];
        return true;
    }

    /// <summary>
    /// UNKNOWN-ATTRIBUTES (§14.9): copies up to <c>destination.Length</c> types and returns how many
    /// the attribute lists in total; −1 when the attribute is absent. An odd trailing byte is ignored.
    /// </summary>
    public int GetUnknownAttributes(Span<ushort> destination)
    {
        if (!TryGetAttribute(StunAttributeType.UnknownAttributes, out ReadOnlySpan<byte> value))
        {
            return -1;
        }

        int count = value.Length / 2;
        for (int i = 0; i < count && i < destination.Length; i++)
        {
            destination[i] = BinaryPrimitives.ReadUInt16BigEndian(value[(2 * i)..]);
        }

        return count;
    }

    /// <summary>
    /// True when the message has a comprehension-required attribute (§14: type &lt; 0x8000) that
    /// RFC 8489 does not define (<see cref="StunAttributeType.IsDefinedByRfc8489"/>). A server
    /// answers such a request with 420 (§6.3.1); a client fails such a response (§7.3.3, §7.3.4).
    /// </summary>
    public bool HasUnknownComprehensionRequired
    {
        get
        {
            foreach (StunAttribute attribute in Attributes)
            {
                if (IsUnknownComprehensionRequired(attribute))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// Copies the distinct unknown comprehension-required attribute types (see
    /// <see cref="HasUnknownComprehensionRequired"/>), in wire order, until
    /// <paramref name="destination"/> is full; returns how many were copied. Linear in the number
    /// of attributes times the destination size, so a hostile message with thousands of attributes
    /// costs no more than one walk per slot.
    /// </summary>
    public int GetUnknownComprehensionRequired(Span<ushort> destination)
    {
        int count = 0;
        foreach (StunAttribute attribute in Attributes)
        {
            if (count == destination.Length)
            {
                break;
            }

            if (IsUnknownComprehensionRequired(attribute) && !destination[..count].Contains(attribute.Type))
            {
                destination[count++] = attribute.Type;
            }
        }

        return count;
    }

    /// <summary>
    /// Checks MESSAGE-INTEGRITY (§14.5): HMAC-SHA1 keyed with <paramref name="key"/> over the
    /// message up to the attribute, with the header's length field set as if MESSAGE-INTEGRITY were
    /// the last attribute. Keys: <see cref="StunCredentials"/>. False when absent or wrong;
    /// constant-time comparison. Allocation-free up to 1 KiB of covered bytes, pooled above.
    /// </summary>
    public bool VerifyMessageIntegrity(ReadOnlySpan<byte> key)
    {
        if (_integrityOffset < 0)
        {
            return false;
        }

        int covered = _integrityOffset;
        byte[]? rented = null;
        Span<byte> scratch = covered <= MaxStackScratch
            ? stackalloc byte[MaxStackScratch]
            : (rented = ArrayPool<byte>.Shared.Rent(covered));
        try
        {
            Span<byte> input = scratch[..covered];
            _datagram[..covered].CopyTo(input);
            BinaryPrimitives.WriteUInt16BigEndian(input[LengthOffset..], (ushort)(covered + MessageIntegrityAttributeSize - HeaderSize));
            Span<byte> mac = stackalloc byte[MessageIntegrityLength];
            HMACSHA1.HashData(key, input, mac);
            return CryptographicOperations.FixedTimeEquals(mac, _datagram.Slice(_integrityOffset + AttributeHeaderSize, MessageIntegrityLength));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Value length rounded up to the 4-byte boundary (§14).</summary>
    internal static int Padded(int length) => (length + 3) & ~3;

    private bool IsIgnored(in StunAttribute attribute) =>
        _firstIntegrityOffset >= 0
        && attribute.Offset > _firstIntegrityOffset
        && attribute.Type is not (StunAttributeType.MessageIntegritySha256 or StunAttributeType.Fingerprint);

    private bool IsUnknownComprehensionRequired(in StunAttribute attribute) =>
        !IsIgnored(attribute)
        && StunAttributeType.IsComprehensionRequired(attribute.Type)
        && !StunAttributeType.IsDefinedByRfc8489(attribute.Type);
}
