using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.MessagePack;

namespace MeshAgent.Core.Trust;

/// <summary>
/// A node's membership certificate (DESIGN §3): the network root key vouches for the node's identity key,
/// name, overlay addresses, approved routes and tags for a period. Immutable; holds its exact encoding.
/// </summary>
/// <remarks>
/// Wire layout (MessagePack, canonical form of <see cref="MessagePackWriter"/>):
/// <code>
/// certificate := fixarray(2) [ tbs: bin, signature: bin 8 (64) ]          (see TrustWire)
/// tbs         := fixarray(11) [
///    0  format version     uint, = 1
///    1  network root key   bin 8 (32)   the issuer; Ed25519 public key
///    2  node key           bin 8 (32)   Ed25519 public key, a valid curve point
///    3  name               str          NodeName rules, 1..63 bytes
///    4  overlay IPv4       bin 8 (4)
///    5  overlay IPv6       bin 8 (16)
///    6  approved routes    array (0..64) of prefix, sorted, no duplicates
///    7  tags               array (0..32) of str (1..63 printable ASCII, no space), ordinal order, no duplicates
///    8  issued at          int, Unix seconds
///    9  expires at         int, Unix seconds, greater than issued at
///   10  is admin           bool ]
/// signature   := Ed25519(root secret, "meshagent certificate v1" ‖ 0x00 ‖ tbs)
/// </code>
/// The tbs is decoded strictly and must be consumed exactly, so one certificate has one encoding.
/// A reader that meets a format version it does not know refuses the certificate (no silent downgrade).
/// </remarks>
public sealed class MembershipCertificate
{
    public const int FormatVersion = 1;
    public const int MaxRoutes = 64;
    public const int MaxTags = 32;
    public const int MaxTagLength = 63;
    public const int HashSize = Blake2s.HashSize;
    private const int FieldCount = 11;

    /// <summary>
    /// How far a certificate's issued-at may lie in the future of the verifier's clock. The admin stamps
    /// its own "now"; a joining node whose clock runs a little behind must still accept its certificate.
    /// </summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    private readonly byte[] _encoded;
    private readonly Range _tbs;
    private readonly Range _signature;
    private readonly byte[] _hash;

    private MembershipCertificate(byte[] encoded, Range tbs, Range signature, Body body)
    {
        _encoded = encoded;
        _tbs = tbs;
        _signature = signature;
        NetworkKey = body.NetworkKey;
        NodeKey = body.NodeKey;
        Name = body.Name;
        OverlayIPv4 = body.OverlayIPv4;
        OverlayIPv6 = body.OverlayIPv6;
        ApprovedRoutes = body.ApprovedRoutes;
        Tags = body.Tags;
        IssuedAt = body.IssuedAt;
        ExpiresAt = body.ExpiresAt;
        IsAdmin = body.IsAdmin;
        _hash = new byte[HashSize];
        Blake2s.Hash(encoded, _hash);
    }

    public int Version => FormatVersion;

    /// <summary>The network (and issuer): the root key that signed this certificate.</summary>
    public NetworkRootPublicKey NetworkKey { get; }

    public NodePublicKey NodeKey { get; }

    public string Name { get; }

    public IPAddress OverlayIPv4 { get; }

    public IPAddress OverlayIPv6 { get; }

    /// <summary>Canonical order: IPv4 before IPv6, then address, then length.</summary>
    public IReadOnlyList<IPNetwork> ApprovedRoutes { get; }

    /// <summary>Ordinal order.</summary>
    public IReadOnlyList<string> Tags { get; }

    public DateTimeOffset IssuedAt { get; }

    public DateTimeOffset ExpiresAt { get; }

    public bool IsAdmin { get; }

    /// <summary>The root's Ed25519 signature. Borrowed from this certificate.</summary>
    public ReadOnlySpan<byte> Signature => _encoded.AsSpan()[_signature];

