using System.Security.Cryptography;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.Trust;

/// <summary>
/// An Ed25519 secret key (libsodium layout: seed ‖ public key) in a pinned array, so the GC never leaves
/// copies behind when it compacts, wiped on <see cref="Dispose"/>. Shared by <see cref="NetworkRootKey"/>
/// and <see cref="NodeIdentity"/>; not thread-safe against a concurrent <see cref="Dispose"/>.
/// </summary>
internal sealed class Ed25519Secret : IDisposable
{
    private readonly byte[] _secretKey = GC.AllocateArray<byte>(Ed25519.SecretKeySize, pinned: true);
    private bool _disposed;

    private Ed25519Secret()
    {
    }

    /// <summary>The seed is the RFC 8032 private key; the caller keeps ownership of (and wipes) its copy.</summary>
    public static Ed25519Secret FromSeed(ReadOnlySpan<byte> seed)
    {
        CryptoArgs.RequireLength(seed.Length, Ed25519.SeedSize, nameof(seed));
        var secret = new Ed25519Secret();
        Span<byte> publicKey = stackalloc byte[Ed25519.PublicKeySize];
        Ed25519.KeyPairFromSeed(seed, publicKey, secret._secretKey);
        return secret;
    }

    public static Ed25519Secret Generate()
    {
        Span<byte> seed = stackalloc byte[Ed25519.SeedSize];
        SecureRandom.Fill(seed);
        try
        {
            return FromSeed(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Borrowed: valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> SecretKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _secretKey;
        }
    }

    public ReadOnlySpan<byte> Seed => SecretKey[..Ed25519.SeedSize];

    public ReadOnlySpan<byte> PublicKey => SecretKey[Ed25519.SeedSize..];

    public void Sign(string context, ReadOnlySpan<byte> body, Span<byte> signature) =>
        ContextSignature.Sign(SecretKey, context, body, signature);

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_secretKey);
        _disposed = true;
    }
}
