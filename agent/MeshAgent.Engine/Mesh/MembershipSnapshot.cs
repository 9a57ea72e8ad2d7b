using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using MeshAgent.Core.MessagePack;

namespace MeshAgent.Engine.Mesh;

/// <summary>One member as the inviter knows it: its encoded MemberRecord, gossip state and incarnation.</summary>
internal readonly record struct SnapshotMember(byte[] Record, bool Alive, uint Incarnation);

/// <summary>
/// What an admin hands a joining node with its certificate (the JoinResponse's membership bytes): the
/// network's settings, the members it knows, every revocation and the used-token records. MessagePack:
/// <code>
/// map {
///   1: network name (str)       2: IPv4 network (str)      3: IPv6 prefix (str)
///   4: members [ [record (bin), alive (bool), incarnation (uint)] … ]
///   5: revocations [ bin … ]    6: used tokens [ bin … ]
///   7: relays [ [address (str), tcp port (uint, 0 = none), key (str or nil)] … ]   (absent from older inviters)
/// }
/// </code>
/// The reply travels in one datagram, so the members are capped (<see cref="MaxEncodedSize"/>): the
/// joiner learns the rest by gossip anti-entropy from its seeds within seconds. Readers never throw.
/// </summary>
internal sealed class MembershipSnapshot
{
    /// <summary>Keeps the Response datagram below ~9 KB: IPv4 fragments, but few enough to cross home NATs.</summary>
    public const int MaxEncodedSize = 8 * 1024;

    public required string NetworkName { get; init; }

    public required string IPv4Network { get; init; }

    public required string IPv6Prefix { get; init; }

    public IReadOnlyList<SnapshotMember> Members { get; init; } = [];

    public IReadOnlyList<byte[]> Revocations { get; init; } = [];

    public IReadOnlyList<byte[]> UsedTokens { get; init; } = [];

    public IReadOnlyList<NetworkRelay> Relays { get; init; } = [];

