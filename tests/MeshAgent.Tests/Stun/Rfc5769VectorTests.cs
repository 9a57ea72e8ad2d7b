using System.Buffers.Binary;
using System.Net;
using System.Text;
using MeshAgent.Core.Net;
using MeshAgent.Core.Stun;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Stun;

/// <summary>
/// RFC 5769 §2.1–§2.4 (Vectors/Stun/rfc5769.txt): each sample parses, its MESSAGE-INTEGRITY and
/// FINGERPRINT verify with the RFC's credentials (and fail with others, or after any one-bit
/// change), XOR-MAPPED-ADDRESS decodes to the address the RFC states, and the writer rebuilds each
/// sample byte for byte from the RFC's parameters.
/// </summary>
public sealed class Rfc5769VectorTests
{
    public static TheoryData<string> Sections => new(VectorFile.Load("Stun", "rfc5769.txt").Select(c => c.Text("section")));

    [Theory]
    [MemberData(nameof(Sections))]
    public void Sample_parses_and_its_integrity_and_fingerprint_verify(string section)
    {
        VectorCase v = Case(section);
        byte[] message = v.Hex("message");

        Assert.True(StunMessage.LooksLikeStun(message));
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(message, out StunMessage m));
        Assert.Equal(Convert.ToUInt16(v.Text("type"), 16), m.Type.Value);
        Assert.Equal(StunMethod.Binding, m.Method);
        Assert.Equal(v.Text("transaction-id"), m.TransactionId.ToString());
        Assert.True(m.HasMessageIntegrity);
        Assert.True(m.VerifyMessageIntegrity(Key(v)), $"{v}: MESSAGE-INTEGRITY does not verify with the RFC's key");
        Assert.False(m.VerifyMessageIntegrity(Encoding.UTF8.GetBytes("not the password")));

