using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MeshAgent.Core.MessagePack;

namespace MeshAgent.Core.Trust;

/// <summary>
/// What gossip spreads about a member (DESIGN §4): its root-signed certificate plus its own signed dynamic
/// state (endpoints, advertised routes, relay home, version). The state is signed by the node's identity
/// key, so no relaying node can forge another's endpoints, and it names the hash of the certificate it was
/// made for, so a relay cannot pair it with an older certificate (e.g. one with wider approved routes).
/// Immutable; holds its exact encoding.
/// </summary>
/// <remarks>
/// Wire layout (MessagePack, canonical form):
/// <code>
/// member record := fixarray(2) [ certificate (MembershipCertificate's encoding, as a nested value),
///                                state ]
/// state         := fixarray(2) [ tbs: bin, signature: bin 8 (64) ]          (see TrustWire)
/// tbs           := fixarray(8) [
///    0  format version     uint, = 1
///    1  node key           bin 8 (32)   must equal the certificate's node key
///    2  certificate hash   bin 8 (32)   BLAKE2s-256 of the certificate's encoding
///    3  state version      uint (64-bit), strictly increasing per node
///    4  endpoints          array (0..16) of endpoint, most preferred first, no duplicates
///    5  advertised routes  array (0..64) of prefix, sorted, no duplicates
///    6  relay home         str (1..255 bytes) or nil
///    7  timestamp          int, Unix seconds ]
/// signature     := Ed25519(node secret, "meshagent member state v1" ‖ 0x00 ‖ tbs)
/// </code>
/// </remarks>
public sealed class MemberRecord
{
    public const int FormatVersion = 1;
    public const int MaxEndpoints = 16;
    public const int MaxAdvertisedRoutes = MembershipCertificate.MaxRoutes;
    public const int MaxRelayHomeBytes = 255;
    private const int FieldCount = 8;

    private readonly byte[] _encoded;
    private readonly byte[] _state;
    private readonly Range _tbs;
    private readonly Range _signature;
    private readonly byte[] _certificateHash;

    private MemberRecord(MembershipCertificate certificate, byte[] state, Range tbs, Range signature, State fields)
    {
        Certificate = certificate;
        _state = state;
        _tbs = tbs;
        _signature = signature;
        StateNodeKey = fields.NodeKey;
        _certificateHash = fields.CertificateHash;
        Version = fields.Version;
        Endpoints = fields.Endpoints;
        AdvertisedRoutes = fields.AdvertisedRoutes;
        RelayHome = fields.RelayHome;
        Timestamp = fields.Timestamp;

        var output = new ArrayBufferWriter<byte>(certificate.EncodedSpan.Length + state.Length + 1);
        var writer = new MessagePackWriter(output);
        writer.WriteArrayHeader(2);
        writer.WriteRawUnchecked(certificate.EncodedSpan);
        writer.WriteRawUnchecked(state);
        _encoded = output.WrittenSpan.ToArray();
    }

    public MembershipCertificate Certificate { get; }

    /// <summary>The member: the certificate's node key.</summary>
    public NodePublicKey NodeKey => Certificate.NodeKey;

    /// <summary>The node key the state claims; <see cref="Verify"/> requires it to equal <see cref="NodeKey"/>.</summary>
    public NodePublicKey StateNodeKey { get; }

    public ulong Version { get; }

    public IReadOnlyList<IPEndPoint> Endpoints { get; }

    public IReadOnlyList<IPNetwork> AdvertisedRoutes { get; }

    public string? RelayHome { get; }

    public DateTimeOffset Timestamp { get; }

    /// <summary>The node's signature over the state. Borrowed from this record.</summary>
    public ReadOnlySpan<byte> StateSignature => _state.AsSpan()[_signature];

    public byte[] Encode() => (byte[])_encoded.Clone();

    /// <summary>The encoding, borrowed from this record (no copy).</summary>
    public ReadOnlySpan<byte> EncodedSpan => _encoded;

