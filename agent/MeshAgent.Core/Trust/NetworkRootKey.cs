using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.Trust;

/// <summary>
/// A network's Ed25519 root key pair (DESIGN §3). Its public half (<see cref="PublicKey"/>) names the
/// network; the secret half signs membership certificates and revocations and is held by the admins
/// (<c>meshagent init</c> creates it on the first admin). Secret text form <c>meshrootsecret1:</c> +
/// base64url of the 32-byte seed, for the 0600 state file only.
/// </summary>
/// <remarks>Dispose wipes the secret; using the key afterwards throws <see cref="ObjectDisposedException"/>.</remarks>
public sealed class NetworkRootKey : IDisposable
{
    public const string SecretTextPrefix = "meshrootsecret1:";

    private readonly Ed25519Secret _secret;

    private NetworkRootKey(Ed25519Secret secret)
    {
        _secret = secret;
        PublicKey = new NetworkRootPublicKey(secret.PublicKey);
    }

    public NetworkRootPublicKey PublicKey { get; }

    /// <summary>A new random root key (libsodium randombytes).</summary>
    public static NetworkRootKey Generate() => new(Ed25519Secret.Generate());

    /// <summary>The key for a 32-byte seed: deterministic, for tests and for restoring a saved key.</summary>
    public static NetworkRootKey FromSeed(ReadOnlySpan<byte> seed) => new(Ed25519Secret.FromSeed(seed));

    /// <summary>Signs <c>context ‖ 0x00 ‖ body</c> (see <see cref="SigningContexts"/>); 64-byte signature.</summary>
    public void Sign(string context, ReadOnlySpan<byte> body, Span<byte> signature) => _secret.Sign(context, body, signature);

    /// <summary>Copies the 32-byte seed (to hand the key to a new admin inside an encrypted session). The caller owns its secrecy and wipes the copy.</summary>
    public void CopySeed(Span<byte> destination) => _secret.Seed.CopyTo(destination);

    /// <summary>The secret as text for the state file. The caller owns its secrecy: never log it.</summary>
    public string RevealSecretText() => KeyText.Encode(SecretTextPrefix, _secret.Seed);

    /// <summary>Parses <see cref="RevealSecretText"/> output. Never throws on bad text.</summary>
    public static bool TryParseSecretText(ReadOnlySpan<char> text, [NotNullWhen(true)] out NetworkRootKey? key)
    {
        key = null;
        Span<byte> seed = stackalloc byte[Ed25519.SeedSize];
        try
        {
            if (!KeyText.TryDecode(text, SecretTextPrefix, seed))
            {
                return false;
            }

            key = FromSeed(seed);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Describes why <see cref="TryParseSecretText"/> failed, without echoing the secret.</summary>
    public static string DescribeInvalidSecretText(ReadOnlySpan<char> text) =>
        KeyText.DescribeInvalid(text, SecretTextPrefix, "network root secret key");

    public override string ToString() => $"network root key {PublicKey} (secret hidden)";

    public void Dispose() => _secret.Dispose();
}
