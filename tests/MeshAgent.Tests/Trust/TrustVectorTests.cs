using System.Globalization;
using System.Net;
using MeshAgent.Core.Trust;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Trust;

/// <summary>
/// Golden encodings (Vectors/MessagePack/trust-records.txt, from an independent Python model): the C# code
/// must produce these bytes from the same inputs and decode them back to the same fields.
/// </summary>
public sealed class TrustVectorTests
{
    private static readonly IReadOnlyList<VectorCase> Cases = VectorFile.Load("MessagePack", "trust-records.txt");

    private static VectorCase Case(string name) => Cases.Single(c => c.Text("name") == name);

    private static DateTimeOffset Time(VectorCase c, string field) =>
        DateTimeOffset.FromUnixTimeSeconds(long.Parse(c.Text(field), CultureInfo.InvariantCulture));

    private static string[] List(VectorCase c, string field) => c.Text(field).Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static (NetworkRootKey Root, NodeIdentity Node, MembershipCertificate Certificate) IssueVectorCertificate()
    {
        VectorCase c = Case("certificate");
        NetworkRootKey root = NetworkRootKey.FromSeed(c.Hex("root_seed"));
        NodeIdentity node = NodeIdentity.FromSeed(c.Hex("node_seed"));
        MembershipCertificate certificate = MembershipCertificate.Issue(root, new CertificateFields
        {
            NodeKey = node.PublicKey,
            Name = c.Text("node_name"),
            OverlayIPv4 = IPAddress.Parse(c.Text("overlay_ipv4")),
            OverlayIPv6 = IPAddress.Parse(c.Text("overlay_ipv6")),
            ApprovedRoutes = [.. List(c, "approved_routes").Select(IPNetwork.Parse)],
            Tags = List(c, "tags"),
            IssuedAt = Time(c, "issued_at"),
            ExpiresAt = Time(c, "expires_at"),
            IsAdmin = bool.Parse(c.Text("is_admin")),
        });
        return (root, node, certificate);
    }

    [Fact]
    public void Certificate_encoding_is_byte_identical_to_the_golden_vector()
    {
        VectorCase c = Case("certificate");
        (NetworkRootKey root, NodeIdentity node, MembershipCertificate certificate) = IssueVectorCertificate();
        using (root)
        using (node)
        {
            AssertBytes.Equal(c.Hex("root_public"), root.PublicKey.AsSpan(), $"{c} root public key");
            AssertBytes.Equal(c.Hex("node_public"), node.PublicKey.AsSpan(), $"{c} node public key");
            AssertBytes.Equal(c.Hex("signature"), certificate.Signature, $"{c} signature");
            AssertBytes.Equal(c.Hex("encoding"), certificate.Encode(), $"{c} encoding");
            AssertBytes.Equal(c.Hex("hash"), certificate.Hash, $"{c} BLAKE2s hash");
            Assert.Equal(CertificateValidation.Valid, certificate.Validate(root.PublicKey, Time(c, "issued_at").AddDays(1), RevocationSet.Empty));
        }
    }

    [Fact]
    public void Golden_certificate_decodes_to_its_fields_and_validates()
    {
        VectorCase c = Case("certificate");
        Assert.True(MembershipCertificate.TryDecode(c.Hex("encoding"), out MembershipCertificate? certificate, out string? error), error);
        Assert.Equal(1, certificate!.Version);
        Assert.Equal(new NetworkRootPublicKey(c.Hex("root_public")), certificate.NetworkKey);
        Assert.Equal(new NodePublicKey(c.Hex("node_public")), certificate.NodeKey);
        Assert.Equal("node-a", certificate.Name);
        Assert.Equal(IPAddress.Parse("100.96.0.1"), certificate.OverlayIPv4);
        Assert.Equal(IPAddress.Parse(c.Text("overlay_ipv6")), certificate.OverlayIPv6);
        Assert.Equal(["10.1.0.0/16", "192.168.1.0/24", "fd00:1::/48"], certificate.ApprovedRoutes.Select(r => r.ToString()));
        Assert.Equal(["site-a", "web"], certificate.Tags);
        Assert.Equal(Time(c, "issued_at"), certificate.IssuedAt);
        Assert.Equal(Time(c, "expires_at"), certificate.ExpiresAt);
        Assert.True(certificate.IsAdmin);
        Assert.Equal(CertificateValidation.Valid, certificate.Validate(c.Hex("root_public"), Time(c, "issued_at"), RevocationSet.Empty));
    }

