namespace MeshAgent.Engine.Membership;

/// <summary>
/// memberlist's <c>TransmitLimitedQueue</c>: state changes waiting to be piggybacked. Each member
/// has at most one pending broadcast (a newer one about the same member replaces the older, which
/// it supersedes). Frames take the least-transmitted broadcasts first and, among equals, the
/// newest first (a fresh change matters more than one most members have already heard); a
/// broadcast leaves the queue after <see cref="GossipConfig.RetransmitLimit"/> transmissions.
/// So the queue holds at most one entry per member, and each change costs at most
/// retransmit-limit part copies per node.
/// Not thread-safe (owned by the engine's single thread).
/// </summary>
internal sealed class BroadcastQueue
{
    // The smallest part a frame can take: a left message (header 3 + 36).
    private const int SmallestPart = GossipFrame.PartHeaderSize + LeftMessage.Size;

    private readonly SortedSet<Item> _ordered = new(ItemOrder.Instance);
    private readonly Dictionary<MemberId, Item> _byMember = new();
    private readonly List<Item> _taken = new();
    private long _nextId;

    public int Count => _byMember.Count;

    public bool Contains(MemberId about) => _byMember.ContainsKey(about);

    /// <summary>Queues an encoded part (type + body) about <paramref name="about"/>, replacing any pending one. Copies the bytes.</summary>
    public void Enqueue(MemberId about, GossipMessageType type, ReadOnlySpan<byte> body)
    {
        byte[] part = new byte[GossipFrame.PartHeaderSize + body.Length];
        part[0] = (byte)type;
        part[1] = (byte)(body.Length >> 8);
        part[2] = (byte)body.Length;
        body.CopyTo(part.AsSpan(GossipFrame.PartHeaderSize));

        if (_byMember.Remove(about, out Item? old))
        {
            _ordered.Remove(old);
        }

        var item = new Item(about, part, ++_nextId);
        _byMember.Add(about, item);
        _ordered.Add(item);
    }

    /// <summary>Appends as many broadcasts as fit; returns how many. Each one appended counts as a transmission.</summary>
    public int Fill(ref GossipFrameWriter writer, int retransmitLimit)
    {
        if (_ordered.Count == 0)
        {
            return 0;
        }

        _taken.Clear();
        foreach (Item item in _ordered)
        {
            if (writer.Remaining < SmallestPart)
            {
                break;
            }

            if (writer.TryAppendEncoded(item.Part))
            {
                _taken.Add(item);
            }
        }

        foreach (Item item in _taken)
        {
            _ordered.Remove(item);
            item.Transmits++;
            if (item.Transmits >= retransmitLimit)
            {
                _byMember.Remove(item.About);
            }
            else
            {
                _ordered.Add(item);
            }
        }

        return _taken.Count;
    }

    private sealed class Item(MemberId about, byte[] part, long id)
    {
        public MemberId About { get; } = about;

        public byte[] Part { get; } = part;

        public long Id { get; } = id;

        public int Transmits { get; set; }
    }

    private sealed class ItemOrder : IComparer<Item>
    {
        public static readonly ItemOrder Instance = new();

        public int Compare(Item? x, Item? y)
        {
            int c = x!.Transmits.CompareTo(y!.Transmits);
            return c != 0 ? c : y.Id.CompareTo(x.Id);
        }
    }
}
