using System.Buffers;
using System.Net;
using MeshAgent.Core.MessagePack;
using MeshAgent.Core.Trust;
using static MeshAgent.Tests.Trust.TrustFixtures;

namespace MeshAgent.Tests.Trust;

public sealed class MemberRecordTests
{
    [Fact]
    public void A_record_made_by_the_certificate_owner_verifies()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node();
        MembershipCertificate certificate = MembershipCertificate.Issue(root, Fields(node.PublicKey));
        MemberRecord record = MemberRecord.Create(certificate, node, State());
        Assert.Equal(MemberRecordValidation.Valid, record.Verify(root.PublicKey, Now, RevocationSet.Empty));
        Assert.Equal(node.PublicKey, record.NodeKey);
        Assert.Equal("relay.example.net:3478", record.RelayHome);

        MemberRecord noRelay = MemberRecord.Create(certificate, node, State() with { RelayHome = null, Endpoints = [], AdvertisedRoutes = [] });
        Assert.True(MemberRecord.TryDecode(noRelay.Encode(), out MemberRecord? decoded, out string? error), error);
        Assert.Null(decoded!.RelayHome);
        Assert.Empty(decoded.Endpoints);
        Assert.Equal(MemberRecordValidation.Valid, decoded.Verify(root.PublicKey, Now, RevocationSet.Empty));
    }

    [Fact]
    public void Certificate_problems_come_first()
    {
        using NetworkRootKey root = Root(), other = Root(2);
        using NodeIdentity node = Node();
        MemberRecord record = MemberRecord.Create(MembershipCertificate.Issue(root, Fields(node.PublicKey)), node, State());
        Assert.Equal(MemberRecordValidation.WrongNetwork, record.Verify(other.PublicKey, Now, RevocationSet.Empty));
        Assert.Equal(MemberRecordValidation.Expired, record.Verify(root.PublicKey, ExpiresAt, RevocationSet.Empty));
        Assert.Equal(MemberRecordValidation.NotYetValid, record.Verify(root.PublicKey, IssuedAt.AddDays(-1), RevocationSet.Empty));
        RevocationSet.Empty.TryAdd(Revocation.Issue(root, node.PublicKey, Now, "gone"), root.PublicKey, out RevocationSet revoked);
        Assert.Equal(MemberRecordValidation.Revoked, record.Verify(root.PublicKey, Now, revoked));
    }

    [Fact]
    public void Create_refuses_another_nodes_identity_and_unapproved_routes()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node(), stranger = Node(101);
        MembershipCertificate certificate = MembershipCertificate.Issue(root, Fields(node.PublicKey));
        Assert.Contains("cannot sign state", Assert.Throws<ArgumentException>(() => MemberRecord.Create(certificate, stranger, State())).Message);
        ArgumentException e = Assert.Throws<ArgumentException>(() => MemberRecord.Create(certificate, node, State() with { AdvertisedRoutes = [IPNetwork.Parse("10.2.0.0/24")] }));
        Assert.Contains("may not advertise 10.2.0.0/24", e.Message);
        Assert.Contains("listed twice", Assert.Throws<ArgumentException>(() => MemberRecord.Create(certificate, node, State() with { Endpoints = [IPEndPoint.Parse("1.2.3.4:5"), IPEndPoint.Parse("1.2.3.4:5")] })).Message);
        Assert.Throws<ArgumentException>(() => MemberRecord.Create(certificate, node, State() with { Endpoints = [IPEndPoint.Parse("[::ffff:1.2.3.4]:5")] }));
        Assert.Throws<ArgumentException>(() => MemberRecord.Create(certificate, node, State() with { Endpoints = [.. Enumerable.Range(1, 17).Select(p => new IPEndPoint(IPAddress.Loopback, p))] }));
        Assert.Throws<ArgumentException>(() => MemberRecord.Create(certificate, node, State() with { RelayHome = "" }));
    }

    /// <summary>Records assembled by a relaying attacker from genuinely signed pieces.</summary>
    [Fact]
    public void Spliced_records_are_caught()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node(), other = Node(101);
        MembershipCertificate nodeCertificate = MembershipCertificate.Issue(root, Fields(node.PublicKey));
        MembershipCertificate otherCertificate = MembershipCertificate.Issue(root, Fields(other.PublicKey, "node-b"));
        MemberRecord nodeRecord = MemberRecord.Create(nodeCertificate, node, State());
        MemberRecord otherRecord = MemberRecord.Create(otherCertificate, other, State());

        // node's certificate with other's state: the state names another key.
        Assert.Equal(MemberRecordValidation.StateKeyMismatch, Splice(nodeCertificate, otherRecord).Verify(root.PublicKey, Now, RevocationSet.Empty));

        // node's state with an older certificate of node that approved a wider route: bound to the other certificate.
        MembershipCertificate older = MembershipCertificate.Issue(root, Fields(node.PublicKey) with { ApprovedRoutes = [IPNetwork.Parse("10.0.0.0/8")], IssuedAt = IssuedAt.AddDays(-1) });
        MemberRecord wide = MemberRecord.Create(older, node, State() with { AdvertisedRoutes = [IPNetwork.Parse("10.200.0.0/16")] });
        Assert.Equal(MemberRecordValidation.StateCertificateMismatch, Splice(nodeCertificate, wide).Verify(root.PublicKey, Now, RevocationSet.Empty));

        // A state signed by someone else but claiming node's key and certificate.
        byte[] forged = nodeRecord.Encode();
        forged[^1] ^= 0x01; // last byte of the state signature
        Assert.True(MemberRecord.TryDecode(forged, out MemberRecord? bad, out _));
        Assert.Equal(MemberRecordValidation.BadStateSignature, bad!.Verify(root.PublicKey, Now, RevocationSet.Empty));
    }

    [Fact]
    public void A_state_its_owner_signed_with_an_unapproved_route_fails_Verify()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node();
        MembershipCertificate certificate = MembershipCertificate.Issue(root, Fields(node.PublicKey)); // approves 10.1.0.0/16, fd00:aa::/48

        // MemberRecord.Create refuses this, so build the state by hand from the documented layout.
        var tbs = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(tbs);
        w.WriteArrayHeader(8);
        w.WriteUInt64(1);
        w.WriteBinary(node.PublicKey.AsSpan());
        w.WriteBinary(certificate.Hash);
        w.WriteUInt64(7);
        w.WriteArrayHeader(0);
        w.WriteArrayHeader(1);
        w.WriteArrayHeader(2);
        w.WriteBinary([10, 2, 0, 0]);
        w.WriteUInt64(16);
        w.WriteNil();
        w.WriteInt64(1_700_000_000);
        byte[] signature = new byte[64];
        node.Sign(SigningContexts.MemberState, tbs.WrittenSpan, signature);

        var record = new ArrayBufferWriter<byte>();
        var r = new MessagePackWriter(record);
        r.WriteArrayHeader(2);
        r.WriteRawUnchecked(certificate.EncodedSpan);
        r.WriteArrayHeader(2);
        r.WriteBinary(tbs.WrittenSpan);
        r.WriteBinary(signature);

        Assert.True(MemberRecord.TryDecode(record.WrittenSpan, out MemberRecord? decoded, out string? error), error);
        Assert.Equal(7UL, decoded!.Version);
        Assert.Equal(MemberRecordValidation.RouteNotApproved, decoded.Verify(root.PublicKey, Now, RevocationSet.Empty));
    }

    [Fact]
    public void Newer_version_wins_with_a_total_tie_break()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node(), other = Node(101);
        MembershipCertificate certificate = MembershipCertificate.Issue(root, Fields(node.PublicKey));
        MemberRecord v1 = MemberRecord.Create(certificate, node, State(1));
        MemberRecord v2 = MemberRecord.Create(certificate, node, State(2) with { Timestamp = IssuedAt });
        Assert.True(v2.IsNewerThan(v1));
        Assert.False(v1.IsNewerThan(v2));
        Assert.False(v1.IsNewerThan(v1));
        Assert.Equal(0, MemberRecord.CompareFreshness(v1, v1));

        // Same version (a node that lost its counter): later timestamp, then bytes, decide the same way everywhere.
        MemberRecord v1Later = MemberRecord.Create(certificate, node, State(1) with { Timestamp = IssuedAt.AddHours(1) });
        Assert.True(v1Later.IsNewerThan(v1));
        MemberRecord v1OtherEndpoints = MemberRecord.Create(certificate, node, State(1) with { Endpoints = [IPEndPoint.Parse("203.0.113.9:1")] });
        int c = MemberRecord.CompareFreshness(v1, v1OtherEndpoints);
        Assert.NotEqual(0, c);
        Assert.Equal(-c, MemberRecord.CompareFreshness(v1OtherEndpoints, v1));

        MemberRecord otherRecord = MemberRecord.Create(MembershipCertificate.Issue(root, Fields(other.PublicKey, "node-b")), other, State());
        Assert.Throws<ArgumentException>(() => MemberRecord.CompareFreshness(v1, otherRecord));
    }

    [Fact]
    public void NextVersion_increases_and_is_at_least_the_clock_in_milliseconds()
    {
        DateTimeOffset now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        Assert.Equal(1_700_000_000_000UL, MemberRecord.NextVersion(0, now));
        Assert.Equal(1_700_000_000_000UL, MemberRecord.NextVersion(5, now));
        Assert.Equal(1_800_000_000_001UL, MemberRecord.NextVersion(1_800_000_000_000, now)); // clock behind the saved version
        Assert.Equal(ulong.MaxValue, MemberRecord.NextVersion(ulong.MaxValue, now));
    }

    private static MemberRecord Splice(MembershipCertificate certificate, MemberRecord stateSource)
    {
        // member record := fixarray(2) [certificate, state]: replace the certificate, keep the state bytes.
        byte[] state = stateSource.EncodedSpan[(1 + stateSource.Certificate.EncodedSpan.Length)..].ToArray();
        byte[] spliced = [0x92, .. certificate.EncodedSpan, .. state];
        Assert.True(MemberRecord.TryDecode(spliced, out MemberRecord? record, out string? error), error);
        return record!;
    }
}
