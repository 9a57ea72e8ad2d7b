// TEMPORARY: stands in for the state branch until it merges (same API); deleted at the merge.
using System.Text.Json;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.State;

public static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        string temp = path + ".tmp";
        File.WriteAllBytes(temp, content.ToArray());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, mode);
        }
        File.Move(temp, path, true);
    }

    public static void WriteText(string path, string text, UnixFileMode mode) => Write(path, System.Text.Encoding.UTF8.GetBytes(text), mode);
}

public sealed class StateException(string message, Exception? inner = null) : Exception(message, inner);

public sealed record NodeState
{
    public int Format { get; init; } = 1;
    public required string NetworkName { get; init; }
    public required byte[] RootPublicKey { get; init; }
    public required string IPv4Network { get; init; }
    public required string IPv6Prefix { get; init; }
    public required byte[] Certificate { get; init; }
    public uint Incarnation { get; init; }
    public ulong RecordVersion { get; init; }
    public IReadOnlyList<byte[]> Members { get; init; } = [];
    public IReadOnlyList<byte[]> Revocations { get; init; } = [];
    public bool Left { get; init; }
    public bool Revoked { get; init; }
}

public sealed record PendingInvitation(JoinTokenId Id, DateTimeOffset ExpiresAt, string? Name);

public sealed class FileInvitationStore : IInvitationStore
{
    private readonly InMemoryInvitationStore _inner = new();
    private readonly List<UsedTokenRecord> _used = [];

    public void Add(JoinTokenId id, ReadOnlySpan<byte> secret, DateTimeOffset expiresAt, string? name) => _inner.Add(id, secret, expiresAt);

    public IReadOnlyList<PendingInvitation> Pending(DateTimeOffset now) => [];

    public IReadOnlyList<UsedTokenRecord> UsedRecords { get { lock (_used) { return [.. _used]; } } }

    public void AddUsedRecord(UsedTokenRecord record) { lock (_used) { _used.Add(record); } }

    public InvitationLookup Find(JoinTokenId tokenId, Span<byte> secret) => _inner.Find(tokenId, secret);

    public bool TryMarkUsed(JoinTokenId tokenId, DateTimeOffset usedAt) => _inner.TryMarkUsed(tokenId, usedAt);

    public void ReleaseClaim(JoinTokenId tokenId) => _inner.ReleaseClaim(tokenId);

    public bool ApplyUsedRecord(UsedTokenRecord record)
    {
        bool fresh = _inner.ApplyUsedRecord(record);
        if (fresh)
        {
            AddUsedRecord(record);
        }

        return fresh;
    }
}

public sealed class StateDirectory : IDisposable
{
    private FileInvitationStore? _invitations;

    private StateDirectory(string path) => Path = path;

    public string Path { get; }

    public IReadOnlyList<string> Warnings => [];

    public static StateDirectory Open(string path)
    {
        Directory.CreateDirectory(path);
        return new StateDirectory(path);
    }

    public NodeIdentity LoadOrCreateIdentity()
    {
        string file = System.IO.Path.Combine(Path, "identity.key");
        if (File.Exists(file))
        {
            return NodeIdentity.TryParseSecretText(File.ReadAllText(file).Trim(), out NodeIdentity? id) ? id : throw new StateException("bad identity");
        }

        NodeIdentity identity = NodeIdentity.Generate();
        AtomicFile.WriteText(file, identity.RevealSecretText() + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return identity;
    }

    public NetworkRootKey? LoadRootKey()
    {
        string file = System.IO.Path.Combine(Path, "root.key");
        return File.Exists(file) && NetworkRootKey.TryParseSecretText(File.ReadAllText(file).Trim(), out NetworkRootKey? key) ? key : null;
    }

    public void SaveRootKey(NetworkRootKey key) => AtomicFile.WriteText(System.IO.Path.Combine(Path, "root.key"), key.RevealSecretText() + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);

    public NodeState? LoadNodeState()
    {
        string file = System.IO.Path.Combine(Path, "node.json");
        return File.Exists(file) ? JsonSerializer.Deserialize<NodeState>(File.ReadAllText(file)) : null;
    }

    public void SaveNodeState(NodeState state) => AtomicFile.WriteText(System.IO.Path.Combine(Path, "node.json"), JsonSerializer.Serialize(state), UnixFileMode.UserRead | UnixFileMode.UserWrite);

    public FileInvitationStore OpenInvitations() => _invitations ??= new FileInvitationStore();

    public ITai64NFloorStore OpenTimestampFloor() => new FileTai64NFloorStore(System.IO.Path.Combine(Path, "tai64n"));

    public void Dispose()
    {
    }
}
