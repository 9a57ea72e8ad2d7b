using System.Buffers;
using MeshAgent.Core.MessagePack;
using MeshAgent.Core.Trust;
using static MeshAgent.Tests.Trust.TrustFixtures;

namespace MeshAgent.Tests.Trust;

/// <summary>
/// The decoder's own rules, checked on certificates the root really signed but that Issue would never
/// produce: a signature does not make a non-canonical or out-of-rule certificate acceptable.
/// </summary>
public sealed class CertificateDecoderTests
{
    private sealed record RawFields
    {
        public ulong Version { get; init; } = 1;
        public int? FieldCountOverride { get; init; }
        public byte[]? NodeKey { get; init; }
        public string Name { get; init; } = "node-a";
        public byte[] IPv4 { get; init; } = [100, 96, 0, 1];
        public byte[] IPv6 { get; init; } = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        public (byte[] Address, int Length)[] Routes { get; init; } = [([10, 1, 0, 0], 16), ([192, 168, 0, 0], 16)];
        public string[] Tags { get; init; } = ["a", "b"];
        public long IssuedAt { get; init; } = 1_700_000_000;
        public long ExpiresAt { get; init; } = 1_800_000_000;
    }

    private static byte[] Sign(NetworkRootKey root, NodeIdentity node, RawFields f)
    {
        var tbs = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(tbs);
        w.WriteArrayHeader(f.FieldCountOverride ?? 11);
        w.WriteUInt64(f.Version);
        w.WriteBinary(root.PublicKey.AsSpan());
        w.WriteBinary(f.NodeKey ?? node.PublicKey.AsSpan().ToArray());
        w.WriteString(f.Name);
        w.WriteBinary(f.IPv4);
        w.WriteBinary(f.IPv6);
        w.WriteArrayHeader(f.Routes.Length);
        foreach ((byte[] address, int length) in f.Routes)
        {
            w.WriteArrayHeader(2);
            w.WriteBinary(address);
            w.WriteUInt64((ulong)length);
        }

        w.WriteArrayHeader(f.Tags.Length);
        foreach (string tag in f.Tags)
        {
            w.WriteString(tag);
        }

        w.WriteInt64(f.IssuedAt);
        w.WriteInt64(f.ExpiresAt);
        w.WriteBoolean(false);
        if (f.FieldCountOverride is int n && n > 11)
        {
            w.WriteNil();
        }

        byte[] signature = new byte[64];
        root.Sign(SigningContexts.Certificate, tbs.WrittenSpan, signature);
        var outer = new ArrayBufferWriter<byte>();
        var o = new MessagePackWriter(outer);
        o.WriteArrayHeader(2);
        o.WriteBinary(tbs.WrittenSpan);
        o.WriteBinary(signature);
        return outer.WrittenSpan.ToArray();
    }

    public static TheoryData<string, string> Violations => new()
    {
        { "routes out of order", "field 6 (approved routes)" },
        { "duplicate route", "field 6 (approved routes)" },
        { "route with host bits", "field 6 (approved routes)" },
        { "route longer than its family", "field 6 (approved routes)" },
        { "tags out of order", "field 7 (tags)" },
        { "duplicate tag", "field 7 (tags)" },
        { "tag with a space", "tag 'a b'" },
        { "invalid name", "node name 'Node-A'" },
        { "IPv4 of 16 bytes", "is not an IPv4 address" },
        { "expiry before issue", "not after issued at" },
        { "small-order node key", "not a valid Ed25519 public key" },
        { "version 2", "format version 2 is not supported" },
        { "an extra field", "has 11 fields, this one has 12" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void Root_signed_certificates_that_break_a_rule_are_refused_with_the_field_named(string violation, string expectedError)
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node();
        var ok = new RawFields();
        Assert.True(MembershipCertificate.TryDecode(Sign(root, node, ok), out _, out string? okError), okError);

        RawFields bad = violation switch
        {
            "routes out of order" => ok with { Routes = [([192, 168, 0, 0], 16), ([10, 1, 0, 0], 16)] },
            "duplicate route" => ok with { Routes = [([10, 1, 0, 0], 16), ([10, 1, 0, 0], 16)] },
            "route with host bits" => ok with { Routes = [([10, 1, 0, 1], 16)] },
            "route longer than its family" => ok with { Routes = [([10, 1, 0, 0], 33)] },
            "tags out of order" => ok with { Tags = ["b", "a"] },
            "duplicate tag" => ok with { Tags = ["a", "a"] },
            "tag with a space" => ok with { Tags = ["a b"] },
            "invalid name" => ok with { Name = "Node-A" },
            "IPv4 of 16 bytes" => ok with { IPv4 = ok.IPv6 },
            "expiry before issue" => ok with { ExpiresAt = ok.IssuedAt },
            "small-order node key" => ok with { NodeKey = [1, .. new byte[31]] },
            "version 2" => ok with { Version = 2 },
            "an extra field" => ok with { FieldCountOverride = 12 },
            _ => throw new InvalidOperationException(violation),
        };

        Assert.False(MembershipCertificate.TryDecode(Sign(root, node, bad), out MembershipCertificate? certificate, out string? error), violation);
        Assert.Null(certificate);
        Assert.Contains(expectedError, error);
    }

    [Fact]
    public void A_non_canonical_integer_inside_a_signed_certificate_is_refused()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node();
        byte[] canonical = Sign(root, node, new RawFields());
        Assert.True(MembershipCertificate.TryDecode(canonical, out _, out _));

        // Re-encode the format version 1 (01) as uint 8 (cc 01) inside the tbs and sign that: the bytes
        // decode to the same fields, so accepting them would give one certificate two encodings.
        byte[] tbs = canonical[3..^66];
        Assert.Equal(0x9b, tbs[0]);
        byte[] nonCanonicalTbs = [0x9b, 0xcc, .. tbs[1..]];
        byte[] signature = new byte[64];
        root.Sign(SigningContexts.Certificate, nonCanonicalTbs, signature);
        byte[] encoded = [0x92, 0xc4, (byte)nonCanonicalTbs.Length, .. nonCanonicalTbs, 0xc4, 0x40, .. signature];
        Assert.False(MembershipCertificate.TryDecode(encoded, out _, out string? error));
        Assert.Contains("format version", error);
    }
}