    /// <summary>Encodes as many members as fit in <see cref="MaxEncodedSize"/> (in the given order: put the most useful first).</summary>
    public byte[] Encode()
    {
        int fixedBytes = 64 + NetworkName.Length * 4 + IPv4Network.Length + IPv6Prefix.Length
            + Revocations.Sum(r => r.Length + 5) + UsedTokens.Sum(u => u.Length + 5)
            + Relays.Sum(r => r.Address.Length + (r.Key?.Length ?? 0) + 12);
        int budget = MaxEncodedSize - fixedBytes;
        var members = new List<SnapshotMember>();
        foreach (SnapshotMember member in Members)
        {
            budget -= member.Record.Length + 16;
            if (budget < 0)
            {
                break;
            }

            members.Add(member);
        }

        var output = new ArrayBufferWriter<byte>(1024);
        var writer = new MessagePackWriter(output);
        writer.WriteMapHeader(7);
        writer.WriteUInt64(1);
        writer.WriteString(NetworkName);
        writer.WriteUInt64(2);
        writer.WriteString(IPv4Network);
        writer.WriteUInt64(3);
        writer.WriteString(IPv6Prefix);
        writer.WriteUInt64(4);
        writer.WriteArrayHeader(members.Count);
        foreach (SnapshotMember member in members)
        {
            writer.WriteArrayHeader(3);
            writer.WriteBinary(member.Record);
            writer.WriteBoolean(member.Alive);
            writer.WriteUInt64(member.Incarnation);
        }

        writer.WriteUInt64(5);
        writer.WriteArrayHeader(Revocations.Count);
        foreach (byte[] revocation in Revocations)
        {
            writer.WriteBinary(revocation);
        }

        writer.WriteUInt64(6);
        writer.WriteArrayHeader(UsedTokens.Count);
        foreach (byte[] used in UsedTokens)
        {
            writer.WriteBinary(used);
        }

        writer.WriteUInt64(7);
        writer.WriteArrayHeader(Relays.Count);
        foreach (NetworkRelay relay in Relays)
        {
            writer.WriteArrayHeader(3);
            writer.WriteString(relay.Address);
            writer.WriteUInt64((ulong)(relay.TcpPort ?? 0));
            if (relay.Key is { } key)
            {
                writer.WriteString(key);
            }
            else
            {
                writer.WriteNil();
            }
        }

        return output.WrittenSpan.ToArray();
    }

    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out MembershipSnapshot? snapshot, [NotNullWhen(false)] out string? error)
    {
        snapshot = null;
        var reader = new MessagePackReader(encoded);
        string? name = null, v4 = null, v6 = null;
        var members = new List<SnapshotMember>();
        var revocations = new List<byte[]>();
        var used = new List<byte[]>();
        var relays = new List<NetworkRelay>();
        if (!reader.TryReadMapHeader(out int fields))
        {
            error = "the membership snapshot is not a map";
            return false;
        }

        for (int f = 0; f < fields; f++)
        {
            if (!reader.TryReadUInt64(out ulong key))
            {
                error = "the membership snapshot has a non-integer key";
                return false;
            }

            bool ok = key switch
            {
                1 => reader.TryReadString(out name),
                2 => reader.TryReadString(out v4),
                3 => reader.TryReadString(out v6),
                4 => ReadMembers(ref reader, members),
                5 => ReadBinaries(ref reader, revocations),
                6 => ReadBinaries(ref reader, used),
                7 => ReadRelays(ref reader, relays),
                _ => reader.TrySkip(),
            };
            if (!ok)
            {
                error = $"field {key} of the membership snapshot is malformed";
                return false;
            }
        }

        if (name is null || v4 is null || v6 is null)
        {
            error = "the membership snapshot lacks the network name or address ranges";
            return false;
        }

        snapshot = new MembershipSnapshot { NetworkName = name, IPv4Network = v4, IPv6Prefix = v6, Members = members, Revocations = revocations, UsedTokens = used, Relays = relays };
        error = null;
        return true;
    }

    private static bool ReadMembers(ref MessagePackReader reader, List<SnapshotMember> members)
    {
        if (!reader.TryReadArrayHeader(out int count))
        {
            return false;
        }

        for (int i = 0; i < count; i++)
        {
            if (!reader.TryReadArrayHeader(out int n) || n < 3
                || !reader.TryReadBinary(out ReadOnlySpan<byte> record)
                || !reader.TryReadBoolean(out bool alive)
                || !reader.TryReadUInt32(out uint incarnation))
            {
                return false;
            }

            for (int extra = 3; extra < n; extra++)
            {
                if (!reader.TrySkip())
                {
                    return false;
                }
            }

            members.Add(new SnapshotMember(record.ToArray(), alive, incarnation));
        }

        return true;
    }

    /// <summary>Relays whose address does not parse are skipped (a newer inviter may use a form this version lacks).</summary>
    private static bool ReadRelays(ref MessagePackReader reader, List<NetworkRelay> relays)
    {
        if (!reader.TryReadArrayHeader(out int count))
        {
            return false;
        }

        for (int i = 0; i < count; i++)
        {
            if (!reader.TryReadArrayHeader(out int n) || n < 3
                || !reader.TryReadString(out string? address)
                || !reader.TryReadUInt64(out ulong tcp))
            {
                return false;
            }

            string? key = null;
            if (!reader.TryReadNil() && !reader.TryReadString(out key))
            {
                return false;
            }

            for (int extra = 3; extra < n; extra++)
            {
                if (!reader.TrySkip())
                {
                    return false;
                }
            }

            if (address is not null && NetworkRelay.TryParse(address, out NetworkRelay? relay, out _) && tcp <= 65535
                && (key is null || Core.Trust.NodePublicKey.TryParse(key, out _)))
            {
                relays.Add(relay with { TcpPort = tcp == 0 ? null : (int)tcp, Key = key });
            }
        }

        return true;
    }

    private static bool ReadBinaries(ref MessagePackReader reader, List<byte[]> into)
    {
        if (!reader.TryReadArrayHeader(out int count))
        {
            return false;
        }

        for (int i = 0; i < count; i++)
        {
            if (!reader.TryReadBinary(out ReadOnlySpan<byte> bytes))
            {
                return false;
            }

            into.Add(bytes.ToArray());
        }

        return true;
    }
}
