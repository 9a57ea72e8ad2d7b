using System.Net;
using MeshAgent.Engine.Routing;
using MeshAgent.Tests.Net;
using Xunit;

namespace MeshAgent.Tests.Routing;

/// <summary>
/// The trie against a linear scan (STYLE rule 9; the idea of wireguard-go's allowedips_rand_test.go):
/// thousands of random, overlapping IPv4 and IPv6 prefixes with replacements, removals and peer
/// removals, then tens of thousands of lookups that must agree exactly.
/// </summary>
public class AllowedIpsTableDifferentialTests
{
    private const int PeerCount = 100;
    private const int PrefixCount = 4000;
    private const int LookupCount = 50_000;

    private sealed class Peer(int id)
    {
        public int Id { get; } = id;

        public override string ToString() => $"peer{Id}";
    }

    /// <summary>
    /// The obviously-correct model: a list kept sorted longest-first and scanned in order, so the
    /// first prefix that contains the address is the answer (two distinct prefixes of one length
    /// cannot both contain it).
    /// </summary>
    private sealed class NaiveTable
    {
        private readonly List<(byte[] Bits, int Length, Peer Peer)> _entries = [];
        private bool _sorted = true;

        public int Count => _entries.Count;

        public NaiveTable Clone()
        {
            var copy = new NaiveTable { _sorted = _sorted };
            copy._entries.AddRange(_entries);
            return copy;
        }

        public void Add(byte[] address, int length, Peer peer)
        {
            byte[] bits = Masked(address, length);
            int index = IndexOf(bits, length);
            if (index >= 0)
            {
                _entries[index] = (bits, length, peer);
            }
            else
            {
                _entries.Add((bits, length, peer));
                _sorted = false;
            }
        }

        public bool Remove(byte[] address, int length)
        {
            int index = IndexOf(Masked(address, length), length);
            if (index >= 0)
            {
                _entries.RemoveAt(index);
            }

            return index >= 0;
        }

        public int RemovePeer(Peer peer) => _entries.RemoveAll(e => e.Peer == peer);

        public Peer? Lookup(byte[] address)
        {
            if (!_sorted)
            {
                _entries.Sort((x, y) => y.Length.CompareTo(x.Length));
                _sorted = true;
            }

            foreach ((byte[] bits, int length, Peer peer) in _entries)
            {
                if (bits.Length == address.Length && Matches(bits, address, length))
                {
                    return peer;
                }
            }

            return null;
        }

        public IEnumerable<string> PrefixesOf(Peer peer) =>
            _entries.Where(e => e.Peer == peer).Select(e => $"{new IPAddress(e.Bits)}/{e.Length}");

        private int IndexOf(byte[] bits, int length) =>
            _entries.FindIndex(e => e.Length == length && e.Bits.AsSpan().SequenceEqual(bits));

        private static bool Matches(byte[] bits, byte[] address, int length)
        {
            int fullBytes = length / 8;
            if (!bits.AsSpan(0, fullBytes).SequenceEqual(address.AsSpan(0, fullBytes)))
            {
                return false;
            }

            int restBits = length % 8;
            int mask = (0xFF << (8 - restBits)) & 0xFF;
            return restBits == 0 || (bits[fullBytes] & mask) == (address[fullBytes] & mask);
        }

        private static byte[] Masked(byte[] address, int length)
        {
            byte[] bits = (byte[])address.Clone();
            for (int i = length; i < bits.Length * 8; i++)
            {
                bits[i / 8] &= (byte)~(0x80 >> (i % 8));
            }

            return bits;
        }
    }

    private sealed class Scenario(int seed)
    {
        private readonly List<(byte[] Address, int Length)> _known = [];

        public Random Random { get; } = new(seed);

        public Peer[] Peers { get; } = Enumerable.Range(0, PeerCount).Select(i => new Peer(i)).ToArray();

        public AllowedIpsTable<Peer>.Builder Builder { get; } = new();

        public NaiveTable Naive { get; } = new();

        public Peer RandomPeer() => Peers[Random.Next(Peers.Length)];

        /// <summary>One control-plane edit: mostly adds (some replacing an owner), some removals, rare peer removals.</summary>
        public void RandomEdit()
        {
            int roll = Random.Next(1000);
            if (roll < 5)
            {
                Peer peer = RandomPeer();
                Assert.Equal(Naive.RemovePeer(peer), Builder.RemovePeer(peer));
            }
            else if (roll < 100 && _known.Count > 0)
            {
                (byte[] address, int length) = _known[Random.Next(_known.Count)];
                bool removed = Naive.Remove(address, length);
                Assert.Equal(removed, Builder.Remove(new IPNetwork(Masked(address, length), length)));
            }
            else if (roll < 150 && _known.Count > 0)
            {
                // Same prefix, new owner (or the same owner again).
                (byte[] address, int length) = _known[Random.Next(_known.Count)];
                Add(address, length, RandomPeer());
            }
            else
            {
                (byte[] address, int length) = NewPrefix();
                Add(address, length, RandomPeer());
            }
        }

        /// <summary>An address with a good chance of landing inside, next to, or far from the prefixes.</summary>
        public byte[] LookupAddress()
        {
            int roll = Random.Next(3);
            if (roll == 0 || _known.Count == 0)
            {
                var random = new byte[Random.Next(2) == 0 ? 4 : 16];
                Random.NextBytes(random);
                return random;
            }

            (byte[] prefix, int length) = _known[Random.Next(_known.Count)];
            byte[] address = (byte[])prefix.Clone();
            for (int i = length; i < address.Length * 8; i++)
            {
                SetBit(address, i, Random.Next(2) == 1);
            }

            if (roll == 2 && length > 0)
            {
                // Flip one bit inside the prefix: just outside it, inside a sibling or a shorter cover.
                int bit = Random.Next(length);
                SetBit(address, bit, !GetBit(address, bit));
            }

            return address;
        }

