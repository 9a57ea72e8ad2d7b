using System.Security.Cryptography;
using System.Text.Json;
using MeshAgent.Core.Invitations;

namespace MeshAgent.Engine.State;

/// <summary>An invitation still waiting to be used, for `meshagent invitations`.</summary>
public sealed record PendingInvitation(JoinTokenId Id, DateTimeOffset ExpiresAt, string? Name);

/// <summary>
/// The inviter's <see cref="IInvitationStore"/>, persisted to invitations.json (0600, <see cref="AtomicFile"/>)
/// before any change is visible: when a method returns, the change survives a crash. Semantics are those
/// of <see cref="InMemoryInvitationStore"/>, plus the used-token records this node holds (<see cref="UsedRecords"/>)
/// and invitation names.
/// <para>
/// A claim (<see cref="TryMarkUsed"/>) is written as "used" before it is granted, so a token can never
/// admit two joiners, even across a crash; the price is that a crash between the claim and the answer
/// spends the token (the invitee asks for a new one). The file holds a secret only while its invitation
/// is pending; in memory a claimed token keeps it until the use is final (<see cref="AddUsedRecord"/>
/// or a gossiped record) so <see cref="ReleaseClaim"/> can restore it; then it is wiped.
/// </para>
/// <para>
/// Entries and records are forgotten <see cref="RetentionAfterExpiry"/> after their token expires (until
/// then an expired token is answered "expired" rather than "unknown", and the record keeps spreading).
/// </para>
/// Thread-safe: one lock, held across the file write (joins are rare; the file is small). A failed write
/// throws <see cref="StateException"/> and changes nothing, in memory or on disk.
/// </summary>
public sealed class FileInvitationStore : IInvitationStore, IDisposable
{
    /// <summary>How long after its token's expiry an invitation or used-token record is kept.</summary>
    public static readonly TimeSpan RetentionAfterExpiry = TimeSpan.FromDays(1);

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private Dictionary<JoinTokenId, Entry> _entries;
    private Dictionary<JoinTokenId, UsedTokenRecord> _records;
    private bool _disposed;

    private FileInvitationStore(string path, TimeProvider time, Dictionary<JoinTokenId, Entry> entries, Dictionary<JoinTokenId, UsedTokenRecord> records)
    {
        Path = path;
        _time = time;
        _entries = entries;
        _records = records;
    }

    public string Path { get; }

