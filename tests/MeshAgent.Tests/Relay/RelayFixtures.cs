using System.Net;
using MeshAgent.Core.Trust;
using MeshAgent.Relay;
using MeshAgent.Tests.Trust;

namespace MeshAgent.Tests.Relay;

/// <summary>Keys, certificates and options for the relay tests: real keys from fixed seeds (Core/Trust), never mocks.</summary>
internal static class RelayFixtures
{
    /// <summary>A moment inside every certificate's validity period issued with <see cref="Certificate"/>'s defaults.</summary>
    public static DateTimeOffset Now => TrustFixtures.Now;

    public static NetworkRootKey Root(byte tag = 1) => TrustFixtures.Root(tag);

    public static NodeIdentity Node(int index) => NodeIdentity.FromSeed(Seed(index));

    /// <summary>Distinct seeds for thousands of nodes (TrustFixtures' tags are bytes).</summary>
    public static byte[] Seed(int index)
    {
        byte[] seed = new byte[32];
        BitConverter.TryWriteBytes(seed, index);
        seed[31] = 0x5A;
        return seed;
    }

    public static MembershipCertificate Certificate(NetworkRootKey root, NodeIdentity node, DateTimeOffset? issuedAt = null, DateTimeOffset? expiresAt = null) =>
        MembershipCertificate.Issue(root, TrustFixtures.Fields(node.PublicKey, "node-" + node.PublicKey.AsSpan()[0].ToString("x2", System.Globalization.CultureInfo.InvariantCulture)) with
        {
            IssuedAt = issuedAt ?? TrustFixtures.IssuedAt,
            ExpiresAt = expiresAt ?? TrustFixtures.ExpiresAt,
        });

    /// <summary>A certificate valid by the real clock, for tests with real sockets and timers.</summary>
    public static MembershipCertificate CurrentCertificate(NetworkRootKey root, NodeIdentity node) =>
        Certificate(root, node, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

    public static RelayOptions Options(string stateDirectory, params NetworkRootPublicKey[] roots) => new()
    {
        Listen = [new IPEndPoint(IPAddress.Loopback, 0)],
        AcceptedRoots = roots,
        StateDirectory = stateDirectory,
    };
}

/// <summary>A temporary directory deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("meshrelay-test-").FullName;
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: /tmp is cleaned anyway.
        }
    }
}
