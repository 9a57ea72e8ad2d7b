using MeshAgent.Core.Interop;

namespace MeshAgent.Core.Crypto;

/// <summary>
/// Cryptographically secure randomness from libsodium's <c>randombytes_*</c> (the kernel CSPRNG).
/// Code that must be testable with fixed values takes its randomness through an injected source
/// instead of calling this directly (STYLE rule 8).
/// </summary>
public static class SecureRandom
{
    public static unsafe void Fill(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return;
        }

        Libsodium.EnsureInitialized();
        fixed (byte* p = buffer)
        {
            Sodium.randombytes_buf(p, (nuint)buffer.Length);
        }
    }

    public static uint NextUInt32()
    {
        Libsodium.EnsureInitialized();
        return Sodium.randombytes_random();
    }

    /// <summary>Uniform in [0, <paramref name="upperBound"/>) without modulo bias; 0 when the bound is below 2.</summary>
    public static uint NextUInt32(uint upperBound)
    {
        Libsodium.EnsureInitialized();
        return Sodium.randombytes_uniform(upperBound);
    }
}