    /// <summary>
    /// BLAKE2s-256 of the whole encoding: a short, collision-resistant name for this exact certificate, which
    /// member states sign to bind themselves to it. Borrowed from this certificate.
    /// </summary>
    public ReadOnlySpan<byte> Hash => _hash;

    /// <summary>The encoding (a copy).</summary>
    public byte[] Encode() => (byte[])_encoded.Clone();

    /// <summary>The encoding, borrowed from this certificate (no copy).</summary>
    public ReadOnlySpan<byte> EncodedSpan => _encoded;

    /// <summary>
    /// Signs a certificate with the root key. Throws <see cref="ArgumentException"/> naming the field when
    /// the fields break a rule of the layout above (they would otherwise produce an undecodable certificate).
    /// </summary>
    public static MembershipCertificate Issue(NetworkRootKey root, CertificateFields fields)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(fields.Name);
        ArgumentNullException.ThrowIfNull(fields.OverlayIPv4);
        ArgumentNullException.ThrowIfNull(fields.OverlayIPv6);
        ArgumentNullException.ThrowIfNull(fields.Tags);

        string[] tags = [.. fields.Tags.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        var body = new Body
        {
            NetworkKey = root.PublicKey,
            NodeKey = fields.NodeKey,
            Name = fields.Name,
            OverlayIPv4 = fields.OverlayIPv4,
            OverlayIPv6 = fields.OverlayIPv6,
            ApprovedRoutes = TrustWire.CanonicalPrefixSet(fields.ApprovedRoutes, "approved routes"),
            Tags = tags,
            IssuedAt = DateTimeOffset.FromUnixTimeSeconds(TrustWire.ToUnixSeconds(fields.IssuedAt)),
            ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(TrustWire.ToUnixSeconds(fields.ExpiresAt)),
            IsAdmin = fields.IsAdmin,
        };

        if (body.Check() is string problem)
        {
            throw new ArgumentException($"cannot issue a certificate for '{fields.Name}': {problem}", nameof(fields));
        }

        var output = new ArrayBufferWriter<byte>(256);
        var writer = new MessagePackWriter(output);
        body.Write(ref writer);
        Span<byte> signature = stackalloc byte[TrustWire.SignatureLength];
        root.Sign(SigningContexts.Certificate, output.WrittenSpan, signature);
        byte[] encoded = TrustWire.EncodeSigned(output.WrittenSpan, signature);
        if (!TrustWire.TryReadSigned(encoded, out Range tbs, out Range sig, out string? error))
        {
            throw new InvalidOperationException($"a freshly encoded certificate does not parse ({error}); this is a bug");
        }

        return new MembershipCertificate(encoded, tbs, sig, body);
    }

    /// <summary>
    /// Decodes a certificate, checking its structure and canonical form but not its signature, network,
    /// time or revocation (<see cref="Validate(NetworkRootPublicKey, DateTimeOffset, RevocationSet)"/> does).
    /// Never throws; on failure <paramref name="error"/> says what is wrong.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out MembershipCertificate? certificate, [NotNullWhen(false)] out string? error)
    {
        certificate = null;
        if (!TrustWire.TryReadSigned(encoded, out Range tbs, out Range signature, out error))
        {
            error = $"not a certificate: {error}";
            return false;
        }

        if (!Body.TryRead(encoded[tbs], out Body? body, out error))
        {
            error = $"not a valid certificate: {error}";
            return false;
        }

        certificate = new MembershipCertificate(encoded.ToArray(), tbs, signature, body!);
        return true;
    }

    /// <summary>
    /// Checks, in order: the network, the root signature, revocation, then the validity period (issued-at
    /// may be up to <see cref="MaxClockSkew"/> ahead of <paramref name="now"/>; expiry is exact).
    /// </summary>
    public CertificateValidation Validate(NetworkRootPublicKey root, DateTimeOffset now, RevocationSet revoked)
    {
        ArgumentNullException.ThrowIfNull(revoked);
        if (root != NetworkKey)
        {
            return CertificateValidation.WrongNetwork;
        }

        if (!root.Verify(SigningContexts.Certificate, _encoded.AsSpan()[_tbs], Signature))
        {
            return CertificateValidation.BadSignature;
        }

        if (revoked.Contains(NodeKey))
        {
            return CertificateValidation.Revoked;
        }

        if (IssuedAt > now + MaxClockSkew)
        {
            return CertificateValidation.NotYetValid;
        }

        return now >= ExpiresAt ? CertificateValidation.Expired : CertificateValidation.Valid;
    }

