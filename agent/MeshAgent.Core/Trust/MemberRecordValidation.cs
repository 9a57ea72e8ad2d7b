namespace MeshAgent.Core.Trust;

/// <summary>Outcome of <see cref="MemberRecord.Verify"/>, in the order checked: the certificate first, then the state.</summary>
public enum MemberRecordValidation
{
    Valid,
    WrongNetwork,
    BadCertificateSignature,
    Revoked,
    NotYetValid,
    Expired,

    /// <summary>The state names another node key than the certificate.</summary>
    StateKeyMismatch,

    /// <summary>The state was signed for another certificate of the node (an older or newer one).</summary>
    StateCertificateMismatch,

    /// <summary>The state's signature does not verify under the certificate's node key: forged or altered.</summary>
    BadStateSignature,

    /// <summary>An advertised route lies outside every approved route of the certificate.</summary>
    RouteNotApproved,
}