        Assert.Equal(v.Has("fingerprint"), m.HasFingerprint);
        if (v.Has("fingerprint"))
        {
            Assert.True(m.TryGetAttribute(StunAttributeType.Fingerprint, out ReadOnlySpan<byte> crc));
            Assert.Equal(v.Text("fingerprint"), Convert.ToHexStringLower(crc));
        }
    }

    [Theory]
    [MemberData(nameof(Sections))]
    public void Every_one_bit_change_is_rejected_by_fingerprint_or_integrity(string section)
    {
        // A receiver that checks MESSAGE-INTEGRITY, and insists on FINGERPRINT where the sample has
        // one (a bit flip in FINGERPRINT's type turns it into an unknown optional attribute, which
        // MESSAGE-INTEGRITY does not cover), must notice every single-bit change, padding included:
        // the HMAC and CRC are computed over the padding as sent.
        VectorCase v = Case(section);
        byte[] original = v.Hex("message");
        byte[] key = Key(v);
        bool expectFingerprint = v.Has("fingerprint");
        for (int bit = 0; bit < original.Length * 8; bit++)
        {
            byte[] changed = (byte[])original.Clone();
            changed[bit / 8] ^= (byte)(1 << (bit % 8));
            bool accepted = StunMessage.TryRead(changed, out StunMessage m) == StunReadResult.Success
                && m.VerifyMessageIntegrity(key)
                && (m.HasFingerprint || !expectFingerprint);
            Assert.False(accepted, $"{v}: flipping bit {bit % 8} of byte {bit / 8} went unnoticed");
        }
    }

    [Fact]
    public void Sample_request_attributes_read_as_the_rfc_states()
    {
        VectorCase v = Case("2.1 Sample Request");
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(v.Hex("message"), out StunMessage m));
        Assert.Equal(StunClass.Request, m.Class);
        Assert.True(m.TryGetSoftware(out ReadOnlySpan<byte> software));
        Assert.Equal(v.Text("software"), Encoding.UTF8.GetString(software));
        Assert.True(m.TryGetAttribute(StunAttributeType.Username, out ReadOnlySpan<byte> username));
        Assert.Equal(v.Text("username"), Encoding.UTF8.GetString(username)); // 9 bytes; the 3 padding spaces are not part of it
        Assert.True(m.TryGetAttribute(StunAttributeType.Priority, out ReadOnlySpan<byte> priority));
        Assert.Equal(v.Text("priority"), Convert.ToHexStringLower(priority));
        Assert.True(m.TryGetAttribute(StunAttributeType.IceControlled, out ReadOnlySpan<byte> controlled));
        Assert.Equal(v.Text("ice-controlled"), Convert.ToHexStringLower(controlled));

        // PRIORITY (0x0024) is ICE's, comprehension-required, and unknown to a plain STUN server.
        Assert.True(m.HasUnknownComprehensionRequired);
        Span<ushort> unknown = stackalloc ushort[4];
        Assert.Equal(1, m.GetUnknownComprehensionRequired(unknown));
        Assert.Equal(StunAttributeType.Priority, unknown[0]);

        var types = new List<ushort>();
        foreach (StunAttribute attribute in m.Attributes)
        {
            types.Add(attribute.Type);
        }

        Assert.Equal(
            [StunAttributeType.Software, StunAttributeType.Priority, StunAttributeType.IceControlled, StunAttributeType.Username, StunAttributeType.MessageIntegrity, StunAttributeType.Fingerprint],
            types);
    }

    [Theory]
    [InlineData("2.2 Sample IPv4 Response")]
    [InlineData("2.3 Sample IPv6 Response")]
    public void Sample_response_decodes_to_the_rfc_address(string section)
    {
        VectorCase v = Case(section);
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(v.Hex("message"), out StunMessage m));
        Assert.Equal(StunClass.SuccessResponse, m.Class);
        Assert.True(m.TryGetXorMappedAddress(out UdpEndpoint mapped));
        Assert.Equal(IPEndPoint.Parse(v.Text("mapped")), mapped.ToIPEndPoint());
        Assert.False(m.TryGetMappedAddress(out _));
        Assert.True(m.TryGetSoftware(out ReadOnlySpan<byte> software));
        Assert.Equal(v.Text("software"), Encoding.UTF8.GetString(software));
        Assert.False(m.HasUnknownComprehensionRequired);
    }

    [Fact]
    public void Long_term_sample_carries_the_rfc_username_realm_and_nonce()
    {
        VectorCase v = Case("2.4 Sample Request with Long-Term Authentication");
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(v.Hex("message"), out StunMessage m));
        Assert.True(m.TryGetAttribute(StunAttributeType.Username, out ReadOnlySpan<byte> username));
        Assert.Equal(v.Text("username-utf8"), Convert.ToHexStringLower(username));
        Assert.Equal("\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9", Encoding.UTF8.GetString(username));
        Assert.True(m.TryGetAttribute(StunAttributeType.Realm, out ReadOnlySpan<byte> realm));
        Assert.Equal(v.Text("realm"), Encoding.UTF8.GetString(realm));
        Assert.True(m.TryGetAttribute(StunAttributeType.Nonce, out ReadOnlySpan<byte> nonce));
        Assert.Equal(v.Text("nonce"), Encoding.UTF8.GetString(nonce));

        // The short-term reading of the same password is not the key.
        Assert.False(m.VerifyMessageIntegrity(StunCredentials.ShortTermKey(v.Text("password"))));
    }

    [Fact]
    public void Writer_rebuilds_the_sample_request()
    {
        VectorCase v = Case("2.1 Sample Request");
        var buffer = new byte[200];
        var writer = new StunMessageWriter(buffer, StunMessageType.BindingRequest, TransactionId(v), padding: Padding(v));
        writer.AddSoftware(v.Text("software"));
        writer.AddAttribute(StunAttributeType.Priority, v.Hex("priority"));
        writer.AddAttribute(StunAttributeType.IceControlled, v.Hex("ice-controlled"));
        writer.AddAttribute(StunAttributeType.Username, Encoding.UTF8.GetBytes(v.Text("username")));
        writer.AddMessageIntegrity(Key(v));
        writer.AddFingerprint();
        AssertBytes.Equal(v.Hex("message"), writer.Written, v.ToString());
    }

    [Theory]
    [InlineData("2.2 Sample IPv4 Response")]
    [InlineData("2.3 Sample IPv6 Response")]
    public void Writer_rebuilds_the_sample_response(string section)
    {
        VectorCase v = Case(section);
        var buffer = new byte[200];
        var writer = new StunMessageWriter(buffer, StunMessageType.BindingSuccess, TransactionId(v), padding: Padding(v));
        writer.AddSoftware(v.Text("software"));
        writer.AddXorMappedAddress(UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse(v.Text("mapped"))));
        writer.AddMessageIntegrity(Key(v));
        writer.AddFingerprint();
        AssertBytes.Equal(v.Hex("message"), writer.Written, v.ToString());
    }

    [Fact]
    public void Public_writer_with_zero_padding_rebuilds_the_long_term_sample()
    {
        VectorCase v = Case("2.4 Sample Request with Long-Term Authentication");
        Assert.Equal(0, Padding(v)); // this sample pads with zeros, as RFC 8489 requires of senders
        var buffer = new byte[200];
        var writer = new StunMessageWriter(buffer, StunMessageType.BindingRequest, TransactionId(v));
        writer.AddAttribute(StunAttributeType.Username, v.Hex("username-utf8"));
        writer.AddAttribute(StunAttributeType.Nonce, Encoding.UTF8.GetBytes(v.Text("nonce")));
        writer.AddAttribute(StunAttributeType.Realm, Encoding.UTF8.GetBytes(v.Text("realm")));
        writer.AddMessageIntegrity(Key(v));
        AssertBytes.Equal(v.Hex("message"), writer.Written, v.ToString());
    }

    [Fact]
    public void Zero_padded_rebuild_of_a_space_padded_sample_differs_only_where_padding_and_its_hashes_are()
    {
        // What our public writer sends for §2.2's content: same layout, zero padding, and so a
        // different HMAC and CRC, which our reader verifies.
        VectorCase v = Case("2.2 Sample IPv4 Response");
        byte[] rfc = v.Hex("message");
        var buffer = new byte[200];
        var writer = new StunMessageWriter(buffer, StunMessageType.BindingSuccess, TransactionId(v));
        writer.AddSoftware(v.Text("software"));
        writer.AddXorMappedAddress(UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse(v.Text("mapped"))));
        writer.AddMessageIntegrity(Key(v));
        writer.AddFingerprint();
        byte[] ours = writer.Written.ToArray();

        Assert.Equal(rfc.Length, ours.Length);
        int softwarePadding = 20 + 4 + 11; // header, SOFTWARE header, "test vector"
        var differing = Enumerable.Range(0, rfc.Length).Where(i => rfc[i] != ours[i]).ToArray();
        Assert.Contains(softwarePadding, differing);
        Assert.All(differing, i => Assert.True(i == softwarePadding || i >= 48, $"byte {i} differs outside padding, MESSAGE-INTEGRITY and FINGERPRINT"));
        Assert.Equal(0, ours[softwarePadding]);
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(ours, out StunMessage m));
        Assert.True(m.VerifyMessageIntegrity(Key(v)));
    }

    private static VectorCase Case(string section) =>
        VectorFile.Load("Stun", "rfc5769.txt").Single(c => c.Text("section") == section);

    private static byte[] Key(VectorCase v) => v.Text("key") switch
    {
        "short-term" => StunCredentials.ShortTermKey(v.Text("password")),
        "long-term" => StunCredentials.LongTermKey(Encoding.UTF8.GetString(v.Hex("username-utf8")), v.Text("realm"), v.Text("password")),
        var other => throw new FormatException($"{v}: unknown key kind '{other}'"),
    };

    private static StunTransactionId TransactionId(VectorCase v) => StunTransactionId.Read(v.Hex("transaction-id"));

    private static byte Padding(VectorCase v) => Convert.ToByte(v.Text("padding"), 16);
}
