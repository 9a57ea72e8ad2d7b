namespace MeshAgent.Engine.Membership;

/// <summary>
/// One change in this node's view of a member, reported synchronously from inside the engine call
/// that caused it. <see cref="Previous"/> is null for a member seen for the first time.
/// The control plane reacts to these: sessions and overlay routes for every live member, none for
/// dead, left and revoked ones (DESIGN §4).
/// </summary>
public readonly record struct MemberChange(
    MemberId Member,
    MemberState? Previous,
    MemberState Current,
    uint Incarnation,
    MemberPayload? Payload,
    bool PayloadChanged);

/// <summary>A read-only copy of one member record.</summary>
public readonly record struct MemberView(
    MemberId Member,
    MemberState State,
    uint Incarnation,
    MemberPayload? Payload,
    TimeSpan StateChangedAt);
