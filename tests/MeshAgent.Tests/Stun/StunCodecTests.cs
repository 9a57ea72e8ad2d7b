using System.Buffers.Binary;
using System.Net;
using System.Text;
using MeshAgent.Core.Net;
using MeshAgent.Core.Stun;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Stun;

/// <summary>
/// The STUN codec's rules one by one (RFC 8489 §5, §14): message type interleaving, the
/// "looks like STUN" test, layout validation, FINGERPRINT placement, the attributes that count
/// after MESSAGE-INTEGRITY, ERROR-CODE and UNKNOWN-ATTRIBUTES, writer misuse, and no allocation.
/// </summary>
public sealed class StunCodecTests
{
    private static readonly StunTransactionId Id = StunTransactionId.Read(Convert.FromHexString("0102030405060708090a0b0c"));

    [Fact]
    public void Crc32_matches_the_catalogue_check_value()
    {
        VectorCase v = VectorFile.Load("Stun", "crc32-check.txt").Single();
        Assert.Equal(Convert.ToUInt32(v.Text("crc32-iso-hdlc"), 16), StunCrc32.Compute(Encoding.ASCII.GetBytes(v.Text("input"))));
    }

    [Fact]
    public void Binding_types_have_the_rfc_values()
    {
        Assert.Equal(0x0001, StunMessageType.BindingRequest.Value);
        Assert.Equal(0x0011, StunMessageType.BindingIndication.Value);
        Assert.Equal(0x0101, StunMessageType.BindingSuccess.Value);
        Assert.Equal(0x0111, StunMessageType.BindingError.Value);
    }

    [Fact]
    public void Every_method_and_class_round_trips_through_the_type_field()
    {
        var seen = new HashSet<ushort>();
        for (int method = 0; method < 0x1000; method++)
        {
            foreach (StunClass cls in Enum.GetValues<StunClass>())
            {
                var type = new StunMessageType((StunMethod)method, cls);
                ushort value = type.Value;
                Assert.Equal(0, value & 0xC000);
                Assert.True(seen.Add(value), $"0x{value:x4} produced twice");
                Assert.Equal(type, StunMessageType.FromValue(value));
            }
        }

        Assert.Equal(0x4000, seen.Count); // a bijection onto the 14-bit space
    }

