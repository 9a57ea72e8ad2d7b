using System.Net;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Net;
using MeshAgent.Core.Trust;
using static MeshAgent.Tests.Trust.TrustFixtures;

namespace MeshAgent.Tests.Trust;

/// <summary>
/// Properties of every trust record: encode/decode round trips, any single-bit flip of an encoding is
/// caught (by the decoder or by a signature), and decoding garbage never throws.
/// </summary>
public sealed class TrustPropertyTests
{
    private static FsCheck.Config Config(int maxTest) => FsCheck.Config.QuickThrowOnFailure.WithMaxTest(maxTest);

    private static Gen<byte> AnyByte => ArbMap.Default.GeneratorFor<byte>();

    private static Gen<byte[]> Bytes(int n) => Gen.ArrayOf(AnyByte, n);

    private static Gen<string> Name =>
        from length in Gen.Choose(1, 63)
        from chars in Gen.ArrayOf(Gen.Elements("abcdefghijklmnopqrstuvwxyz0123456789-".ToCharArray()), length)
        select new string(chars).Trim('-') is { Length: > 0 } trimmed ? trimmed : "n";

    private static Gen<IPNetwork> Prefix =>
        from v6 in ArbMap.Default.GeneratorFor<bool>()
        from address in Bytes(v6 ? 16 : 4)
        from length in Gen.Choose(0, v6 ? 128 : 32)
        select IpPrefix.Create(new IPAddress(address), length);

    private static Gen<string> Tag =>
        from length in Gen.Choose(1, 63)
        from chars in Gen.ArrayOf(Gen.Choose('!', '~').Select(i => (char)i), length)
        select new string(chars);

    private static Gen<(byte[] NodeSeed, CertificateFields Fields)> Certificate =>
        from nodeSeed in Bytes(32)
        from name in Name
        from v4 in Bytes(4)
        from v6 in Bytes(16)
        from routeCount in Gen.Choose(0, 6)
        from routes in Gen.ArrayOf(Prefix, routeCount)
        from tagCount in Gen.Choose(0, 5)
        from tags in Gen.ArrayOf(Tag, tagCount)
        from issued in Gen.Choose(-1_000_000_000, int.MaxValue)
        from lifetime in Gen.Choose(1, int.MaxValue)
        from admin in ArbMap.Default.GeneratorFor<bool>()
        select (nodeSeed, new CertificateFields
        {
            NodeKey = default, // filled in from the seed
            Name = name,
            OverlayIPv4 = new IPAddress(v4),
            OverlayIPv6 = new IPAddress(v6[0] == 0 ? [0xfd, .. v6[1..]] : v6), // avoid ::ffff:a.b.c.d
            ApprovedRoutes = routes,
            Tags = tags,
            IssuedAt = DateTimeOffset.FromUnixTimeSeconds(issued),
            ExpiresAt = DateTimeOffset.FromUnixTimeSeconds((long)issued + lifetime),
            IsAdmin = admin,
        });

    private static Gen<IPEndPoint> Endpoint =>
        from v6 in ArbMap.Default.GeneratorFor<bool>()
        from address in Bytes(v6 ? 16 : 4)
        from port in Gen.Choose(1, 65535)
        select new IPEndPoint(new IPAddress(v6 && address[0] == 0 ? [0x20, .. address[1..]] : address), port);

    private static readonly NetworkRootKey RootKey = Root();

    private static MembershipCertificate IssueFor(NodeIdentity node, CertificateFields fields) =>
        MembershipCertificate.Issue(RootKey, fields with { NodeKey = node.PublicKey });