        private void Add(byte[] address, int length, Peer peer)
        {
            Naive.Add(address, length, peer);
            Builder.Add(new IPAddress(address), length, peer);
            _known.Add((address, length));
        }

        private (byte[] Address, int Length) NewPrefix()
        {
            if (_known.Count > 0 && Random.Next(2) == 0)
            {
                // Derived from an existing prefix: nested, covering or sibling, so the trie gets deep and branchy.
                (byte[] parent, int parentLength) = _known[Random.Next(_known.Count)];
                int max = parent.Length * 8;
                int length = Math.Clamp(parentLength + Random.Next(-8, 9), 0, max);
                byte[] address = (byte[])parent.Clone();
                for (int i = Math.Min(parentLength, length); i < max; i++)
                {
                    SetBit(address, i, Random.Next(2) == 1);
                }

                return (address, length);
            }

            var fresh = new byte[Random.Next(2) == 0 ? 4 : 16];
            Random.NextBytes(fresh);
            return (fresh, Random.Next(fresh.Length * 8 + 1));
        }

        private static bool GetBit(byte[] bytes, int bit) => (bytes[bit / 8] & (0x80 >> (bit % 8))) != 0;

        private static void SetBit(byte[] bytes, int bit, bool value)
        {
            if (value)
            {
                bytes[bit / 8] |= (byte)(0x80 >> (bit % 8));
            }
            else
            {
                bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
            }
        }

        private static IPAddress Masked(byte[] address, int length) => MeshAgent.Core.Net.IpPrefix.Create(new IPAddress(address), length).BaseAddress;
    }

    // Two seeds: each run is ~3 s of CPU, mostly the linear scan, on a machine shared by several builds.
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TrieAgreesWithLinearScan(int seed)
    {
        var scenario = new Scenario(seed);
        for (int i = 0; i < PrefixCount; i++)
        {
            scenario.RandomEdit();
        }

        AllowedIpsTable<Peer> table = scenario.Builder.Build();
        NaiveTable snapshot = scenario.Naive.Clone();
        Assert.Equal(snapshot.Count, table.Count);
        Assert.True(table.Count > PrefixCount / 2, $"only {table.Count} prefixes survived; the edit mix is off");
        int matched = AssertSameLookups(scenario, table, snapshot, LookupCount);
        Assert.True(matched > LookupCount / 3, $"only {matched} of {LookupCount} lookups matched a prefix; the test would be too weak");
        AssertSameEntries(scenario.Peers, table, snapshot);

        // More edits on the same builder: the published snapshot must keep answering as before.
        for (int i = 0; i < 500; i++)
        {
            scenario.RandomEdit();
        }

        AllowedIpsTable<Peer> table2 = scenario.Builder.Build();
        AssertSameLookups(scenario, table2, scenario.Naive, LookupCount / 5);
        AssertSameEntries(scenario.Peers, table2, scenario.Naive);
        AssertSameLookups(scenario, table, snapshot, LookupCount / 5);

        AllowedIpsTable<Peer> rebuilt = table2.ToBuilder().Build();
        AssertSameLookups(scenario, rebuilt, scenario.Naive, LookupCount / 5);
    }

    [Fact]
    public void PacketLookupsAgreeWithLinearScan()
    {
        var scenario = new Scenario(99);
        for (int i = 0; i < 1000; i++)
        {
            scenario.RandomEdit();
        }

        AllowedIpsTable<Peer> table = scenario.Builder.Build();
        for (int i = 0; i < 5000; i++)
        {
            byte[] destination = scenario.LookupAddress();
            byte[] source = scenario.LookupAddress();
            if (destination.Length != source.Length)
            {
                continue;
            }

            byte[] packet = destination.Length == 4
                ? IpPacketTests.IPv4(new IPAddress(source).ToString(), new IPAddress(destination).ToString(), payload: 4)
                : IpPacketTests.IPv6(new IPAddress(source).ToString(), new IPAddress(destination).ToString(), payload: 4);
            Assert.Same(scenario.Naive.Lookup(destination), table.LookupDestination(packet));
            Peer? sourceOwner = scenario.Naive.Lookup(source);
            Assert.Same(sourceOwner, table.LookupSource(packet));
            Peer claimed = scenario.RandomPeer();
            Assert.Equal(sourceOwner == claimed, table.IsAllowedSource(packet, claimed));
            if (sourceOwner is not null)
            {
                Assert.True(table.IsAllowedSource(packet, sourceOwner));
            }
        }
    }

    private static int AssertSameLookups(Scenario scenario, AllowedIpsTable<Peer> table, NaiveTable naive, int count)
    {
        int matched = 0;
        for (int i = 0; i < count; i++)
        {
            byte[] address = scenario.LookupAddress();
            Peer? expected = naive.Lookup(address);
            Peer? actual = table.Lookup(address);
            if (!ReferenceEquals(expected, actual))
            {
                Assert.Fail($"lookup {i} of {new IPAddress(address)}: linear scan says {expected?.ToString() ?? "none"}, trie says {actual?.ToString() ?? "none"}");
            }

            matched += expected is null ? 0 : 1;
        }

        return matched;
    }

    private static void AssertSameEntries(Peer[] peers, AllowedIpsTable<Peer> table, NaiveTable naive)
    {
        foreach (Peer peer in peers)
        {
            Assert.Equal(
                naive.PrefixesOf(peer).Order(),
                table.EntriesFor(peer).Select(p => p.ToString()).Order());
        }
    }
}