    [Fact]
    public void LooksLikeStun_requires_each_header_rule()
    {
        byte[] valid = Request();
        Assert.True(StunMessage.LooksLikeStun(valid));

        Assert.False(StunMessage.LooksLikeStun(valid.AsSpan(0, 19)));
        Assert.False(StunMessage.LooksLikeStun(With(valid, 0, 0x40))); // top bits 01
        Assert.False(StunMessage.LooksLikeStun(With(valid, 0, 0x80))); // top bits 10
        Assert.False(StunMessage.LooksLikeStun(With(valid, 4, 0x22))); // cookie
        Assert.False(StunMessage.LooksLikeStun(With(valid, 7, 0x43)));
        Assert.False(StunMessage.LooksLikeStun([.. valid, 0, 0, 0, 0])); // datagram longer than the length field says
        byte[] odd = [.. valid, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(odd.AsSpan(2), (ushort)(odd.Length - 20)); // length not a multiple of 4
        Assert.False(StunMessage.LooksLikeStun(odd));
    }

    [Fact]
    public void Attribute_running_past_the_end_is_malformed()
    {
        byte[] message = Request();
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(22), 8); // FINGERPRINT claims 8 bytes of the 4 present
        Assert.Equal(StunReadResult.MalformedAttribute, StunMessage.TryRead(message, out _));

        byte[] header = Header(StunMessageType.BindingRequest, 4);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(20), 0x8022);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(22), 1); // 1 byte + 3 padding = 4 more than the 0 left
        Assert.Equal(StunReadResult.MalformedAttribute, StunMessage.TryRead(header, out _));
    }

    [Fact]
    public void Message_integrity_of_the_wrong_length_is_malformed()
    {
        var writer = new StunMessageWriter(new byte[64], StunMessageType.BindingRequest, Id);
        writer.AddAttribute(StunAttributeType.MessageIntegrity, new byte[16]);
        Assert.Equal(StunReadResult.MalformedAttribute, StunMessage.TryRead(writer.Written, out _));
    }

    [Fact]
    public void Fingerprint_must_be_last_four_bytes_and_correct()
    {
        byte[] good = Request();
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(good, out StunMessage m));
        Assert.True(m.HasFingerprint);

        Assert.Equal(StunReadResult.BadFingerprint, StunMessage.TryRead(With(good, good.Length - 1, (byte)(good[^1] ^ 1)), out _));

        // A valid FINGERPRINT followed by another attribute.
        var buffer = new byte[64];
        good.CopyTo(buffer, 0);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(good.Length), 0x8888);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), (ushort)(good.Length + 4 - 20));
        Assert.Equal(StunReadResult.BadFingerprint, StunMessage.TryRead(buffer.AsSpan(0, good.Length + 4), out _));

        var writer = new StunMessageWriter(new byte[64], StunMessageType.BindingRequest, Id);
        writer.AddAttribute(StunAttributeType.Fingerprint, new byte[8]);
        Assert.Equal(StunReadResult.BadFingerprint, StunMessage.TryRead(writer.Written, out _));
    }

    [Fact]
    public void Unknown_optional_attributes_are_skipped_and_unknown_required_ones_reported()
    {
        var writer = new StunMessageWriter(new byte[128], StunMessageType.BindingSuccess, Id);
        writer.AddAttribute(0x8888, [1, 2, 3]);
        writer.AddXorMappedAddress(Endpoint("203.0.113.7:4242"));
        writer.AddFingerprint();
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(writer.Written, out StunMessage m));
        Assert.True(m.TryGetXorMappedAddress(out UdpEndpoint mapped));
        Assert.Equal(Endpoint("203.0.113.7:4242"), mapped);
        Assert.False(m.HasUnknownComprehensionRequired);

        writer = new StunMessageWriter(new byte[128], StunMessageType.BindingRequest, Id);
        writer.AddAttribute(0x0003, [0, 0, 0, 6]); // RFC 5780 CHANGE-REQUEST
        writer.AddAttribute(StunAttributeType.Username, "user"u8);
        writer.AddAttribute(0x7777, []);
        writer.AddAttribute(0x0003, [0, 0, 0, 2]);
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(writer.Written, out m));
        Assert.True(m.HasUnknownComprehensionRequired);
        Span<ushort> unknown = stackalloc ushort[8];
        Assert.Equal(2, m.GetUnknownComprehensionRequired(unknown));
        Assert.Equal([(ushort)0x0003, (ushort)0x7777], unknown[..2].ToArray());
        Assert.Equal(1, m.GetUnknownComprehensionRequired(unknown[..1]));
    }

    [Fact]
    public void Attributes_after_message_integrity_are_ignored_except_fingerprint()
    {
        byte[] key = "secret"u8.ToArray();
        var writer = new StunMessageWriter(new byte[128], StunMessageType.BindingSuccess, Id);
        writer.AddXorMappedAddress(Endpoint("192.0.2.1:1000"));
        writer.AddMessageIntegrity(key);
        int integrityEnd = writer.Length;
        writer.AddFingerprint();
        byte[] signed = writer.Written.ToArray();

        // Splice an unauthenticated SOFTWARE and XOR-MAPPED-ADDRESS between MESSAGE-INTEGRITY and FINGERPRINT.
        var spliced = new StunMessageWriter(new byte[256], StunMessageType.BindingSuccess, Id);
        spliced.AddXorMappedAddress(Endpoint("192.0.2.1:1000"));
        spliced.AddAttribute(StunAttributeType.MessageIntegrity, signed.AsSpan(integrityEnd - 20, 20));
        spliced.AddSoftware("injected");
        spliced.AddXorMappedAddress(Endpoint("198.51.100.66:6666"));
        spliced.AddFingerprint();

        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(spliced.Written, out StunMessage m));
        Assert.True(m.VerifyMessageIntegrity(key)); // the covered part is unchanged
        Assert.False(m.TryGetSoftware(out _));
        Assert.True(m.TryGetXorMappedAddress(out UdpEndpoint mapped));
        Assert.Equal(Endpoint("192.0.2.1:1000"), mapped);
        Assert.True(m.TryGetAttribute(StunAttributeType.Fingerprint, out _));

        int all = 0;
        foreach (StunAttribute unused in m.Attributes)
        {
            all++;
        }

        Assert.Equal(5, all); // the enumerator itself shows everything on the wire
    }

    [Fact]
    public void Only_the_first_occurrence_of_an_attribute_counts()
    {
        var writer = new StunMessageWriter(new byte[128], StunMessageType.BindingSuccess, Id);
        writer.AddXorMappedAddress(Endpoint("192.0.2.1:1"));
        writer.AddXorMappedAddress(Endpoint("192.0.2.2:2"));
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(writer.Written, out StunMessage m));
        Assert.True(m.TryGetXorMappedAddress(out UdpEndpoint mapped));
        Assert.Equal(Endpoint("192.0.2.1:1"), mapped);
    }

    [Theory]
    [InlineData(300, "Try Alternate")]
    [InlineData(400, "Bad Request")]
    [InlineData(420, "Unknown Attribute")]
    [InlineData(487, "")]
    [InlineData(699, "Ünïcödé réason 日本")]
    public void Error_response_round_trips_code_and_reason(int code, string reason)
    {
        var buffer = new byte[StunResponder.MaxResponseSize];
        ushort[] unknown = [0x0024, 0x0003, 0x7001];
        int length = StunMessageWriter.WriteErrorResponse(buffer, StunMethod.Binding, Id, code, reason, unknown);
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(buffer.AsSpan(0, length), out StunMessage m));
        Assert.Equal(StunMessageType.BindingError, m.Type);
        Assert.True(m.TryGetErrorCode(out int readCode, out ReadOnlySpan<byte> readReason));
        Assert.Equal(code, readCode);
        Assert.Equal(reason, Encoding.UTF8.GetString(readReason));
        Span<ushort> listed = stackalloc ushort[8];
        Assert.Equal(3, m.GetUnknownAttributes(listed)); // odd count: two bytes of padding, ignored
        Assert.Equal(unknown, listed[..3].ToArray());
        Assert.True(m.HasFingerprint);
    }

    [Fact]
    public void Error_code_outside_classes_3_to_6_or_numbers_above_99_is_not_read()
    {
        foreach ((byte cls, byte number) in new (byte, byte)[] { (2, 0), (7, 0), (4, 100), (0, 0) })
        {
            var writer = new StunMessageWriter(new byte[64], StunMessageType.BindingError, Id);
            writer.AddAttribute(StunAttributeType.ErrorCode, [0, 0, cls, number]);
            Assert.Equal(StunReadResult.Success, StunMessage.TryRead(writer.Written, out StunMessage m));
            Assert.False(m.TryGetErrorCode(out _, out _), $"class {cls} number {number}");
        }
    }

    [Fact]
    public void Address_of_the_wrong_family_or_length_is_not_decoded()
    {
        foreach (byte[] value in new byte[][] { [0, 1, 0, 80, 1, 2, 3], [0, 2, 0, 80, 1, 2, 3, 4], [0, 3, 0, 80, 1, 2, 3, 4], [0, 1, 0] })
        {
            var writer = new StunMessageWriter(new byte[64], StunMessageType.BindingSuccess, Id);
            writer.AddAttribute(StunAttributeType.XorMappedAddress, value);
            writer.AddAttribute(StunAttributeType.MappedAddress, value);
            Assert.Equal(StunReadResult.Success, StunMessage.TryRead(writer.Written, out StunMessage m));
            Assert.False(m.TryGetXorMappedAddress(out _));
            Assert.False(m.TryGetMappedAddress(out _));
        }
    }

    [Fact]
    public void Mapped_address_is_plain_and_xor_mapped_address_is_not()
    {
        var writer = new StunMessageWriter(new byte[128], StunMessageType.BindingSuccess, Id);
        writer.AddMappedAddress(Endpoint("[2001:db8::1]:3478"));
        writer.AddXorMappedAddress(Endpoint("[2001:db8::1]:3478"));
        byte[] message = writer.Written.ToArray();
        Assert.Equal(Convert.FromHexString("00020d9620010db8000000000000000000000001"), message.AsSpan(24, 20).ToArray());
        Assert.NotEqual(message.AsSpan(24, 20).ToArray(), message.AsSpan(48, 20).ToArray());
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(message, out StunMessage m));
        Assert.True(m.TryGetMappedAddress(out UdpEndpoint plain));
        Assert.True(m.TryGetXorMappedAddress(out UdpEndpoint xored));
        Assert.Equal(plain, xored);
    }

    [Fact]
    public void Writer_rejects_misuse()
    {
        Assert.Throws<ArgumentException>(() => new StunMessageWriter(new byte[19], StunMessageType.BindingRequest, Id));
        Assert.Throws<ArgumentException>(() =>
        {
            var w = new StunMessageWriter(new byte[30], StunMessageType.BindingRequest, Id);
            w.AddSoftware("too long for 30 bytes");
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            var w = new StunMessageWriter(new byte[64], StunMessageType.BindingRequest, Id);
            w.AddFingerprint();
            w.AddSoftware("x");
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            var w = new StunMessageWriter(new byte[64], StunMessageType.BindingRequest, Id);
            w.AddMessageIntegrity("k"u8);
            w.AddSoftware("x");
        });
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            var w = new StunMessageWriter(new byte[64], StunMessageType.BindingError, Id);
            w.AddErrorCode(700, "no");
        });
        Assert.Throws<ArgumentException>(() =>
        {
            var w = new StunMessageWriter(new byte[2000], StunMessageType.BindingRequest, Id);
            w.AddSoftware(new string('x', 764));
        });
    }

    [Fact]
    public void Binding_request_is_28_bytes_and_ends_with_a_fingerprint()
    {
        var buffer = new byte[64];
        int length = StunMessageWriter.WriteBindingRequest(buffer, Id);
        Assert.Equal(28, length);
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(buffer.AsSpan(0, length), out StunMessage m));
        Assert.Equal(StunMessageType.BindingRequest, m.Type);
        Assert.Equal(Id, m.TransactionId);
        Assert.True(m.HasFingerprint);
    }

    [Fact]
    public void Parsing_a_response_allocates_nothing()
    {
        var buffer = new byte[StunResponder.MaxResponseSize];
        int length = StunMessageWriter.WriteBindingSuccess(buffer, Id, Endpoint("[2001:db8::5]:5000"), "meshagent"u8);
        byte[] message = buffer[..length];
        Span<ushort> unknown = stackalloc ushort[4];
        long sum = Parse(message, unknown); // warm up (JIT, static tables)

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            sum += Parse(message, unknown);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1001L * (5000 + 9 + 2), sum);

        static long Parse(byte[] message, Span<ushort> unknown)
        {
            if (StunMessage.TryRead(message, out StunMessage m) != StunReadResult.Success
                || !m.TryGetXorMappedAddress(out UdpEndpoint mapped)
                || !m.TryGetSoftware(out ReadOnlySpan<byte> software))
            {
                return -1;
            }

            int attributes = 0;
            foreach (StunAttribute attribute in m.Attributes)
            {
                attributes += attribute.Type == 0 ? 0 : 1;
            }

            return mapped.Port + software.Length + m.GetUnknownComprehensionRequired(unknown) + attributes - 1
                + (m.TransactionId == Id ? 0 : 1000);
        }
    }

    internal static UdpEndpoint Endpoint(string text) => UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse(text));

    private static byte[] Request()
    {
        var buffer = new byte[64];
        int length = StunMessageWriter.WriteBindingRequest(buffer, Id);
        return buffer[..length];
    }

    private static byte[] Header(StunMessageType type, int bodyLength)
    {
        var message = new byte[20 + bodyLength];
        BinaryPrimitives.WriteUInt16BigEndian(message, type.Value);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)bodyLength);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), StunMessage.MagicCookie);
        Id.WriteTo(message.AsSpan(8));
        return message;
    }

    private static byte[] With(byte[] message, int index, byte value)
    {
        byte[] copy = (byte[])message.Clone();
        copy[index] = value;
        return copy;
    }
}