    [Fact]
    public void Certificates_round_trip_and_validate()
    {
        Check.One(Config(200), Prop.ForAll(Arb.From(Certificate), ((byte[] NodeSeed, CertificateFields Fields) c) =>
        {
            using NodeIdentity node = NodeIdentity.FromSeed(c.NodeSeed);
            MembershipCertificate issued = IssueFor(node, c.Fields);
            Assert.True(MembershipCertificate.TryDecode(issued.Encode(), out MembershipCertificate? decoded, out string? error), error);
            Assert.Equal(issued.Encode(), decoded!.Encode());
            Assert.Equal(node.PublicKey, decoded.NodeKey);
            Assert.Equal(RootKey.PublicKey, decoded.NetworkKey);
            Assert.Equal(c.Fields.Name, decoded.Name);
            Assert.Equal(c.Fields.OverlayIPv4, decoded.OverlayIPv4);
            Assert.Equal(issued.OverlayIPv6, decoded.OverlayIPv6);
            Assert.Equal(c.Fields.ApprovedRoutes.Distinct().OrderBy(r => r.ToString()), decoded.ApprovedRoutes.OrderBy(r => r.ToString()));
            Assert.Equal(c.Fields.Tags.Distinct().Order(StringComparer.Ordinal), decoded.Tags);
            Assert.Equal(c.Fields.IssuedAt, decoded.IssuedAt);
            Assert.Equal(c.Fields.ExpiresAt, decoded.ExpiresAt);
            Assert.Equal(c.Fields.IsAdmin, decoded.IsAdmin);
            Assert.Equal(CertificateValidation.Valid, decoded.Validate(RootKey.PublicKey, c.Fields.IssuedAt, RevocationSet.Empty));
        }));
    }

    [Fact]
    public void Member_records_round_trip_and_verify()
    {
        Gen<(byte[], CertificateFields, ulong, IPEndPoint[], int[], string?)> records =
            from c in Certificate
            from version in ArbMap.Default.GeneratorFor<ulong>()
            from endpointCount in Gen.Choose(0, 16)
            from endpoints in Gen.ArrayOf(Endpoint, endpointCount)
            from narrowing in Gen.ArrayOf(Gen.Choose(0, 200), 6)
            from relay in Gen.OneOf(Gen.Constant<string?>(null), Name.Select(n => (string?)$"{n}.example:3478"))
            select (c.NodeSeed, c.Fields, version, endpoints.Distinct().ToArray(), narrowing, relay);

        Check.One(Config(150), Prop.ForAll(Arb.From(records), ((byte[] Seed, CertificateFields Fields, ulong Version, IPEndPoint[] Endpoints, int[] Narrowing, string? Relay) r) =>
        {
            using NodeIdentity node = NodeIdentity.FromSeed(r.Seed);
            MembershipCertificate certificate = IssueFor(node, r.Fields);
            // Advertise a narrowed copy of some approved routes (still inside them).
            IPNetwork[] advertised = [.. certificate.ApprovedRoutes.Select((route, i) => Narrow(route, r.Narrowing[i % r.Narrowing.Length])).Where((_, i) => r.Narrowing[i % 6] % 3 != 0)];
            MemberRecord record = MemberRecord.Create(certificate, node, new MemberStateFields
            {
                Version = r.Version,
                Endpoints = r.Endpoints,
                AdvertisedRoutes = advertised,
                RelayHome = r.Relay,
                Timestamp = r.Fields.IssuedAt,
            });

            Assert.True(MemberRecord.TryDecode(record.Encode(), out MemberRecord? decoded, out string? error), error);
            Assert.Equal(record.Encode(), decoded!.Encode());
            Assert.Equal(r.Version, decoded.Version);
            Assert.Equal(r.Endpoints, decoded.Endpoints);
            Assert.Equal(advertised.Distinct().OrderBy(p => p.ToString()), decoded.AdvertisedRoutes.OrderBy(p => p.ToString()));
            Assert.Equal(r.Relay, decoded.RelayHome);
            Assert.Equal(MemberRecordValidation.Valid, decoded.Verify(RootKey.PublicKey, r.Fields.IssuedAt, RevocationSet.Empty));
            Assert.Equal(0, MemberRecord.CompareFreshness(record, decoded));
        }));
    }

    [Fact]
    public void Revocations_round_trip_and_verify()
    {
        Gen<(byte[], long, string)> revocations =
            from seed in Bytes(32)
            from at in ArbMap.Default.GeneratorFor<int>()
            from reason in Gen.Elements("", "lost laptop", "é€中😀", new string('r', 255))
            select (seed, (long)at, reason);
        Check.One(Config(200), Prop.ForAll(Arb.From(revocations), ((byte[] Seed, long At, string Reason) v) =>
        {
            var node = new NodePublicKey(v.Seed); // any 32 bytes: revocations do not require a valid point
            Revocation issued = Revocation.Issue(RootKey, node, DateTimeOffset.FromUnixTimeSeconds(v.At), v.Reason);
            Assert.True(Revocation.TryDecode(issued.Encode(), out Revocation? decoded, out string? error), error);
            Assert.Equal(issued.Encode(), decoded!.Encode());
            Assert.Equal(node, decoded.NodeKey);
            Assert.Equal(v.At, decoded.RevokedAt.ToUnixTimeSeconds());
            Assert.Equal(v.Reason, decoded.Reason);
            Assert.True(decoded.Verify(RootKey.PublicKey));
        }));
    }

