namespace MeshAgent.Core.Invitations;

/// <summary>Where an invitation stands, as far as this node knows.</summary>
public enum InvitationStatus
{
    /// <summary>Never issued here, never heard of as used (or forgotten after expiry).</summary>
    Unknown,

    /// <summary>Issued here, not yet used: the store holds its secret.</summary>
    Pending,

    /// <summary>Used, here or (by a gossiped <see cref="UsedTokenRecord"/>) at another admin.</summary>
    Used,
}

/// <summary>The answer of <see cref="IInvitationStore.Find"/>: status and expiry (expiry is meaningless when Unknown).</summary>
public readonly record struct InvitationLookup(InvitationStatus Status, DateTimeOffset ExpiresAt);

/// <summary>
/// The inviter's record of invitations, consulted by <see cref="JoinResponder"/>. Implementations
/// persist it (the daemon's state directory) and must be thread-safe: several join sessions run at
/// once. The store never hands out a secret except into the caller's buffer, and may wipe it as
/// soon as the token is used.
/// </summary>
public interface IInvitationStore
{
    /// <summary>
    /// Looks up <paramref name="tokenId"/>. When the status is <see cref="InvitationStatus.Pending"/>
    /// the 16-byte secret is copied into <paramref name="secret"/>; otherwise it is left untouched.
    /// </summary>
    InvitationLookup Find(JoinTokenId tokenId, Span<byte> secret);

    /// <summary>
    /// Atomically claims a pending invitation: true for exactly one caller per token, false when it
    /// is unknown or already used (locally or by a record). <paramref name="usedAt"/> is when.
    /// </summary>
    bool TryMarkUsed(JoinTokenId tokenId, DateTimeOffset usedAt);

    /// <summary>
    /// Undoes a claim whose join was then refused (name taken, admin refused): the token becomes
    /// usable again. No effect on a token marked used by a gossiped record.
    /// </summary>
    void ReleaseClaim(JoinTokenId tokenId);

    /// <summary>
    /// Merges a used-token record from gossip. The caller has verified its signature. Marks the id
    /// used whether or not this store issued it (a tombstone kept until the record's expiry).
    /// Returns true when the record told this store something new (so gossip spreads it on).
    /// </summary>
    bool ApplyUsedRecord(UsedTokenRecord record);
}
