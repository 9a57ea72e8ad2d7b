using System.Net;
using MeshAgent.Core.Trust;
using static MeshAgent.Tests.Trust.TrustFixtures;

namespace MeshAgent.Tests.Trust;

public sealed class MembershipCertificateTests
{
    [Fact]
    public void Validate_reports_each_reason_in_order()
    {
        using NetworkRootKey root = Root(), otherRoot = Root(2);
        using NodeIdentity node = Node();
        MembershipCertificate certificate = MembershipCertificate.Issue(root, Fields(node.PublicKey));

        Assert.Equal(CertificateValidation.Valid, certificate.Validate(root.PublicKey, Now, RevocationSet.Empty));
        Assert.Equal(CertificateValidation.WrongNetwork, certificate.Validate(otherRoot.PublicKey, Now, RevocationSet.Empty));
        Assert.Equal(CertificateValidation.Expired, certificate.Validate(root.PublicKey, ExpiresAt, RevocationSet.Empty));
        Assert.Equal(CertificateValidation.Valid, certificate.Validate(root.PublicKey, ExpiresAt.AddSeconds(-1), RevocationSet.Empty));
        Assert.Equal(CertificateValidation.Valid, certificate.Validate(root.PublicKey, IssuedAt - MembershipCertificate.MaxClockSkew, RevocationSet.Empty));
        Assert.Equal(CertificateValidation.NotYetValid, certificate.Validate(root.PublicKey, IssuedAt - MembershipCertificate.MaxClockSkew - TimeSpan.FromSeconds(1), RevocationSet.Empty));

        Assert.True(RevocationSet.Empty.TryAdd(Revocation.Issue(root, node.PublicKey, Now, "test"), root.PublicKey, out RevocationSet revoked));
        Assert.Equal(CertificateValidation.Revoked, certificate.Validate(root.PublicKey, Now, revoked));
        // A revoked node is reported as revoked even when its certificate has also expired.
        Assert.Equal(CertificateValidation.Revoked, certificate.Validate(root.PublicKey, ExpiresAt.AddDays(1), revoked));
    }

    [Fact]
    public void A_certificate_signed_by_another_root_that_claims_our_network_has_a_bad_signature()
    {
        using NetworkRootKey root = Root(), forger = Root(2);
        using NodeIdentity node = Node();
        byte[] genuine = MembershipCertificate.Issue(root, Fields(node.PublicKey)).Encode();
        byte[] forged = MembershipCertificate.Issue(forger, Fields(node.PublicKey)).Encode();

        // Splice the forger's signature onto our tbs, and our root key into the forger's tbs (same length).
        byte[] wrongSignature = [.. genuine[..^64], .. forged[^64..]];
        Assert.True(MembershipCertificate.TryDecode(wrongSignature, out MembershipCertificate? a, out _));
        Assert.Equal(CertificateValidation.BadSignature, a!.Validate(root.PublicKey, Now, RevocationSet.Empty));

        byte[] claimsOurNetwork = (byte[])forged.Clone();
        int keyOffset = claimsOurNetwork.AsSpan().IndexOf(forger.PublicKey.AsSpan());
        root.PublicKey.AsSpan().CopyTo(claimsOurNetwork.AsSpan(keyOffset));
        Assert.True(MembershipCertificate.TryDecode(claimsOurNetwork, out MembershipCertificate? b, out _));
        Assert.Equal(CertificateValidation.BadSignature, b!.Validate(root.PublicKey, Now, RevocationSet.Empty));
    }

