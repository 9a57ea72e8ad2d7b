using System.Collections.Concurrent;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Engine.WireGuard;

/// <summary>
/// Maps our random 32-bit session indices to the peer and the handshake or keypair they name
/// (wireguard-go indextable.go). The receiver index, not the source address, demultiplexes
/// packets, which is what makes roaming work. Lookups are lock-free and allocation-free.
/// </summary>
public sealed class IndexTable
{
    private readonly ConcurrentDictionary<uint, IndexEntry> _entries = new();

    public int Count => _entries.Count;

    /// <summary>Reserves a fresh random index for a handshake we are about to send or answer.</summary>
    public uint Allocate(Peer peer)
    {
        while (true)
        {
            uint index = SecureRandom.NextUInt32();
            if (_entries.TryAdd(index, new IndexEntry(peer, null)))
            {
                return index;
            }
        }
    }

    /// <summary>Points an index at the keypair its handshake produced.</summary>
    public void SetKeypair(uint index, Peer peer, Keypair keypair) => _entries[index] = new IndexEntry(peer, keypair);

    public bool TryGet(uint index, out IndexEntry entry) => _entries.TryGetValue(index, out entry);

    public void Remove(uint index) => _entries.TryRemove(index, out _);
}

/// <summary>An index names a pending handshake (Keypair null) or a session (Keypair set).</summary>
public readonly record struct IndexEntry(Peer Peer, Keypair? Keypair);