    /// <summary>Invitations and tombstones held (pending, claimed or used).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                ThrowIfDisposed();
                return _entries.Count;
            }
        }
    }

    /// <summary>The used-token records this node holds — its own uses and gossiped ones — for spreading to peers. A snapshot.</summary>
    public IReadOnlyList<UsedTokenRecord> UsedRecords
    {
        get
        {
            lock (_gate)
            {
                ThrowIfDisposed();
                return _records.Values.OrderBy(r => r.UsedAt).ThenBy(r => r.TokenId.Value).ToArray();
            }
        }
    }

    /// <summary>Records an invitation `meshagent invite` just made, with its suggested node name.</summary>
    public void Add(JoinToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        Add(token.Id, token.Secret, token.ExpiresAt, token.SuggestedNodeName);
    }

    /// <summary>
    /// Records an invitation by id, secret (copied) and expiry. An id already known as used stays used
    /// (a restored backup must not revive a token gossip says is spent); a pending one is replaced.
    /// </summary>
    public void Add(JoinTokenId id, ReadOnlySpan<byte> secret, DateTimeOffset expiresAt, string? name)
    {
        if (secret.Length != JoinToken.SecretSize)
        {
            throw new ArgumentException($"a join token secret is {JoinToken.SecretSize} bytes, got {secret.Length}", nameof(secret));
        }

        lock (_gate)
        {
            ThrowIfDisposed();
            if (_records.ContainsKey(id) || (_entries.TryGetValue(id, out Entry? existing) && existing.IsUsed))
            {
                return;
            }

            var entries = new Dictionary<JoinTokenId, Entry>(_entries) { [id] = new Entry(secret.ToArray(), expiresAt, name, ClaimedAt: null, Used: false) };
            Commit(entries, _records);
        }
    }

    /// <summary>Invitations not used yet and not expired at <paramref name="now"/>, soonest expiry first.</summary>
    public IReadOnlyList<PendingInvitation> Pending(DateTimeOffset now)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return _entries
                .Where(e => !e.Value.IsUsed && e.Value.Secret is not null && e.Value.ExpiresAt > now)
                .OrderBy(e => e.Value.ExpiresAt)
                .ThenBy(e => e.Key.Value)
                .Select(e => new PendingInvitation(e.Key, e.Value.ExpiresAt, e.Value.Name))
                .ToArray();
        }
    }

    public InvitationLookup Find(JoinTokenId tokenId, Span<byte> secret)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (!_entries.TryGetValue(tokenId, out Entry? entry))
            {
                return new InvitationLookup(InvitationStatus.Unknown, default);
            }

            if (entry.IsUsed || entry.Secret is null)
            {
                return new InvitationLookup(InvitationStatus.Used, entry.ExpiresAt);
            }

            entry.Secret.CopyTo(secret);
            return new InvitationLookup(InvitationStatus.Pending, entry.ExpiresAt);
        }
    }

    /// <summary>Claims a pending invitation: true for exactly one caller per token, once the claim is on disk.</summary>
    public bool TryMarkUsed(JoinTokenId tokenId, DateTimeOffset usedAt)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (!_entries.TryGetValue(tokenId, out Entry? entry) || entry.IsUsed || entry.Secret is null)
            {
                return false;
            }

            Commit(With(_entries, tokenId, entry with { ClaimedAt = usedAt }), _records);
            return true;
        }
    }

    public void ReleaseClaim(JoinTokenId tokenId)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_entries.TryGetValue(tokenId, out Entry? entry) && entry.ClaimedAt is not null && !entry.Used)
            {
                Commit(With(_entries, tokenId, entry with { ClaimedAt = null }), _records);
            }
        }
    }

    /// <summary>
    /// Records a use decided here (the JoinResponder's UsedRecord, signed by the caller): the token is used
    /// for good, its secret wiped, and the record kept in <see cref="UsedRecords"/> for gossip.
    /// </summary>
    public void AddUsedRecord(UsedTokenRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            ThrowIfDisposed();
            _ = MergeUsedRecord(record);
        }
    }

    /// <summary>
    /// Merges a gossiped used-token record (signature verified by the caller). True when it told this store
    /// something new; false for a record already held, or one past its retention (so old records stop
    /// circulating instead of being revived by every peer that still has them).
    /// </summary>
    public bool ApplyUsedRecord(UsedTokenRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            ThrowIfDisposed();
            return MergeUsedRecord(record);
        }
    }

    /// <summary>Forgets what expired more than <see cref="RetentionAfterExpiry"/> ago (writing the file when something went). Returns how many entries and records went.</summary>
    public int Prune()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var entries = new Dictionary<JoinTokenId, Entry>(_entries);
            var records = new Dictionary<JoinTokenId, UsedTokenRecord>(_records);
            int removed = PruneInto(entries, records, _time.GetUtcNow());
            if (removed > 0)
            {
                Commit(entries, records);
            }

            return removed;
        }
    }

    /// <summary>Wipes every secret held in memory. The store is unusable afterwards; the file stays as it is.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (Entry entry in _entries.Values)
            {
                if (entry.Secret is not null)
                {
                    CryptographicOperations.ZeroMemory(entry.Secret);
                }
            }

            _entries = [];
            _records = [];
        }
    }

    /// <summary>
    /// The store for <paramref name="path"/> from its bytes (null when the file does not exist yet). Takes
    /// ownership of <paramref name="bytes"/> and wipes them (they hold secrets).
    /// </summary>
    /// <exception cref="StateException">the file is damaged or from a newer meshagent.</exception>
    internal static FileInvitationStore Load(string path, byte[]? bytes, TimeProvider time)
    {
        if (bytes is null)
        {
            return new FileInvitationStore(path, time, [], []);
        }

        try
        {
            string? reason = StateJson.CheckFormat(path, bytes, InvitationsDocument.CurrentFormat);
            InvitationsDocument? document = null;
            if (reason is null)
            {
                try
                {
                    document = JsonSerializer.Deserialize(bytes, StateJsonContext.Default.InvitationsDocument);
                    reason = document is null ? "it holds null instead of an object" : null;
                }
                catch (JsonException e)
                {
                    reason = $"its content does not match the invitation file format ({e.Message})";
                }
            }

            var entries = new Dictionary<JoinTokenId, Entry>();
            var records = new Dictionary<JoinTokenId, UsedTokenRecord>();
            reason ??= Read(document!, entries, records);
            if (reason is not null)
            {
                foreach (Entry entry in entries.Values)
                {
                    if (entry.Secret is not null)
                    {
                        CryptographicOperations.ZeroMemory(entry.Secret);
                    }
                }

                throw new StateException(
                    $"invitation file {path} is damaged: {reason}. Restore it from a backup, or move it away — its pending " +
                    "invitations are then lost (issue new ones with meshagent invite); used-token records come back from " +
                    "other admins by gossip");
            }

            PruneInto(entries, records, time.GetUtcNow());
            return new FileInvitationStore(path, time, entries, records);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static string? Read(InvitationsDocument document, Dictionary<JoinTokenId, Entry> entries, Dictionary<JoinTokenId, UsedTokenRecord> records)
    {
        // An absent list reads as null, not as the initializer's empty list: the generated constructor sets
        // every init-only property.
        foreach (InvitationEntryDocument item in document.Invitations ?? [])
        {
            if (item is null)
            {
                return "an invitation entry is null";
            }

            if (!JoinTokenId.TryParse(item.Id, out JoinTokenId id))
            {
                return $"the invitation id '{item.Id}' is not 16 hex digits";
            }

            if (entries.ContainsKey(id))
            {
                return $"invitation {id} appears twice";
            }

            if (item.Secret is not null && item.Secret.Length != JoinToken.SecretSize)
            {
                return $"invitation {id} has a secret of {item.Secret.Length} bytes instead of {JoinToken.SecretSize}";
            }

            if (!item.Used && item.Secret is null)
            {
                return $"invitation {id} is pending but has no secret";
            }

            // A used entry never needs its secret: drop one a hand edit may have left.
            byte[]? secret = item.Used ? null : item.Secret;
            entries[id] = new Entry(secret, item.ExpiresAt, item.Name, ClaimedAt: null, Used: item.Used);
        }

        foreach (byte[] encoded in document.UsedRecords ?? [])
        {
            if (encoded is null || !UsedTokenRecord.TryRead(encoded, out UsedTokenRecord? record))
            {
                return "a used-token record is not a valid encoding";
            }

            if (!records.TryAdd(record!.TokenId, record))
            {
                return $"the used-token record of {record.TokenId} appears twice";
            }

            if (!entries.ContainsKey(record.TokenId))
            {
                entries[record.TokenId] = new Entry(null, record.ExpiresAt, null, ClaimedAt: null, Used: true);
            }
        }

        return null;
    }

    private static Dictionary<JoinTokenId, Entry> With(Dictionary<JoinTokenId, Entry> entries, JoinTokenId id, Entry entry) =>
        new(entries) { [id] = entry };

    private static int PruneInto(Dictionary<JoinTokenId, Entry> entries, Dictionary<JoinTokenId, UsedTokenRecord> records, DateTimeOffset now)
    {
        DateTimeOffset cutoff = now - RetentionAfterExpiry;
        int removed = 0;
        foreach (JoinTokenId id in entries.Where(e => e.Value.ExpiresAt < cutoff).Select(e => e.Key).ToArray())
        {
            entries.Remove(id);
            removed++;
        }

        foreach (JoinTokenId id in records.Where(r => r.Value.ExpiresAt < cutoff).Select(r => r.Key).ToArray())
        {
            records.Remove(id);
            removed++;
        }

        return removed;
    }

    private bool MergeUsedRecord(UsedTokenRecord record)
    {
        if (record.ExpiresAt < _time.GetUtcNow() - RetentionAfterExpiry)
        {
            return false;
        }

        bool newRecord = !_records.ContainsKey(record.TokenId);
        _entries.TryGetValue(record.TokenId, out Entry? entry);
        bool newUse = entry is null || !entry.Used;
        if (!newRecord && !newUse)
        {
            return false;
        }

        Dictionary<JoinTokenId, UsedTokenRecord> records = newRecord ? new(_records) { [record.TokenId] = record } : _records;
        Entry used = entry is null
            ? new Entry(null, record.ExpiresAt, null, ClaimedAt: null, Used: true)
            : entry with { Secret = null, Used = true };
        Commit(With(_entries, record.TokenId, used), records);
        return true;
    }

    /// <summary>
    /// Makes (<paramref name="entries"/>, <paramref name="records"/>) the store's state: prunes them, writes
    /// them, and only then swaps them in and wipes the secrets no entry holds any more. Caller holds the
    /// lock and passes copies it does not share.
    /// </summary>
    private void Commit(Dictionary<JoinTokenId, Entry> entries, Dictionary<JoinTokenId, UsedTokenRecord> records)
    {
        if (ReferenceEquals(records, _records))
        {
            records = new Dictionary<JoinTokenId, UsedTokenRecord>(records);
        }

        PruneInto(entries, records, _time.GetUtcNow());
        Persist(entries, records);

        Dictionary<JoinTokenId, Entry> previous = _entries;
        _entries = entries;
        _records = records;

        var kept = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
        foreach (Entry entry in entries.Values)
        {
            if (entry.Secret is not null)
            {
                kept.Add(entry.Secret);
            }
        }

        foreach (Entry entry in previous.Values)
        {
            if (entry.Secret is not null && !kept.Contains(entry.Secret))
            {
                CryptographicOperations.ZeroMemory(entry.Secret);
            }
        }
    }

    private void Persist(Dictionary<JoinTokenId, Entry> entries, Dictionary<JoinTokenId, UsedTokenRecord> records)
    {
        var document = new InvitationsDocument
        {
            Invitations = entries
                .OrderBy(e => e.Value.ExpiresAt)
                .ThenBy(e => e.Key.Value)
                .Select(e => new InvitationEntryDocument
                {
                    Id = e.Key.ToString(),
                    ExpiresAt = e.Value.ExpiresAt,
                    Name = e.Value.Name,
                    Secret = e.Value.IsUsed ? null : e.Value.Secret, // borrowed for the serializer only
                    Used = e.Value.IsUsed,
                })
                .ToArray(),
            UsedRecords = records.Values.OrderBy(r => r.UsedAt).ThenBy(r => r.TokenId.Value).Select(r => r.ToArray()).ToArray(),
        };

        byte[] json = JsonSerializer.SerializeToUtf8Bytes(document, StateJsonContext.Default.InvitationsDocument);
        try
        {
            AtomicFile.Write(Path, json, StateDirectory.PrivateFileMode);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(json);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>
    /// One invitation, immutable: changes make a new Entry in a new dictionary (<see cref="Commit"/>), so a
    /// failed write leaves the current state untouched. Entries of successive states share the secret
    /// array; it is wiped when no current entry holds it.
    /// </summary>
    /// <param name="Secret">Held while pending or claimed; null once the use is final.</param>
    /// <param name="ClaimedAt">Set by a local claim, cleared by ReleaseClaim.</param>
    /// <param name="Used">Final: accepted here (AddUsedRecord), gossiped as used, or read as used from the file.</param>
    private sealed record Entry(byte[]? Secret, DateTimeOffset ExpiresAt, string? Name, DateTimeOffset? ClaimedAt, bool Used)
    {
        public bool IsUsed => ClaimedAt is not null || Used;
    }
}
