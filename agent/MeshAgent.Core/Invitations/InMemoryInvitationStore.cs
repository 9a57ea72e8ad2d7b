using System.Security.Cryptography;

namespace MeshAgent.Core.Invitations;

/// <summary>
/// A thread-safe, in-memory <see cref="IInvitationStore"/>: the reference semantics, used in tests
/// and as the daemon's working set (a persistent store wraps it). One lock; every operation is
/// O(1), and joins are rare.
/// </summary>
public sealed class InMemoryInvitationStore : IInvitationStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<JoinTokenId, Entry> _entries = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Records an invitation this node issued (after `meshagent invite` made <paramref name="token"/>).</summary>
    public void Add(JoinToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        Add(token.Id, token.Secret, token.ExpiresAt);
    }

    /// <summary>
    /// Records an invitation by id, secret and expiry. An id already known as used stays used (a
    /// restored backup must not revive a token gossip says is spent).
    /// </summary>
    public void Add(JoinTokenId tokenId, ReadOnlySpan<byte> secret, DateTimeOffset expiresAt)
    {
        if (secret.Length != JoinToken.SecretSize)
        {
            throw new ArgumentException($"a join token secret is {JoinToken.SecretSize} bytes, got {secret.Length}", nameof(secret));
        }

        lock (_gate)
        {
            if (_entries.TryGetValue(tokenId, out Entry? existing))
            {
                if (existing.IsUsed)
                {
                    return;
                }

                existing.WipeSecret();
            }

            _entries[tokenId] = new Entry { Secret = secret.ToArray(), ExpiresAt = expiresAt };
        }
    }

    public InvitationLookup Find(JoinTokenId tokenId, Span<byte> secret)
    {
        lock (_gate)
        {
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

    public bool TryMarkUsed(JoinTokenId tokenId, DateTimeOffset usedAt)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(tokenId, out Entry? entry) || entry.IsUsed || entry.Secret is null)
            {
                return false;
            }

            entry.ClaimedAt = usedAt;
            return true;
        }
    }

    public void ReleaseClaim(JoinTokenId tokenId)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(tokenId, out Entry? entry))
            {
                entry.ClaimedAt = null;
            }
        }
    }

    public bool ApplyUsedRecord(UsedTokenRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            if (!_entries.TryGetValue(record.TokenId, out Entry? entry))
            {
                _entries[record.TokenId] = new Entry { ExpiresAt = record.ExpiresAt, UsedByRecord = true };
                return true;
            }

            if (entry.UsedByRecord)
            {
                return false;
            }

            // The secret is of no further use once the whole network knows the token is spent.
            entry.UsedByRecord = true;
            entry.WipeSecret();
            return true;
        }
    }

    /// <summary>
    /// Forgets invitations and tombstones that expired before <paramref name="now"/> −
    /// <paramref name="grace"/>. Until then an expired token gets the clearer "expired" answer
    /// rather than "unknown". Returns how many entries went.
    /// </summary>
    public int Prune(DateTimeOffset now, TimeSpan grace)
    {
        lock (_gate)
        {
            DateTimeOffset cutoff = now - grace;
            JoinTokenId[] stale = _entries.Where(e => e.Value.ExpiresAt < cutoff).Select(e => e.Key).ToArray();
            foreach (JoinTokenId id in stale)
            {
                _entries[id].WipeSecret();
                _entries.Remove(id);
            }

            return stale.Length;
        }
    }

    private sealed class Entry
    {
        public byte[]? Secret { get; set; }

        public DateTimeOffset ExpiresAt { get; init; }

        /// <summary>Set by a local claim (<see cref="TryMarkUsed"/>), cleared by <see cref="ReleaseClaim"/>.</summary>
        public DateTimeOffset? ClaimedAt { get; set; }

        public bool UsedByRecord { get; set; }

        public bool IsUsed => ClaimedAt is not null || UsedByRecord;

        public void WipeSecret()
        {
            if (Secret is not null)
            {
                CryptographicOperations.ZeroMemory(Secret);
                Secret = null;
            }
        }
    }
}