    /// <summary>
    /// The node signs its current state for <paramref name="certificate"/>. Throws <see cref="ArgumentException"/>
    /// when <paramref name="owner"/> is not the certificate's node, a route is not approved, or a field breaks
    /// a limit of the layout.
    /// </summary>
    public static MemberRecord Create(MembershipCertificate certificate, NodeIdentity owner, MemberStateFields fields)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(fields.Endpoints);
        if (owner.PublicKey != certificate.NodeKey)
        {
            throw new ArgumentException($"the identity {owner.PublicKey} cannot sign state for the certificate of {certificate.NodeKey} ('{certificate.Name}')", nameof(owner));
        }

        var state = new State
        {
            NodeKey = owner.PublicKey,
            CertificateHash = certificate.Hash.ToArray(),
            Version = fields.Version,
            Endpoints = [.. fields.Endpoints.Select(e => new IPEndPoint(new IPAddress(e.Address.GetAddressBytes()), e.Port))], // drops scope ids
            AdvertisedRoutes = TrustWire.CanonicalPrefixSet(fields.AdvertisedRoutes, "advertised routes"),
            RelayHome = fields.RelayHome,
            Timestamp = DateTimeOffset.FromUnixTimeSeconds(TrustWire.ToUnixSeconds(fields.Timestamp)),
        };

        if (state.Check() is string problem)
        {
            throw new ArgumentException($"cannot sign member state for '{certificate.Name}': {problem}", nameof(fields));
        }

        foreach (IPNetwork route in state.AdvertisedRoutes)
        {
            if (!certificate.Approves(route))
            {
                throw new ArgumentException($"'{certificate.Name}' may not advertise {route}: its certificate approves only [{string.Join(", ", certificate.ApprovedRoutes)}]", nameof(fields));
            }
        }

        var output = new ArrayBufferWriter<byte>(256);
        var writer = new MessagePackWriter(output);
        state.Write(ref writer);
        Span<byte> signature = stackalloc byte[TrustWire.SignatureLength];
        owner.Sign(SigningContexts.MemberState, output.WrittenSpan, signature);
        byte[] encodedState = TrustWire.EncodeSigned(output.WrittenSpan, signature);
        if (!TrustWire.TryReadSigned(encodedState, out Range tbs, out Range sig, out string? error))
        {
            throw new InvalidOperationException($"a freshly encoded member state does not parse ({error}); this is a bug");
        }

