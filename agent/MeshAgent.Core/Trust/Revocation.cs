using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using MeshAgent.Core.MessagePack;

namespace MeshAgent.Core.Trust;

/// <summary>
/// A root-signed statement that a node key is no longer a member (DESIGN §3). Spread by gossip, kept
/// forever, enforced by every member. Immutable; holds its exact encoding.
/// </summary>
/// <remarks>
/// Wire layout (MessagePack, canonical form):
/// <code>
/// revocation := fixarray(2) [ tbs: bin, signature: bin 8 (64) ]          (see TrustWire)
/// tbs        := fixarray(5) [
///    0  format version    uint, = 1
///    1  network root key  bin 8 (32)   the issuer
///    2  revoked node key  bin 8 (32)
///    3  revoked at        int, Unix seconds
///    4  reason            str, 0..255 bytes of UTF-8 ]
/// signature  := Ed25519(root secret, "meshagent revocation v1" ‖ 0x00 ‖ tbs)
/// </code>
/// </remarks>
public sealed class Revocation
{
    public const int FormatVersion = 1;
    public const int MaxReasonBytes = 255;
    private const int FieldCount = 5;

    private readonly byte[] _encoded;
    private readonly Range _tbs;
    private readonly Range _signature;

    private Revocation(byte[] encoded, Range tbs, Range signature, NetworkRootPublicKey network, NodePublicKey node, DateTimeOffset revokedAt, string reason)
    {
        _encoded = encoded;
        _tbs = tbs;
        _signature = signature;
        NetworkKey = network;
        NodeKey = node;
        RevokedAt = revokedAt;
        Reason = reason;
    }

    public NetworkRootPublicKey NetworkKey { get; }

    /// <summary>The revoked node.</summary>
    public NodePublicKey NodeKey { get; }

    public DateTimeOffset RevokedAt { get; }

    /// <summary>Free text for people (may be empty); not interpreted.</summary>
    public string Reason { get; }

    /// <summary>Borrowed from this revocation.</summary>
    public ReadOnlySpan<byte> Signature => _encoded.AsSpan()[_signature];

    public byte[] Encode() => (byte[])_encoded.Clone();

    /// <summary>The encoding, borrowed from this revocation (no copy).</summary>
    public ReadOnlySpan<byte> EncodedSpan => _encoded;

    /// <summary>Signs a revocation of <paramref name="node"/>. Throws <see cref="ArgumentException"/> when the reason is too long.</summary>
    public static Revocation Issue(NetworkRootKey root, NodePublicKey node, DateTimeOffset revokedAt, string reason)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(reason);
        int reasonBytes = Encoding.UTF8.GetByteCount(reason);
        if (reasonBytes > MaxReasonBytes)
        {
            throw new ArgumentException($"a revocation reason has at most {MaxReasonBytes} bytes of UTF-8; this one has {reasonBytes}: shorten it", nameof(reason));
        }

        var output = new ArrayBufferWriter<byte>(128);
        var writer = new MessagePackWriter(output);
        writer.WriteArrayHeader(FieldCount);
        writer.WriteUInt64(FormatVersion);
        writer.WriteBinary(root.PublicKey.AsSpan());
        writer.WriteBinary(node.AsSpan());
        writer.WriteInt64(TrustWire.ToUnixSeconds(revokedAt));
        writer.WriteString(reason);

        Span<byte> signature = stackalloc byte[TrustWire.SignatureLength];
        root.Sign(SigningContexts.Revocation, output.WrittenSpan, signature);
        byte[] encoded = TrustWire.EncodeSigned(output.WrittenSpan, signature);
        return TryDecode(encoded, out Revocation? revocation, out string? error)
            ? revocation
            : throw new InvalidOperationException($"a freshly encoded revocation does not decode ({error}); this is a bug");
    }

    /// <summary>Decodes structure and canonical form; the signature is checked by <see cref="Verify"/>. Never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out Revocation? revocation, [NotNullWhen(false)] out string? error)
    {
        revocation = null;
        if (!TrustWire.TryReadSigned(encoded, out Range tbs, out Range signature, out error))
        {
            error = $"not a revocation: {error}";
            return false;
        }

        var reader = new MessagePackReader(encoded[tbs], strict: true);
        if (!reader.TryReadArrayHeader(out int count) || !reader.TryReadUInt32(out uint version))
        {
            error = "not a revocation: the signed fields do not start with an array and a format version";
            return false;
        }

        if (version != FormatVersion || count != FieldCount)
        {
            error = $"revocation format version {version} with {count} fields is not supported (this agent reads version {FormatVersion} with {FieldCount}): upgrade meshagent";
            return false;
        }

        if (!TrustWire.TryReadFixedBinary(ref reader, NetworkRootPublicKey.Length, out ReadOnlySpan<byte> root)
            || !TrustWire.TryReadFixedBinary(ref reader, NodePublicKey.Length, out ReadOnlySpan<byte> node)
            || !reader.TryReadInt64(out long seconds) || !TrustWire.TryFromUnixSeconds(seconds, out DateTimeOffset revokedAt)
            || !reader.TryReadStringUtf8(out ReadOnlySpan<byte> reason) || reason.Length > MaxReasonBytes
            || !reader.End)
        {
            error = "not a valid revocation: expected [version, root key (32 bytes), node key (32 bytes), Unix time, reason (at most 255 bytes)] in canonical form";
            return false;
        }

        revocation = new Revocation(encoded.ToArray(), tbs, signature, new NetworkRootPublicKey(root), new NodePublicKey(node), revokedAt, Encoding.UTF8.GetString(reason));
        error = null;
        return true;
    }

    /// <summary>True when this revocation belongs to <paramref name="root"/>'s network and its signature verifies.</summary>
    public bool Verify(NetworkRootPublicKey root) =>
        root == NetworkKey && root.Verify(SigningContexts.Revocation, _encoded.AsSpan()[_tbs], Signature);

    public override string ToString() => $"revocation of {NodeKey} at {RevokedAt:u}: {Reason}";
}
