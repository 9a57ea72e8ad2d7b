using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;
using MeshAgent.Relay;
using Xunit.Abstractions;

namespace MeshAgent.Tests.Relay;

/// <summary>
/// Thousands of authenticated clients on one relay (DESIGN §1: a relay must serve thousands): 2,000 real UDP sockets
/// on loopback, each from its own 127.0.x.y address as distinct hosts would be (the relay limits handshakes per
/// address), all authenticating with real certificates and signatures, then each sending a few payloads to another.
/// </summary>
public sealed class RelayScaleTests(ITestOutputHelper output)
{
    private const int Clients = 2000;
    private const int PacketsPerClient = 3;

    [Fact]
    public async Task Two_thousand_clients_authenticate_and_every_payload_arrives()
    {
        using NetworkRootKey root = RelayFixtures.Root();
        using NodeIdentity relayIdentity = RelayFixtures.Node(1_000_000);
        using var state = new TempDirectory();
        var total = Stopwatch.StartNew();
        await using RelayServer relay = RelayServer.Start(RelayFixtures.Options(state.Path, root.PublicKey), relayIdentity);
        IPEndPoint relayEndPoint = relay.UdpEndPoints[0];

        var identities = new NodeIdentity[Clients];
        var clients = new UdpRelayTestClient[Clients];
        DateTimeOffset now = DateTimeOffset.UtcNow;
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                identities[i] = RelayFixtures.Node(i + 1);
                MembershipCertificate certificate = RelayFixtures.Certificate(root, identities[i], now.AddDays(-1), now.AddDays(1));
                var address = new IPAddress(new byte[] { 127, 0, (byte)(1 + (i / 250)), (byte)(1 + (i % 250)) });
                clients[i] = new UdpRelayTestClient(identities[i], certificate, relayEndPoint, address);
            }

            output.WriteLine($"{Clients} clients created in {total.ElapsedMilliseconds} ms");
            var handshake = Stopwatch.StartNew();
            foreach (UdpRelayTestClient client in clients)
            {
                client.Client.Start();
            }

            await Eventually.HoldsAsync(() => relay.SessionCount == Clients && clients.All(c => c.Client.State == RelayClientState.Connected), TimeSpan.FromSeconds(15),
                () => $"{relay.SessionCount} sessions, {clients.Count(c => c.Client.State == RelayClientState.Connected)} clients connected");
            output.WriteLine($"all authenticated in {handshake.ElapsedMilliseconds} ms; hellos sent {clients.Sum(c => c.Client.Counters.HellosSent)}, auths sent {clients.Sum(c => c.Client.Counters.AuthsSent)}");

            var traffic = Stopwatch.StartNew();
            for (int round = 0; round < PacketsPerClient; round++)
            {
                for (int i = 0; i < Clients; i++)
                {
                    byte[] payload = new byte[64 + (i % 200)];
                    BinaryPrimitives.WriteInt32BigEndian(payload, i);
                    BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(4), round);
                    Assert.True(clients[i].Client.Send(identities[(i + 1) % Clients].PublicKey, payload));
                }

                // Let each round drain before the next: the test is about the relay's state, not about socket buffers.
                int expected = (round + 1) * Clients;
                await Eventually.HoldsAsync(() => clients.Sum(c => c.Received.Count) == expected, TimeSpan.FromSeconds(10),
                    () => $"round {round}: {clients.Sum(c => c.Received.Count)} of {expected} payloads arrived; relay drops: {Drops(relay)}");
            }

            output.WriteLine($"{Clients * PacketsPerClient} payloads forwarded in {traffic.ElapsedMilliseconds} ms; total {total.ElapsedMilliseconds} ms");
            for (int i = 0; i < Clients; i++)
            {
                int from = (i + Clients - 1) % Clients;
                (NodePublicKey Source, byte[] Payload)[] got = [.. clients[i].Received];
                Assert.Equal(PacketsPerClient, got.Length);
                Assert.All(got, r =>
                {
                    Assert.Equal(identities[from].PublicKey, r.Source);
                    Assert.Equal(from, BinaryPrimitives.ReadInt32BigEndian(r.Payload));
                    Assert.Equal(64 + (from % 200), r.Payload.Length);
                });
                Assert.Equal([0, 1, 2], got.Select(r => BinaryPrimitives.ReadInt32BigEndian(r.Payload.AsSpan(4))).Order());
            }

            Assert.Equal(Clients * PacketsPerClient, relay.Counters[RelayCounter.FramesForwarded]);
            Assert.Equal(Clients, relay.Counters[RelayCounter.AuthsAccepted]);
        }
        finally
        {
            foreach (UdpRelayTestClient? client in clients)
            {
                if (client is not null)
                {
                    await client.DisposeAsync();
                }
            }

            foreach (NodeIdentity? identity in identities)
            {
                identity?.Dispose();
            }
        }
    }

    private static string Drops(RelayServer relay) => string.Join(", ",
        Enum.GetValues<RelayCounter>().Where(c => c.ToString().StartsWith("Drop", StringComparison.Ordinal) && relay.Counters[c] > 0).Select(c => $"{c} {relay.Counters[c]}"));
}
