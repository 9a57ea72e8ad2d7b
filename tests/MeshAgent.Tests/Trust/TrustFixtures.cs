using System.Net;
using MeshAgent.Core.Trust;

namespace MeshAgent.Tests.Trust;

/// <summary>Deterministic keys and certificates for the trust tests (keys from fixed seeds, never random).</summary>
internal static class TrustFixtures
{
    public static readonly DateTimeOffset IssuedAt = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    public static readonly DateTimeOffset ExpiresAt = IssuedAt.AddDays(365);
    public static readonly DateTimeOffset Now = IssuedAt.AddDays(10);

    public static byte[] Seed(byte tag)
    {
        byte[] seed = new byte[32];
        for (int i = 0; i < seed.Length; i++)
        {
            seed[i] = (byte)(tag * 31 + i);
        }

        return seed;
    }

    public static NetworkRootKey Root(byte tag = 1) => NetworkRootKey.FromSeed(Seed(tag));

    public static NodeIdentity Node(byte tag = 100) => NodeIdentity.FromSeed(Seed(tag));

    public static CertificateFields Fields(NodePublicKey node, string name = "node-a") => new()
    {
        NodeKey = node,
        Name = name,
        OverlayIPv4 = IPAddress.Parse("100.96.0.1"),
        OverlayIPv6 = IPAddress.Parse("fd00:1234:5678:9abc::1"),
        ApprovedRoutes = [IPNetwork.Parse("10.1.0.0/16"), IPNetwork.Parse("fd00:aa::/48")],
        Tags = ["site-a"],
        IssuedAt = IssuedAt,
        ExpiresAt = ExpiresAt,
    };

    public static MemberStateFields State(ulong version = 1) => new()
    {
        Version = version,
        Endpoints = [IPEndPoint.Parse("198.51.100.1:51820"), IPEndPoint.Parse("[2001:db8::1]:51820")],
        AdvertisedRoutes = [IPNetwork.Parse("10.1.2.0/24")],
        RelayHome = "relay.example.net:3478",
        Timestamp = IssuedAt.AddMinutes(1),
    };
}
