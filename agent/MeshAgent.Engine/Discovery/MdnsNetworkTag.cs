using MeshAgent.Core.Crypto;
using MeshAgent.Core.Trust;

namespace MeshAgent.Engine.Discovery;

/// <summary>
/// The "net=" value agents publish in their DNS-SD TXT record: the first 16 hex characters (8 bytes)
/// of BLAKE2s-256 of the network's root public key. Agents of other networks on the same LAN have
/// another tag and are ignored. 64 bits keep accidental collisions out of reach on any LAN while the
/// root key itself stays unpublished (it is not secret, but the LAN need not learn it).
/// </summary>
public static class MdnsNetworkTag
{
    public const int Length = 16;

    public static string Compute(NetworkRootPublicKey root)
    {
        Span<byte> hash = stackalloc byte[Blake2s.HashSize];
        Blake2s.Hash(root.AsSpan(), hash);
        return Convert.ToHexStringLower(hash[..(Length / 2)]);
    }

    /// <summary>True when <paramref name="tag"/> has the form of a tag (16 lower-case hex characters).</summary>
    public static bool IsWellFormed(string? tag) =>
        tag is { Length: Length } && tag.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