    [Fact]
    public void Issue_puts_sets_in_canonical_order_so_equal_inputs_give_equal_bytes()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node();
        CertificateFields fields = Fields(node.PublicKey) with
        {
            ApprovedRoutes = [IPNetwork.Parse("fd00::/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("10.0.0.0/16"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("9.0.0.0/8")],
            Tags = ["web", "db", "web", "Admin"],
        };
        MembershipCertificate a = MembershipCertificate.Issue(root, fields);
        MembershipCertificate b = MembershipCertificate.Issue(root, fields with
        {
            ApprovedRoutes = [.. fields.ApprovedRoutes.Reverse()],
            Tags = [.. fields.Tags.Reverse()],
        });
        Assert.Equal(a.Encode(), b.Encode());
        Assert.Equal(["9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "fd00::/8"], a.ApprovedRoutes.Select(r => r.ToString()));
        Assert.Equal(["Admin", "db", "web"], a.Tags);
    }

    [Theory]
    [InlineData("", "1 to 63 characters")]
    [InlineData("-node", "must not start or end with '-'")]
    [InlineData("node-", "must not start or end with '-'")]
    [InlineData("Node", "'N'")]
    [InlineData("node_a", "'_'")]
    [InlineData("node.a", "'.'")]
    public void Issue_refuses_invalid_names_with_a_reason(string name, string reason)
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node();
        ArgumentException e = Assert.Throws<ArgumentException>(() => MembershipCertificate.Issue(root, Fields(node.PublicKey, name)));
        Assert.Contains(reason, e.Message);
        Assert.False(NodeName.IsValid(name));
    }

    [Fact]
    public void Node_name_boundaries()
    {
        Assert.True(NodeName.IsValid("a"));
        Assert.True(NodeName.IsValid("0"));
        Assert.True(NodeName.IsValid("a-b-0"));
        Assert.True(NodeName.IsValid(new string('a', 63)));
        Assert.False(NodeName.IsValid(new string('a', 64)));
        Assert.False(NodeName.IsValid("-"));
    }

    [Fact]
    public void Issue_refuses_fields_that_break_the_layout()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node();
        CertificateFields ok = Fields(node.PublicKey);
        Assert.Contains("not after issued at", Issue(ok with { ExpiresAt = ok.IssuedAt }));
        Assert.Contains("not an IPv4 address", Issue(ok with { OverlayIPv4 = IPAddress.Parse("fd00::1") }));
        Assert.Contains("not an IPv6 address", Issue(ok with { OverlayIPv6 = IPAddress.Parse("10.0.0.1") }));
        Assert.Contains("tag ''", Issue(ok with { Tags = [""] }));
        Assert.Contains("tag 'a b'", Issue(ok with { Tags = ["a b"] }));
        Assert.Contains("at most 32", Issue(ok with { Tags = [.. Enumerable.Range(0, 33).Select(i => $"t{i}")] }));
        Assert.Contains("at most 64", Issue(ok with { ApprovedRoutes = [.. Enumerable.Range(0, 65).Select(i => new IPNetwork(new IPAddress([10, (byte)i, 0, 0]), 16))] }));
        Assert.Contains("not a valid Ed25519 public key", Issue(ok with { NodeKey = new NodePublicKey(new byte[32]) }));

        string Issue(CertificateFields fields) =>
            Assert.Throws<ArgumentException>(() => MembershipCertificate.Issue(root, fields)).Message;
    }

    [Fact]
    public void Decoding_refuses_trailing_bytes_truncation_and_unknown_versions_with_reasons()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node();
        byte[] encoded = MembershipCertificate.Issue(root, Fields(node.PublicKey)).Encode();

        Assert.False(MembershipCertificate.TryDecode([.. encoded, 0xc0], out _, out string? trailing));
        Assert.Contains("unexpected bytes", trailing);
        for (int length = 0; length < encoded.Length; length++)
        {
            Assert.False(MembershipCertificate.TryDecode(encoded.AsSpan(0, length), out MembershipCertificate? c, out string? error), $"decoded a certificate truncated to {length} bytes");
            Assert.Null(c);
            Assert.False(string.IsNullOrEmpty(error));
        }

        // Format version 2 (the tbs is "92 c4 LL 9b 01 ..."; version is the byte after the fixarray header).
        byte[] version2 = (byte[])encoded.Clone();
        int versionOffset = 1 + 2 + 1;
        Assert.Equal(0x9b, version2[versionOffset - 1]);
        version2[versionOffset] = 2;
        Assert.False(MembershipCertificate.TryDecode(version2, out _, out string? versionError));
        Assert.Contains("format version 2 is not supported", versionError);
    }

    [Fact]
    public void Approves_means_contained_in_an_approved_prefix_of_the_same_family()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node();
        MembershipCertificate certificate = MembershipCertificate.Issue(root, Fields(node.PublicKey));
        Assert.True(certificate.Approves(IPNetwork.Parse("10.1.0.0/16")));
        Assert.True(certificate.Approves(IPNetwork.Parse("10.1.200.0/24")));
        Assert.True(certificate.Approves(IPNetwork.Parse("10.1.2.3/32")));
        Assert.True(certificate.Approves(IPNetwork.Parse("fd00:aa:0:1::/64")));
        Assert.False(certificate.Approves(IPNetwork.Parse("10.0.0.0/8")));   // wider than approved
        Assert.False(certificate.Approves(IPNetwork.Parse("10.2.0.0/16")));
        Assert.False(certificate.Approves(IPNetwork.Parse("::/0")));
        Assert.False(certificate.Approves(IPNetwork.Parse("::ffff:10.1.0.0/112"))); // IPv4-mapped is another family
    }
}
