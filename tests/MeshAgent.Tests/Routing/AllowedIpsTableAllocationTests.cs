using System.Net;
using MeshAgent.Engine.Routing;
using MeshAgent.Tests.Net;
using Xunit;

namespace MeshAgent.Tests.Routing;

/// <summary>STYLE rule 1: the data-plane lookups allocate nothing.</summary>
public class AllowedIpsTableAllocationTests
{
    private sealed class Peer;

    [Fact]
    public void LookupsDoNotAllocate()
    {
        var random = new Random(5);
        var peers = Enumerable.Range(0, 50).Select(_ => new Peer()).ToArray();
        var builder = new AllowedIpsTable<Peer>.Builder();
        var addresses = new List<byte[]>();
        for (int i = 0; i < 4000; i++)
        {
            var bytes = new byte[i % 2 == 0 ? 4 : 16];
            random.NextBytes(bytes);
            builder.Add(new IPAddress(bytes), random.Next(8, (bytes.Length * 8) + 1), peers[random.Next(peers.Length)]);
            addresses.Add(bytes);
        }

        AllowedIpsTable<Peer> table = builder.Build();
        byte[][] lookups = addresses.ToArray();
        byte[][] packets = addresses.Take(256)
            .Select(a => a.Length == 4
                ? IpPacketTests.IPv4(new IPAddress(a).ToString(), new IPAddress(a).ToString())
                : IpPacketTests.IPv6(new IPAddress(a).ToString(), new IPAddress(a).ToString()))
            .ToArray();

        // Warm up so JIT work and tiering do not count.
        int found = Run(table, lookups, packets, peers[0], 20_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        found += Run(table, lookups, packets, peers[0], 100_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(found > 100_000, $"only {found} hits: the loop did not exercise matching paths");
    }

    private static int Run(AllowedIpsTable<Peer> table, byte[][] lookups, byte[][] packets, Peer peer, int count)
    {
        int found = 0;
        for (int i = 0; i < count; i++)
        {
            found += table.Lookup(lookups[i % lookups.Length]) is null ? 0 : 1;
            byte[] packet = packets[i % packets.Length];
            found += table.LookupDestination(packet) is null ? 0 : 1;
            found += table.IsAllowedSource(packet, peer) ? 1 : 0;
        }

        return found;
    }
}
