using System.Security.Cryptography;
using System.Text;

namespace MeshAgent.Core.Stun;

/// <summary>
/// MESSAGE-INTEGRITY keys (RFC 8489 §9). The mesh itself does not authenticate Binding
/// requests (a reflexive address is no secret); these exist so the codec can be checked against
/// the RFC 5769 vectors and can talk to ICE-style peers later.
/// String preparation (OpaqueString, RFC 8265; SASLprep in RFC 5389) is the caller's job:
/// pass the prepared password.
/// </summary>
public static class StunCredentials
{
    /// <summary>MD5 output: the long-term key size.</summary>
    public const int LongTermKeySize = 16;

    /// <summary>Short-term credentials (§9.1.1): the key is the password's UTF-8 bytes.</summary>
    public static byte[] ShortTermKey(string password) => Encoding.UTF8.GetBytes(password);

    /// <summary>Long-term credentials with MD5 (§9.2.2): key = MD5(username ":" realm ":" password), UTF-8.</summary>
    public static byte[] LongTermKey(string username, string realm, string password) =>
        MD5.HashData(Encoding.UTF8.GetBytes($"{username}:{realm}:{password}"));
}