    [Fact]
    public void Member_record_encoding_is_byte_identical_to_the_golden_vector()
    {
        VectorCase c = Case("member-record");
        (NetworkRootKey root, NodeIdentity node, MembershipCertificate certificate) = IssueVectorCertificate();
        using (root)
        using (node)
        {
            MemberRecord record = MemberRecord.Create(certificate, node, new MemberStateFields
            {
                Version = ulong.Parse(c.Text("version"), CultureInfo.InvariantCulture),
                Endpoints = [.. List(c, "endpoints").Select(e => new IPEndPoint(IPAddress.Parse(e.Split(',')[0]), int.Parse(e.Split(',')[1], CultureInfo.InvariantCulture)))],
                AdvertisedRoutes = [.. List(c, "advertised_routes").Select(IPNetwork.Parse)],
                RelayHome = c.Text("relay_home"),
                Timestamp = Time(c, "timestamp"),
            });
            AssertBytes.Equal(c.Hex("encoding"), record.Encode(), $"{c} encoding");
            Assert.Equal(MemberRecordValidation.Valid, record.Verify(root.PublicKey, Time(c, "timestamp"), RevocationSet.Empty));

            Assert.True(MemberRecord.TryDecode(c.Hex("encoding"), out MemberRecord? decoded, out string? error), error);
            Assert.Equal(1_700_000_000_123UL, decoded!.Version);
            Assert.Equal(["203.0.113.7:51820", "[2001:db8::7]:51820"], decoded.Endpoints.Select(e => e.ToString()));
            Assert.Equal(["10.1.2.0/24", "192.168.1.0/24"], decoded.AdvertisedRoutes.Select(r => r.ToString()));
            Assert.Equal("relay1.example.net:3478", decoded.RelayHome);
            Assert.Equal(Time(c, "timestamp"), decoded.Timestamp);
            Assert.Equal(MemberRecordValidation.Valid, decoded.Verify(root.PublicKey, Time(c, "timestamp"), RevocationSet.Empty));
        }
    }

    [Fact]
    public void Revocation_encoding_is_byte_identical_to_the_golden_vector()
    {
        VectorCase c = Case("revocation");
        VectorCase cert = Case("certificate");
        using NetworkRootKey root = NetworkRootKey.FromSeed(cert.Hex("root_seed"));
        Revocation revocation = Revocation.Issue(root, new NodePublicKey(cert.Hex("node_public")), Time(c, "revoked_at"), c.Text("reason"));
        AssertBytes.Equal(c.Hex("encoding"), revocation.Encode(), $"{c} encoding");

        Assert.True(Revocation.TryDecode(c.Hex("encoding"), out Revocation? decoded, out string? error), error);
        Assert.True(decoded!.Verify(root.PublicKey));
        Assert.Equal("laptop lost", decoded.Reason);
        Assert.Equal(Time(c, "revoked_at"), decoded.RevokedAt);
        Assert.Equal(new NodePublicKey(cert.Hex("node_public")), decoded.NodeKey);
    }

    [Fact]
    public void Overlay_IPv6_of_the_vector_comes_from_the_allocator()
    {
        VectorCase c = Case("certificate");
        var root = new NetworkRootPublicKey(c.Hex("root_public"));
        Assert.Equal(IPNetwork.Parse(c.Text("ipv6_prefix")), OverlayAddressAllocator.DeriveIPv6Prefix(root));
        OverlayAddressAllocator allocator = OverlayAddressAllocator.ForNetwork(root);
        Assert.Equal(IPAddress.Parse(c.Text("overlay_ipv6")), allocator.AllocateIPv6(new NodePublicKey(c.Hex("node_public")), []));
        Assert.True(allocator.TryAllocateIPv4([], out IPAddress? first));
        Assert.Equal(IPAddress.Parse(c.Text("overlay_ipv4")), first);
    }
}
