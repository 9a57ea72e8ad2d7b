using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using MeshAgent.Core.Config;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.Trust;

/// <summary>
/// A node's one identity key pair (DESIGN §3): Ed25519 for signing its member state, and — converted to
/// X25519 (<see cref="Ed25519ToX25519"/>) — its WireGuard static key pair, so the key a certificate names
/// is also the key the node handshakes with and no second secret has to be stored or bound.
/// Secret text form <c>meshnodesecret1:</c> + base64url of the 32-byte seed.
/// </summary>
/// <remarks>Dispose wipes both secrets; using the identity afterwards throws <see cref="ObjectDisposedException"/>.</remarks>
public sealed class NodeIdentity : IDisposable
{
    public const string SecretTextPrefix = "meshnodesecret1:";

    private readonly Ed25519Secret _secret;
    private readonly byte[] _wireGuardPrivateKey = GC.AllocateArray<byte>(X25519.KeySize, pinned: true);

    private NodeIdentity(Ed25519Secret secret)
    {
        _secret = secret;
        PublicKey = new NodePublicKey(secret.PublicKey);
        Ed25519ToX25519.ConvertSecretKey(secret.SecretKey, _wireGuardPrivateKey);
        Span<byte> x = stackalloc byte[X25519.KeySize];
        X25519.DerivePublicKey(_wireGuardPrivateKey, x);
        WireGuardPublicKey = new WireGuardPublicKey(x);
    }

    public NodePublicKey PublicKey { get; }

    /// <summary>The WireGuard static public key peers configure for this node (equals <c>PublicKey.TryGetWireGuardPublicKey</c>).</summary>
    public WireGuardPublicKey WireGuardPublicKey { get; }

    /// <summary>The WireGuard static private key (clamped X25519). A copy: the caller must not store it durably.</summary>
    public WireGuardPrivateKey WireGuardPrivateKey
    {
        get
        {
            _ = _secret.SecretKey; // throws when disposed
            return new WireGuardPrivateKey(_wireGuardPrivateKey);
        }
    }

    public static NodeIdentity Generate() => new(Ed25519Secret.Generate());

    /// <summary>The Ed25519 secret key (seed ‖ public key), for Core protocol code that signs with it (the join exchange). Borrowed.</summary>
    internal ReadOnlySpan<byte> SecretKey => _secret.SecretKey;

    /// <summary>The identity for a 32-byte seed: deterministic, for tests and for restoring a saved identity.</summary>
    public static NodeIdentity FromSeed(ReadOnlySpan<byte> seed) => new(Ed25519Secret.FromSeed(seed));

    /// <summary>Signs <c>context ‖ 0x00 ‖ body</c> (see <see cref="SigningContexts"/>); 64-byte signature.</summary>
    public void Sign(string context, ReadOnlySpan<byte> body, Span<byte> signature) => _secret.Sign(context, body, signature);

    /// <summary>The secret as text for the state file. The caller owns its secrecy: never log it.</summary>
    public string RevealSecretText() => KeyText.Encode(SecretTextPrefix, _secret.Seed);

    /// <summary>Parses <see cref="RevealSecretText"/> output. Never throws on bad text.</summary>
    public static bool TryParseSecretText(ReadOnlySpan<char> text, [NotNullWhen(true)] out NodeIdentity? identity)
    {
        identity = null;
        Span<byte> seed = stackalloc byte[Ed25519.SeedSize];
        try
        {
            if (!KeyText.TryDecode(text, SecretTextPrefix, seed))
            {
                return false;
            }

            identity = FromSeed(seed);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Describes why <see cref="TryParseSecretText"/> failed, without echoing the secret.</summary>
    public static string DescribeInvalidSecretText(ReadOnlySpan<char> text) =>
        KeyText.DescribeInvalid(text, SecretTextPrefix, "node secret key");

    public override string ToString() => $"node identity {PublicKey} (secret hidden)";

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_wireGuardPrivateKey);
        _secret.Dispose();
    }
}