    [Fact]
    public void Every_single_bit_flip_of_every_record_is_caught()
    {
        using NodeIdentity node = Node();
        MembershipCertificate certificate = IssueFor(node, Fields(node.PublicKey));
        MemberRecord record = MemberRecord.Create(certificate, node, State());
        Revocation revocation = Revocation.Issue(RootKey, node.PublicKey, Now, "flip me");

        AssertEveryFlipCaught(certificate.Encode(), bytes =>
            MembershipCertificate.TryDecode(bytes, out MembershipCertificate? c, out _) && c!.Validate(RootKey.PublicKey, Now, RevocationSet.Empty) == CertificateValidation.Valid);
        AssertEveryFlipCaught(record.Encode(), bytes =>
            MemberRecord.TryDecode(bytes, out MemberRecord? m, out _) && m!.Verify(RootKey.PublicKey, Now, RevocationSet.Empty) == MemberRecordValidation.Valid);
        AssertEveryFlipCaught(revocation.Encode(), bytes =>
            Revocation.TryDecode(bytes, out Revocation? r, out _) && r!.Verify(RootKey.PublicKey));
    }

    [Fact]
    public void Decoding_garbage_and_mutated_records_never_throws()
    {
        using NodeIdentity node = Node();
        MembershipCertificate certificate = IssueFor(node, Fields(node.PublicKey));
        byte[][] valid =
        [
            certificate.Encode(),
            MemberRecord.Create(certificate, node, State()).Encode(),
            Revocation.Issue(RootKey, node.PublicKey, Now, "x").Encode(),
        ];

        Gen<byte[]> inputs = Gen.OneOf(
            from length in Gen.Choose(0, 400)
            from bytes in Bytes(length)
            select bytes,
            from source in Gen.Elements(valid)
            from position in Gen.Choose(0, 10_000)
            from value in AnyByte
            from cut in Gen.Choose(0, 3)
            select Mutate(source, position, value, cut));

        Check.One(Config(3000), Prop.ForAll(Arb.From(inputs), (byte[] input) =>
        {
            if (MembershipCertificate.TryDecode(input, out MembershipCertificate? c, out string? e1))
            {
                _ = c!.Validate(RootKey.PublicKey, Now, RevocationSet.Empty);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(e1));
            }

            if (MemberRecord.TryDecode(input, out MemberRecord? m, out string? e2))
            {
                _ = m!.Verify(RootKey.PublicKey, Now, RevocationSet.Empty);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(e2));
            }

            if (Revocation.TryDecode(input, out Revocation? r, out string? e3))
            {
                _ = r!.Verify(RootKey.PublicKey);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(e3));
            }
        }));
    }

    private static void AssertEveryFlipCaught(byte[] encoded, Func<byte[], bool> acceptedAsValid)
    {
        Assert.True(acceptedAsValid(encoded), "the unflipped record must be valid");
        for (int bit = 0; bit < encoded.Length * 8; bit++)
        {
            byte[] flipped = (byte[])encoded.Clone();
            flipped[bit >> 3] ^= (byte)(1 << (bit & 7));
            Assert.False(acceptedAsValid(flipped), $"flipping bit {bit} (byte {bit >> 3}) of {encoded.Length} still gives a valid record");
        }
    }

    private static IPNetwork Narrow(IPNetwork route, int extraBits)
    {
        int max = route.BaseAddress.GetAddressBytes().Length * 8;
        int length = Math.Min(max, route.PrefixLength + (extraBits % 9));
        byte[] address = route.BaseAddress.GetAddressBytes();
        address[^1] ^= (byte)extraBits; // host bits beyond the approved prefix; masked below
        IPNetwork narrowed = IpPrefix.Create(new IPAddress(address), length);
        return route.Contains(narrowed.BaseAddress) ? narrowed : route;
    }

    private static byte[] Mutate(byte[] source, int position, byte value, int cut)
    {
        byte[] copy = (byte[])source.Clone();
        copy[position % copy.Length] = value;
        return copy[..(copy.Length - cut)];
    }
}
