using System.Buffers.Binary;
using System.Numerics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using MeshAgent.Core.Net;

namespace MeshAgent.Engine.Routing;

/// <summary>
/// Cryptokey routing (WireGuard paper section 2): the longest-prefix match from an inner IP address
/// to the peer that owns it. Outbound, the destination picks the peer to encrypt for; inbound, the
/// decrypted source must map back to the peer whose session decrypted it.
/// </summary>
/// <remarks>
/// <para>
/// Immutable snapshot. The control plane edits a <see cref="Builder"/>, calls
/// <see cref="Builder.Build"/> and publishes the new table with one reference store
/// (<c>Volatile.Write</c> or <c>Interlocked.Exchange</c>); data-plane threads read the reference
/// once per batch with <c>Volatile.Read</c> and then call lookups with no lock and no allocation
/// (STYLE rule 4). Every field is written before the constructor returns, so a published table is
/// always complete.
/// </para>
/// <para>
/// Layout: one path-compressed binary trie per family (like wireguard-go's allowedips.go, where a
/// node exists only at a prefix or where two prefixes diverge), flattened into an array of structs.
/// Why an array instead of node objects: every step down the trie lengthens the prefix, so a lookup
/// visits at most 33 (IPv4) or 129 (IPv6) nodes and in practice a handful; contiguous 56-byte
/// structs with int child indices cost fewer cache misses than chasing object pointers, and the only
/// references in them are the peers themselves. The price
/// is that every change rebuilds the array, O(n·depth), which the control plane can afford: AllowedIPs
/// change when peers join or leave, not per packet. A builder that keeps a dictionary also makes
/// removal trivial (no in-place trie surgery, the part of wireguard-go that is hardest to get right).
/// </para>
/// <para>
/// Keys: an address is a 128-bit big-endian number split into <c>Hi</c>/<c>Lo</c>. IPv4 uses the top
/// 32 bits of <c>Hi</c>, so both families share one lookup routine with <c>maxBits</c> 32 or 128.
/// Peers are compared by reference, as wireguard-go compares <c>*Peer</c>.
/// </para>
/// </remarks>
public sealed class AllowedIpsTable<TPeer>
    where TPeer : class
{
    private const int None = -1;

    private readonly Node[] _v4;
    private readonly Node[] _v6;
    private readonly AllowedIp<TPeer>[] _entries;
    private readonly Dictionary<TPeer, IPNetwork[]> _byPeer;

    private AllowedIpsTable(Node[] v4, Node[] v6, AllowedIp<TPeer>[] entries, Dictionary<TPeer, IPNetwork[]> byPeer)
    {
        _v4 = v4;
        _v6 = v6;
        _entries = entries;
        _byPeer = byPeer;
    }

    /// <summary>A table that matches nothing.</summary>
    public static AllowedIpsTable<TPeer> Empty { get; } =
        new([], [], [], new Dictionary<TPeer, IPNetwork[]>(ReferenceEqualityComparer.Instance));

    /// <summary>Number of prefixes.</summary>
    public int Count => _entries.Length;

    /// <summary>All prefixes with their owners, grouped by peer in first-seen order, each peer's in insertion order.</summary>
    public IReadOnlyList<AllowedIp<TPeer>> Entries => _entries;

    /// <summary>Trie nodes in use (prefixes plus branch points), for tests and diagnostics.</summary>
    internal int NodeCount => _v4.Length + _v6.Length;

    /// <summary>
    /// Longest-prefix match for a 4-byte IPv4 or 16-byte IPv6 address; null when no prefix covers it
    /// or when the span has any other length. Lock-free, allocation-free, never throws.
    /// </summary>
    public TPeer? Lookup(ReadOnlySpan<byte> address)
    {
        if (address.Length == 4)
        {
            ulong hi = (ulong)BinaryPrimitives.ReadUInt32BigEndian(address) << 32;
            return Find(_v4, hi, 0, 32);
        }

        if (address.Length == 16)
        {
            ulong hi = BinaryPrimitives.ReadUInt64BigEndian(address);
            ulong lo = BinaryPrimitives.ReadUInt64BigEndian(address[8..]);
            return Find(_v6, hi, lo, 128);
        }

        return null;
    }

    /// <summary>
    /// The peer for the packet's destination address: the outbound (TUN → peer) decision.
    /// Null for no match and for short or malformed packets. <paramref name="ipPacket"/> is borrowed for the call.
    /// </summary>
    public TPeer? LookupDestination(ReadOnlySpan<byte> ipPacket) =>
        IpPacket.TryGetDestination(ipPacket, out ReadOnlySpan<byte> address) ? Lookup(address) : null;

    /// <summary>The peer that owns the packet's source address. Null for no match and malformed packets.</summary>
    public TPeer? LookupSource(ReadOnlySpan<byte> ipPacket) =>
        IpPacket.TryGetSource(ipPacket, out ReadOnlySpan<byte> address) ? Lookup(address) : null;

    /// <summary>
    /// The inbound check of cryptokey routing: true only when the decrypted packet's source address
    /// routes to <paramref name="peer"/>, the peer whose session decrypted it. A false result means
    /// drop (and count) the packet: a peer may only send from its own AllowedIPs.
    /// </summary>
    public bool IsAllowedSource(ReadOnlySpan<byte> ipPacket, TPeer peer) =>
        ReferenceEquals(LookupSource(ipPacket), peer) && peer is not null;

    /// <summary>The prefixes owned by <paramref name="peer"/>, in insertion order (for `wg show` and route installation).</summary>
    public IReadOnlyList<IPNetwork> EntriesFor(TPeer peer) =>
        _byPeer.TryGetValue(peer, out IPNetwork[]? prefixes) ? prefixes : [];

    /// <summary>A builder holding this table's entries, for the next edit. The table itself is unchanged.</summary>
    public Builder ToBuilder()
    {
        var builder = new Builder();
        foreach (AllowedIp<TPeer> entry in _entries)
        {
            builder.Add(entry.Prefix, entry.Peer);
        }

        return builder;
    }

    private static TPeer? Find(Node[] nodes, ulong hi, ulong lo, int maxBits)
    {
        TPeer? found = null;
        int index = nodes.Length == 0 ? None : 0;
        while (index != None)
        {
            ref readonly Node node = ref nodes[index];

            // The path is compressed: the bits skipped since the parent must match too.
            if ((((hi ^ node.Hi) & node.MaskHi) | ((lo ^ node.Lo) & node.MaskLo)) != 0)
            {
                break;
            }

            if (node.Peer is not null)
            {
                found = node.Peer;
            }

            if (node.Cidr == maxBits)
            {
                break;
            }

            index = BitAt(hi, lo, node.Cidr) == 0 ? node.Child0 : node.Child1;
        }

        return found;
    }

    /// <summary>Bit number <paramref name="position"/> of the 128-bit key, counting from the most significant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BitAt(ulong hi, ulong lo, int position) =>
        position < 64 ? (int)(hi >> (63 - position)) & 1 : (int)(lo >> (127 - position)) & 1;

    private static ulong MaskHiFor(int cidr) => cidr == 0 ? 0 : cidr >= 64 ? ulong.MaxValue : ulong.MaxValue << (64 - cidr);

    private static ulong MaskLoFor(int cidr) => cidr <= 64 ? 0 : cidr >= 128 ? ulong.MaxValue : ulong.MaxValue << (128 - cidr);

    private static (ulong Hi, ulong Lo, int MaxBits) KeyOf(IPNetwork prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        prefix.BaseAddress.TryWriteBytes(bytes, out int written);
        return written == 4
            ? ((ulong)BinaryPrimitives.ReadUInt32BigEndian(bytes) << 32, 0, 32)
            : (BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), 128);
    }

    /// <summary>Flattened trie node. Hi/Lo hold the prefix with host bits zero; Mask* has Cidr leading ones.</summary>
    private struct Node
    {
        public ulong Hi;
        public ulong Lo;
        public ulong MaskHi;
        public ulong MaskLo;
        public int Cidr;
        public int Child0;
        public int Child1;

        // Null on a branch node that exists only where two prefixes diverge.
        public TPeer? Peer;
    }

    /// <summary>Mutable node used only while building; flattened into <see cref="Node"/> afterwards.</summary>
    private sealed class BuildNode(ulong hi, ulong lo, int cidr, TPeer? peer)
    {
        public readonly ulong Hi = hi & MaskHiFor(cidr);
        public readonly ulong Lo = lo & MaskLoFor(cidr);
        public readonly int Cidr = cidr;
        public readonly BuildNode?[] Children = new BuildNode?[2];
        public TPeer? Peer = peer;
    }

    /// <summary>
    /// The control plane's editable set of (prefix → peer). Not thread-safe: one owner edits it and
    /// calls <see cref="Build"/>; the tables it builds are independent of later edits.
    /// </summary>
    public sealed class Builder
    {
        // Sequence numbers keep `wg show` order stable: a peer's prefixes in the order they were given.
        private readonly Dictionary<IPNetwork, (TPeer Peer, long Sequence)> _entries = [];
        private long _nextSequence;

        public int Count => _entries.Count;

        /// <summary>
        /// Maps <paramref name="prefix"/> to <paramref name="peer"/>. Adding a prefix that is already
        /// present moves it to the new owner, as wg(8) does. An IPv6 scope id is ignored.
        /// </summary>
        public Builder Add(IPNetwork prefix, TPeer peer)
        {
            ArgumentNullException.ThrowIfNull(peer);
            _entries[Normalize(prefix)] = (peer, _nextSequence++);
            return this;
        }

        /// <summary>As <see cref="Add(IPNetwork, TPeer)"/>; host bits of <paramref name="address"/> are cleared (10.0.0.1/24 → 10.0.0.0/24), as WireGuard does.</summary>
        public Builder Add(IPAddress address, int prefixLength, TPeer peer) => Add(IpPrefix.Create(address, prefixLength), peer);

        /// <summary>Removes the prefix whoever owns it; false when it was not present.</summary>
        public bool Remove(IPNetwork prefix) => _entries.Remove(Normalize(prefix));

        /// <summary>Removes the prefix only if <paramref name="peer"/> owns it (wg's <c>allowed-ips -prefix</c> for one peer).</summary>
        public bool Remove(IPNetwork prefix, TPeer peer)
        {
            IPNetwork key = Normalize(prefix);
            return _entries.TryGetValue(key, out (TPeer Peer, long Sequence) entry)
                && ReferenceEquals(entry.Peer, peer)
                && _entries.Remove(key);
        }

        /// <summary>Removes every prefix of <paramref name="peer"/>; returns how many.</summary>
        public int RemovePeer(TPeer peer)
        {
            var doomed = new List<IPNetwork>();
            foreach ((IPNetwork prefix, (TPeer owner, _)) in _entries)
            {
                if (ReferenceEquals(owner, peer))
                {
                    doomed.Add(prefix);
                }
            }

            foreach (IPNetwork prefix in doomed)
            {
                _entries.Remove(prefix);
            }

            return doomed.Count;
        }

        public void Clear() => _entries.Clear();

        /// <summary>Builds an immutable table from the current entries. The builder stays usable.</summary>
        public AllowedIpsTable<TPeer> Build()
        {
            var ordered = _entries
                .Select(e => (Prefix: e.Key, e.Value.Peer, e.Value.Sequence))
                .OrderBy(e => e.Sequence)
                .ToArray();

            BuildNode? v4Root = null;
            BuildNode? v6Root = null;
            foreach ((IPNetwork prefix, TPeer peer, _) in ordered)
            {
                (ulong hi, ulong lo, int maxBits) = KeyOf(prefix);
                Insert(ref maxBits == 32 ? ref v4Root : ref v6Root, hi, lo, prefix.PrefixLength, peer);
            }

            var byPeer = new Dictionary<TPeer, List<IPNetwork>>(ReferenceEqualityComparer.Instance);
            var peerOrder = new List<TPeer>();
            foreach ((IPNetwork prefix, TPeer peer, _) in ordered)
            {
                if (!byPeer.TryGetValue(peer, out List<IPNetwork>? list))
                {
                    byPeer[peer] = list = [];
                    peerOrder.Add(peer);
                }

                list.Add(prefix);
            }

            var entries = new List<AllowedIp<TPeer>>(ordered.Length);
            foreach (TPeer peer in peerOrder)
            {
                foreach (IPNetwork prefix in byPeer[peer])
                {
                    entries.Add(new AllowedIp<TPeer>(prefix, peer));
                }
            }

            var frozenByPeer = new Dictionary<TPeer, IPNetwork[]>(byPeer.Count, ReferenceEqualityComparer.Instance);
            foreach ((TPeer peer, List<IPNetwork> list) in byPeer)
            {
                frozenByPeer[peer] = list.ToArray();
            }

            return new AllowedIpsTable<TPeer>(Flatten(v4Root), Flatten(v6Root), entries.ToArray(), frozenByPeer);
        }

        private static IPNetwork Normalize(IPNetwork prefix) =>
            // ScopeId throws for IPv4, so the family test must come first.
            prefix.BaseAddress.AddressFamily != AddressFamily.InterNetworkV6 || prefix.BaseAddress.ScopeId == 0
                ? prefix
                : IpPrefix.Create(prefix.BaseAddress, prefix.PrefixLength);

        /// <summary>
        /// Inserts into a path-compressed trie. Invariants: a child's Cidr is greater than its
        /// parent's, the child agrees with the parent on the parent's Cidr bits, and it sits under
        /// the parent's bit at position parent.Cidr.
        /// </summary>
        private static void Insert(ref BuildNode? slot, ulong hi, ulong lo, int cidr, TPeer peer)
        {
            while (true)
            {
                BuildNode? node = slot;
                if (node is null)
                {
                    slot = new BuildNode(hi, lo, cidr, peer);
                    return;
                }

                int common = Math.Min(CommonPrefixLength(node.Hi, node.Lo, hi, lo), Math.Min(node.Cidr, cidr));
                if (common == node.Cidr)
                {
                    if (node.Cidr == cidr)
                    {
                        node.Peer = peer;
                        return;
                    }

                    // The node is a prefix of the new key: descend. node.Cidr < cidr <= 128, so the bit exists.
                    slot = ref node.Children[BitAt(hi, lo, node.Cidr)];
                    continue;
                }

                // The new key leaves the node's path at bit `common` (< node.Cidr).
                if (common == cidr)
                {
                    // The new prefix contains the node: it becomes the node's parent.
                    var parent = new BuildNode(hi, lo, cidr, peer);
                    parent.Children[BitAt(node.Hi, node.Lo, cidr)] = node;
                    slot = parent;
                    return;
                }

                // Siblings: a branch node without a peer where they diverge.
                var branch = new BuildNode(hi, lo, common, null);
                branch.Children[BitAt(node.Hi, node.Lo, common)] = node;
                branch.Children[BitAt(hi, lo, common)] = new BuildNode(hi, lo, cidr, peer);
                slot = branch;
                return;
            }
        }

        private static int CommonPrefixLength(ulong hi1, ulong lo1, ulong hi2, ulong lo2)
        {
            ulong x = hi1 ^ hi2;
            return x != 0 ? BitOperations.LeadingZeroCount(x) : 64 + BitOperations.LeadingZeroCount(lo1 ^ lo2);
        }

        private static Node[] Flatten(BuildNode? root)
        {
            if (root is null)
            {
                return [];
            }

            var nodes = new List<Node>();
            FlattenInto(root, nodes);
            return nodes.ToArray();
        }

        // Pre-order, so the root is index 0 and a lookup walks forward through the array.
        private static int FlattenInto(BuildNode node, List<Node> nodes)
        {
            int index = nodes.Count;
            nodes.Add(default);
            int child0 = node.Children[0] is { } c0 ? FlattenInto(c0, nodes) : None;
            int child1 = node.Children[1] is { } c1 ? FlattenInto(c1, nodes) : None;
            nodes[index] = new Node
            {
                Hi = node.Hi,
                Lo = node.Lo,
                MaskHi = MaskHiFor(node.Cidr),
                MaskLo = MaskLoFor(node.Cidr),
                Cidr = node.Cidr,
                Child0 = child0,
                Child1 = child1,
                Peer = node.Peer,
            };
            return index;
        }
    }
}
