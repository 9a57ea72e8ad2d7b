using System.Net;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Invitations;

namespace MeshAgent.Tests.Invitations;

/// <summary>Deterministic tokens and key pairs shared by the invitation tests.</summary>
internal static class InvitationFixtures
{
    /// <summary>"Now" in every test that does not move the clock.</summary>
    public static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>n bytes seed, seed+1, ... (distinct per seed, recognisable in hex dumps).</summary>
    public static byte[] Pattern(int length, byte seed) => Enumerable.Range(0, length).Select(i => (byte)(seed + i)).ToArray();

    /// <summary>
    /// What `meshagent invite --name build-server-07` would print for an admin with two public IPv4
    /// endpoints, one IPv6 endpoint and one relay by DNS name: the size the issue budgets for.
    /// </summary>
    public static JoinToken RealisticToken(byte[]? secret = null, DateTimeOffset? expiresAt = null, byte[]? rootKey = null, byte[]? inviterKey = null) => new(
        "acme-production",
        rootKey ?? Pattern(32, 0x10),
        inviterKey ?? Pattern(32, 0x40),
        [
            new IPEndPoint(IPAddress.Parse("203.0.113.10"), 51820),
            new IPEndPoint(IPAddress.Parse("198.51.100.7"), 51820),
            new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678::10"), 51820),
        ],
        [new RelayAddress("relay-eu-west.meshagent.example.org", 3478)],
        secret ?? Pattern(16, 0xA0),
        expiresAt ?? Now.AddHours(1),
        "build-server-07");

    /// <summary>An admin's keys: X25519 static (WireGuard) and Ed25519 identity.</summary>
    public sealed class NodeKeys
    {
        public NodeKeys()
        {
            X25519.GeneratePrivateKey(StaticPrivate);
            X25519.DerivePublicKey(StaticPrivate, StaticPublic);
            Ed25519.GenerateKeyPair(IdentityPublic, IdentitySecret);
        }

        public byte[] StaticPrivate { get; } = new byte[32];

        public byte[] StaticPublic { get; } = new byte[32];

        public byte[] IdentityPublic { get; } = new byte[32];

        public byte[] IdentitySecret { get; } = new byte[64];
    }
}