    /// <summary>As the other overload, with the root key as 32 raw bytes (any other length is a caller bug and throws).</summary>
    public CertificateValidation Validate(ReadOnlySpan<byte> rootPublicKey, DateTimeOffset now, RevocationSet revoked) =>
        Validate(new NetworkRootPublicKey(rootPublicKey), now, revoked);

    /// <summary>True when one of the approved routes contains all of <paramref name="route"/>.</summary>
    public bool Approves(IPNetwork route)
    {
        foreach (IPNetwork approved in ApprovedRoutes)
        {
            if (TrustWire.Covers(approved, route))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() =>
        $"certificate '{Name}' {NodeKey} {OverlayIPv4} {OverlayIPv6}{(IsAdmin ? " admin" : "")} valid {IssuedAt:u}..{ExpiresAt:u}";

    /// <summary>The to-be-signed fields, shared by issuing (validate, write) and decoding (read, validate).</summary>
    private sealed class Body
    {
        public NetworkRootPublicKey NetworkKey;
        public NodePublicKey NodeKey;
        public string Name = "";
        public IPAddress OverlayIPv4 = IPAddress.None;
        public IPAddress OverlayIPv6 = IPAddress.IPv6None;
        public IPNetwork[] ApprovedRoutes = [];
        public string[] Tags = [];
        public DateTimeOffset IssuedAt;
        public DateTimeOffset ExpiresAt;
        public bool IsAdmin;

        /// <summary>Rules not expressed by the decoder's types; null when all hold.</summary>
        public string? Check()
        {
            if (NodeName.Describe(Name) is string nameProblem)
            {
                return nameProblem;
            }

            if (!NodeKey.TryGetWireGuardPublicKey(out _))
            {
                return $"node key {NodeKey} is not a valid Ed25519 public key";
            }

            if (OverlayIPv4.AddressFamily != AddressFamily.InterNetwork)
            {
                return $"overlay IPv4 address {OverlayIPv4} is not an IPv4 address";
            }

            if (OverlayIPv6.AddressFamily != AddressFamily.InterNetworkV6 || OverlayIPv6.IsIPv4MappedToIPv6)
            {
                return $"overlay IPv6 address {OverlayIPv6} is not an IPv6 address";
            }

            if (ApprovedRoutes.Length > MaxRoutes)
            {
                return $"{ApprovedRoutes.Length} approved routes, at most {MaxRoutes} allowed";
            }

            if (Tags.Length > MaxTags)
            {
                return $"{Tags.Length} tags, at most {MaxTags} allowed";
            }

            foreach (string tag in Tags)
            {
                if (tag.Length is 0 or > MaxTagLength || tag.Any(c => c is <= ' ' or > '~'))
                {
                    return $"tag '{tag}' is not 1 to {MaxTagLength} printable ASCII characters without spaces";
                }
            }

            return ExpiresAt <= IssuedAt ? $"expires at {ExpiresAt:u}, which is not after issued at {IssuedAt:u}" : null;
        }

        public void Write(ref MessagePackWriter writer)
        {
            writer.WriteArrayHeader(FieldCount);
            writer.WriteUInt64(FormatVersion);
            writer.WriteBinary(NetworkKey.AsSpan());
            writer.WriteBinary(NodeKey.AsSpan());
            writer.WriteString(Name);
            TrustWire.WriteAddress(ref writer, OverlayIPv4);
            TrustWire.WriteAddress(ref writer, OverlayIPv6);
            TrustWire.WritePrefixes(ref writer, ApprovedRoutes);
            writer.WriteArrayHeader(Tags.Length);
            foreach (string tag in Tags)
            {
                writer.WriteString(tag);
            }

            writer.WriteInt64(TrustWire.ToUnixSeconds(IssuedAt));
            writer.WriteInt64(TrustWire.ToUnixSeconds(ExpiresAt));
            writer.WriteBoolean(IsAdmin);
        }

        public static bool TryRead(ReadOnlySpan<byte> tbs, out Body? body, out string? error)
        {
            body = null;
            var reader = new MessagePackReader(tbs, strict: true);
            var b = new Body();
            if (!reader.TryReadArrayHeader(out int count) || !reader.TryReadUInt32(out uint version))
            {
                return Fail("the signed fields do not start with an array and a format version", out error);
            }

            if (version != FormatVersion)
            {
                return Fail($"format version {version} is not supported (this agent reads version {FormatVersion}): upgrade meshagent", out error);
            }

            if (count != FieldCount)
            {
                return Fail($"version {FormatVersion} has {FieldCount} fields, this one has {count}", out error);
            }

            if (!TrustWire.TryReadFixedBinary(ref reader, NetworkRootPublicKey.Length, out ReadOnlySpan<byte> root))
            {
                return Fail("field 1 (network root key) is not 32 bytes", out error);
            }

            b.NetworkKey = new NetworkRootPublicKey(root);
            if (!TrustWire.TryReadFixedBinary(ref reader, NodePublicKey.Length, out ReadOnlySpan<byte> node))
            {
                return Fail("field 2 (node key) is not 32 bytes", out error);
            }

            b.NodeKey = new NodePublicKey(node);
            if (!reader.TryReadString(out string? name))
            {
                return Fail("field 3 (name) is not a string", out error);
            }

            b.Name = name!;
            if (!TrustWire.TryReadAddress(ref reader, out IPAddress? v4) || !TrustWire.TryReadAddress(ref reader, out IPAddress? v6))
            {
                return Fail("fields 4 and 5 (overlay addresses) are not 4 and 16 bytes", out error);
            }

            b.OverlayIPv4 = v4!;
            b.OverlayIPv6 = v6!;
            if (!TrustWire.TryReadPrefixSet(ref reader, MaxRoutes, out b.ApprovedRoutes))
            {
                return Fail($"field 6 (approved routes) is not a sorted, duplicate-free list of at most {MaxRoutes} prefixes", out error);
            }

            if (!reader.TryReadArrayHeader(out int tagCount) || tagCount > MaxTags)
            {
                return Fail($"field 7 (tags) is not a list of at most {MaxTags} strings", out error);
            }

            b.Tags = new string[tagCount];
            for (int i = 0; i < tagCount; i++)
            {
                if (!reader.TryReadString(out string? tag) || (i > 0 && string.CompareOrdinal(b.Tags[i - 1], tag) >= 0))
                {
                    return Fail("field 7 (tags) is not a sorted, duplicate-free list of strings", out error);
                }

                b.Tags[i] = tag!;
            }

            if (!reader.TryReadInt64(out long issued) || !TrustWire.TryFromUnixSeconds(issued, out b.IssuedAt)
                || !reader.TryReadInt64(out long expires) || !TrustWire.TryFromUnixSeconds(expires, out b.ExpiresAt))
            {
                return Fail("fields 8 and 9 (issued at, expires at) are not Unix times", out error);
            }

            if (!reader.TryReadBoolean(out b.IsAdmin))
            {
                return Fail("field 10 (is admin) is not a boolean", out error);
            }

            if (!reader.End)
            {
                return Fail($"{reader.Remaining} unexpected bytes after the last field", out error);
            }

            if (b.Check() is string problem)
            {
                return Fail(problem, out error);
            }

            body = b;
            error = null;
            return true;
        }

        private static bool Fail(string message, out string? error)
        {
            error = message;
            return false;
        }
    }
}
