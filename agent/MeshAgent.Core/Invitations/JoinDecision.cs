namespace MeshAgent.Core.Invitations;

/// <summary>
/// What the admin's certificate issuer answers to a proven <see cref="JoinRequest"/>
/// (<see cref="JoinResponderOptions.Decide"/>): accept with the new member's certificate and a
/// membership snapshot, or refuse with a status and a reason.
/// </summary>
public sealed class JoinDecision
{
    private JoinDecision(JoinStatus status, string reason, byte[] certificate, byte[] membershipSnapshot)
    {
        Status = status;
        Reason = reason;
        Certificate = certificate;
        MembershipSnapshot = membershipSnapshot;
    }

    public JoinStatus Status { get; }

    public string Reason { get; }

    /// <summary>Owned by the decision; the responder copies it into the response.</summary>
    public byte[] Certificate { get; }

    public byte[] MembershipSnapshot { get; }

    public static JoinDecision Accept(byte[] certificate, byte[] membershipSnapshot)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(membershipSnapshot);
        return new JoinDecision(JoinStatus.Accepted, string.Empty, certificate, membershipSnapshot);
    }

    /// <summary>A refusal: <see cref="JoinStatus.NameTaken"/>, <see cref="JoinStatus.Refused"/> or another non-accepting status.</summary>
    public static JoinDecision Refuse(JoinStatus status, string reason = "")
    {
        if (status == JoinStatus.Accepted || !JoinMessages.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "a refusal needs a refusing join status");
        }

        return new JoinDecision(status, reason ?? string.Empty, [], []);
    }
}