        return new MemberRecord(certificate, encodedState, tbs, sig, state);
    }

    /// <summary>
    /// Decodes structure and canonical form of the certificate and the state; signatures, network, times,
    /// revocation and routes are checked by <see cref="Verify"/>. Never throws.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out MemberRecord? record, [NotNullWhen(false)] out string? error)
    {
        record = null;
        var reader = new MessagePackReader(encoded, strict: true);
        if (!reader.TryReadArrayHeader(out int count) || count != 2)
        {
            error = "not a member record: expected a 2-element array [certificate, state]";
            return false;
        }

        if (!reader.TryReadRaw(out ReadOnlySpan<byte> certificateBytes))
        {
            error = "member record: the certificate is truncated or not canonical";
            return false;
        }

        if (!MembershipCertificate.TryDecode(certificateBytes, out MembershipCertificate? certificate, out error))
        {
            error = $"member record: {error}";
            return false;
        }

        if (!reader.TryReadRaw(out ReadOnlySpan<byte> stateBytes) || !reader.End)
        {
            error = "member record: the state is truncated or followed by unexpected bytes";
            return false;
        }

        if (!TrustWire.TryReadSigned(stateBytes, out Range tbs, out Range signature, out error))
        {
            error = $"member record state: {error}";
            return false;
        }

        if (!State.TryRead(stateBytes[tbs], out State? state, out error))
        {
            error = $"member record state: {error}";
            return false;
        }

        record = new MemberRecord(certificate!, stateBytes.ToArray(), tbs, signature, state!);
        return true;
    }

    /// <summary>
    /// Everything a member checks before using a record: the certificate (network, root signature,
    /// revocation, validity period), then that the state is the certificate node's, made for this
    /// certificate, signed by that node, and advertises only approved routes.
    /// </summary>
    /// <remarks>
    /// Costs two Ed25519 verifications (tens of microseconds each): gossip should verify a record once when it
    /// first arrives (keyed by its encoding) and re-check only the time and revocation parts later.
    /// </remarks>
    public MemberRecordValidation Verify(NetworkRootPublicKey root, DateTimeOffset now, RevocationSet revoked)
    {
        switch (Certificate.Validate(root, now, revoked))
        {
            case CertificateValidation.Valid:
                break;
            case CertificateValidation.WrongNetwork:
                return MemberRecordValidation.WrongNetwork;
            case CertificateValidation.BadSignature:
                return MemberRecordValidation.BadCertificateSignature;
            case CertificateValidation.Revoked:
                return MemberRecordValidation.Revoked;
            case CertificateValidation.NotYetValid:
                return MemberRecordValidation.NotYetValid;
            default:
                return MemberRecordValidation.Expired;
        }

        if (StateNodeKey != Certificate.NodeKey)
        {
            return MemberRecordValidation.StateKeyMismatch;
        }

        if (!Certificate.Hash.SequenceEqual(_certificateHash))
        {
            return MemberRecordValidation.StateCertificateMismatch;
        }

        if (!Certificate.NodeKey.Verify(SigningContexts.MemberState, _state.AsSpan()[_tbs], StateSignature))
        {
            return MemberRecordValidation.BadStateSignature;
        }

        foreach (IPNetwork route in AdvertisedRoutes)
        {
            if (!Certificate.Approves(route))
            {
                return MemberRecordValidation.RouteNotApproved;
            }
        }

        return MemberRecordValidation.Valid;
    }

    /// <summary>True when gossip should replace <paramref name="other"/> (same node) with this record.</summary>
    public bool IsNewerThan(MemberRecord other) => CompareFreshness(this, other) > 0;

    /// <summary>
    /// Newer-version-wins order for records of the same node: state version, then timestamp, then the
    /// encoding byte-wise — a total order, so members that saw the same records in any order keep the same
    /// one. Positive when <paramref name="a"/> is newer. Records of different nodes throw
    /// <see cref="ArgumentException"/> (a caller bug). Compare only verified records.
    /// </summary>
    public static int CompareFreshness(MemberRecord a, MemberRecord b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.NodeKey != b.NodeKey)
        {
            throw new ArgumentException($"records of different nodes ({a.NodeKey}, {b.NodeKey}) have no freshness order", nameof(b));
        }

        int c = a.Version.CompareTo(b.Version);
        if (c == 0)
        {
            c = a.Timestamp.CompareTo(b.Timestamp);
        }

        return c != 0 ? c : Math.Sign(a.EncodedSpan.SequenceCompareTo(b.EncodedSpan));
    }

    /// <summary>
    /// The version for a node's next state: one more than <paramref name="previous"/>, but at least the Unix
    /// time in milliseconds, so a node that restarts without its saved version (new disk, restored backup)
    /// still outranks every record it published before, as long as its clock moves forward.
    /// </summary>
    public static ulong NextVersion(ulong previous, DateTimeOffset now)
    {
        ulong clock = (ulong)Math.Max(0, now.ToUnixTimeMilliseconds());
        return Math.Max(previous == ulong.MaxValue ? previous : previous + 1, clock);
    }

    public override string ToString() => $"member '{Certificate.Name}' {NodeKey} v{Version} [{string.Join(", ", Endpoints)}]";

    private sealed class State
    {
        public NodePublicKey NodeKey;
        public byte[] CertificateHash = [];
        public ulong Version;
        public IPEndPoint[] Endpoints = [];
        public IPNetwork[] AdvertisedRoutes = [];
        public string? RelayHome;
        public DateTimeOffset Timestamp;

        public string? Check()
        {
            if (Endpoints.Length > MaxEndpoints)
            {
                return $"{Endpoints.Length} endpoints, at most {MaxEndpoints} allowed";
            }

            for (int i = 0; i < Endpoints.Length; i++)
            {
                IPEndPoint endpoint = Endpoints[i];
                if (endpoint.Port == 0 || endpoint.Address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                    || endpoint.Address.IsIPv4MappedToIPv6)
                {
                    return $"endpoint {endpoint} is not an IPv4 or IPv6 address (IPv4 in its own form) with a port of 1..65535";
                }

                for (int j = 0; j < i; j++)
                {
                    if (Endpoints[j].Equals(endpoint))
                    {
                        return $"endpoint {endpoint} is listed twice";
                    }
                }
            }

            if (AdvertisedRoutes.Length > MaxAdvertisedRoutes)
            {
                return $"{AdvertisedRoutes.Length} advertised routes, at most {MaxAdvertisedRoutes} allowed";
            }

            return RelayHome is not null && Encoding.UTF8.GetByteCount(RelayHome) is 0 or > MaxRelayHomeBytes
                ? $"relay home has {Encoding.UTF8.GetByteCount(RelayHome)} bytes of UTF-8; 1 to {MaxRelayHomeBytes} allowed (or none)"
                : null;
        }

        public void Write(ref MessagePackWriter writer)
        {
            writer.WriteArrayHeader(FieldCount);
            writer.WriteUInt64(FormatVersion);
            writer.WriteBinary(NodeKey.AsSpan());
            writer.WriteBinary(CertificateHash);
            writer.WriteUInt64(Version);
            writer.WriteArrayHeader(Endpoints.Length);
            foreach (IPEndPoint endpoint in Endpoints)
            {
                TrustWire.WriteEndpoint(ref writer, endpoint);
            }

            TrustWire.WritePrefixes(ref writer, AdvertisedRoutes);
            if (RelayHome is null)
            {
                writer.WriteNil();
            }
            else
            {
                writer.WriteString(RelayHome);
            }

            writer.WriteInt64(TrustWire.ToUnixSeconds(Timestamp));
        }

        public static bool TryRead(ReadOnlySpan<byte> tbs, out State? state, out string? error)
        {
            state = null;
            var reader = new MessagePackReader(tbs, strict: true);
            var s = new State();
            if (!reader.TryReadArrayHeader(out int count) || !reader.TryReadUInt32(out uint version))
            {
                error = "the signed fields do not start with an array and a format version";
                return false;
            }

            if (version != FormatVersion || count != FieldCount)
            {
                error = $"format version {version} with {count} fields is not supported (this agent reads version {FormatVersion} with {FieldCount}): upgrade meshagent";
                return false;
            }

            if (!TrustWire.TryReadFixedBinary(ref reader, NodePublicKey.Length, out ReadOnlySpan<byte> node)
                || !TrustWire.TryReadFixedBinary(ref reader, MembershipCertificate.HashSize, out ReadOnlySpan<byte> hash))
            {
                error = "fields 1 and 2 (node key, certificate hash) are not 32 bytes each";
                return false;
            }

            s.NodeKey = new NodePublicKey(node);
            s.CertificateHash = hash.ToArray();
            if (!reader.TryReadUInt64(out s.Version))
            {
                error = "field 3 (state version) is not an unsigned integer";
                return false;
            }

            if (!reader.TryReadArrayHeader(out int endpointCount) || endpointCount > MaxEndpoints)
            {
                error = $"field 4 (endpoints) is not a list of at most {MaxEndpoints} endpoints";
                return false;
            }

            s.Endpoints = new IPEndPoint[endpointCount];
            for (int i = 0; i < endpointCount; i++)
            {
                if (!TrustWire.TryReadEndpoint(ref reader, out IPEndPoint? endpoint))
                {
                    error = $"field 4 (endpoints): entry {i} is not [address (4 or 16 bytes), port 1..65535]";
                    return false;
                }

                s.Endpoints[i] = endpoint!;
            }

            if (!TrustWire.TryReadPrefixSet(ref reader, MaxAdvertisedRoutes, out s.AdvertisedRoutes))
            {
                error = $"field 5 (advertised routes) is not a sorted, duplicate-free list of at most {MaxAdvertisedRoutes} prefixes";
                return false;
            }

            if (!reader.TryReadNil())
            {
                if (!reader.TryReadString(out s.RelayHome))
                {
                    error = "field 6 (relay home) is neither a string nor nil";
                    return false;
                }
            }

            if (!reader.TryReadInt64(out long seconds) || !TrustWire.TryFromUnixSeconds(seconds, out s.Timestamp))
            {
                error = "field 7 (timestamp) is not a Unix time";
                return false;
            }

            if (!reader.End)
            {
                error = $"{reader.Remaining} unexpected bytes after the last field";
                return false;
            }

            error = s.Check();
            if (error is not null)
            {
                return false;
            }

            state = s;
            return true;
        }
    }
}
