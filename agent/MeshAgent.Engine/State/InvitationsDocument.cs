namespace MeshAgent.Engine.State;

/// <summary>invitations.json as stored (see <see cref="FileInvitationStore"/>).</summary>
internal sealed record InvitationsDocument
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;

    public IReadOnlyList<InvitationEntryDocument> Invitations { get; init; } = [];

    /// <summary>Encoded <see cref="MeshAgent.Core.Invitations.UsedTokenRecord"/>s (base64 in JSON).</summary>
    public IReadOnlyList<byte[]> UsedRecords { get; init; } = [];
}

/// <summary>One invitation: pending (with its secret) or used (without).</summary>
internal sealed record InvitationEntryDocument
{
    /// <summary>The token id, 16 hex digits.</summary>
    public required string Id { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public string? Name { get; init; }

    /// <summary>The 16-byte secret while pending; absent once used (claimed, accepted or gossiped as used).</summary>
    public byte[]? Secret { get; init; }

    public bool Used { get; init; }
}
