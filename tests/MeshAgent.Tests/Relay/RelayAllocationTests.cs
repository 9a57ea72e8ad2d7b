using System.Net;
using MeshAgent.Core.Net;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;
using MeshAgent.Relay;

namespace MeshAgent.Tests.Relay;

/// <summary>STYLE rule 1: the per-packet paths — relay forwarding, client send, client receive — allocate nothing.</summary>
public sealed class RelayAllocationTests
{
    private const int Packets = 10_000;

    [Fact]
    public void Forwarding_sending_and_receiving_a_payload_allocates_nothing()
    {
        using NetworkRootKey root = RelayFixtures.Root();
        using var relay = new InProcessRelay(new RelayOptions { AcceptedRoots = [root.PublicKey], ClientPacketsPerSecond = int.MaxValue / 2, ClientBytesPerSecond = long.MaxValue / 8 });
        using NodeIdentity alice = RelayFixtures.Node(1);
        using NodeIdentity bob = RelayFixtures.Node(2);
        RelayClient b = relay.AddClient(bob, RelayFixtures.Certificate(root, bob), InProcessRelay.Endpoint(40002, "203.0.113.102"));
        b.Start();
        relay.Pump();
        Assert.Equal(RelayClientState.Connected, b.State);

        // Alice's frames land in one preallocated buffer ("the wire"); the hub turns Sends into Recvs in place; Bob takes them.
        byte[] wire = new byte[2048];
        int wireLength = 0;
        using var a = new RelayClient(alice, RelayFixtures.Certificate(root, alice), InProcessRelay.RelayEndPoint, frame =>
        {
            frame.CopyTo(wire);
            wireLength = frame.Length;
        }, new RelayClientOptions { OwnTimer = false }, relay.Time);
        byte[] scratch = new byte[RelayHub.ScratchLength];
        RelayLink from = RelayLink.Udp(0, InProcessRelay.Endpoint(40001, "203.0.113.101"));
        IPEndPoint relayEndPoint = InProcessRelay.RelayEndPoint;
        a.Start();
        for (int step = 0; step < 2; step++)
        {
            // Hello → Challenge (Alice answers with Auth into the wire), Auth → Welcome.
            RelayAction reply = relay.Hub.Process(wire.AsSpan(0, wireLength), from, scratch);
            Assert.True(a.TryHandle(reply.Frame, relayEndPoint));
        }

        Assert.Equal(RelayClientState.Connected, a.State);

        long received = 0;
        b.PayloadReceived += (_, payload) => received += payload.Length;
        byte[] payload = new byte[1400];
        NodePublicKey destination = bob.PublicKey;

        void Once()
        {
            a.Send(destination, payload);
            RelayAction action = relay.Hub.Process(wire.AsSpan(0, wireLength), from, scratch);
            b.TryHandle(action.Frame, relayEndPoint);
        }

        for (int i = 0; i < 100; i++)
        {
            Once(); // warm up: JIT, first-use statics
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Packets; i++)
        {
            Once();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal((Packets + 100) * 1400L, received);
    }
}
