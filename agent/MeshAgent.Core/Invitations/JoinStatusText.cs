namespace MeshAgent.Core.Invitations;

/// <summary>What `meshagent join` tells the person joining for each <see cref="JoinStatus"/>: what happened and what to do.</summary>
public static class JoinStatusText
{
    /// <param name="status">The inviter's answer.</param>
    /// <param name="reason">The admin's free text (<see cref="JoinResponse.Reason"/>); may be empty.</param>
    public static string Describe(JoinStatus status, string? reason = null)
    {
        string detail = string.IsNullOrWhiteSpace(reason) ? string.Empty : $" ({Sanitize(reason)})";
        return status switch
        {
            JoinStatus.Accepted => "the inviter accepted the join",
            JoinStatus.TokenUsed => "this join token has already been used — a token works once; if this machine joined with it before, it is a member already (see meshagent status), otherwise ask an admin for a new one with meshagent invite",
            JoinStatus.TokenExpired => "this join token has expired — ask an admin for a new one with meshagent invite",
            JoinStatus.UnknownToken => "the inviter does not know this join token (it was revoked or forgotten after expiry, or altered) — ask an admin for a new one with meshagent invite",
            JoinStatus.NameTaken => $"the node name is already taken{detail} — choose another with meshagent join --name NAME TOKEN (the token is still valid)",
            JoinStatus.Refused => $"the admin refused the join{detail} — contact the admin who invited you",
            _ => $"the inviter answered with an unknown status {(byte)status} — upgrade meshagent",
        };
    }

    // The reason comes from the (authenticated) inviter, but it is printed to a terminal: no escapes.
    private static string Sanitize(string text) => new(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
}
