namespace MeshAgent.Core.Trust;

/// <summary>Outcome of <see cref="MembershipCertificate.Validate(NetworkRootPublicKey, DateTimeOffset, RevocationSet)"/>, in the order checked.</summary>
public enum CertificateValidation
{
    Valid,

    /// <summary>Issued for another network (its root key is not ours).</summary>
    WrongNetwork,

    /// <summary>The root signature does not verify: forged or altered.</summary>
    BadSignature,

    /// <summary>The node key is in the revocation set.</summary>
    Revoked,

    /// <summary>Issued-at is later than now plus the allowed clock skew.</summary>
    NotYetValid,

    /// <summary>Now is at or after expires-at.</summary>
    Expired,
}

public static class CertificateValidationExtensions
{
    /// <summary>A sentence for logs and CLI errors, with the likely next step.</summary>
    public static string Describe(this CertificateValidation result) => result switch
    {
        CertificateValidation.Valid => "certificate is valid",
        CertificateValidation.WrongNetwork => "certificate belongs to another network (different root key)",
        CertificateValidation.BadSignature => "certificate signature does not verify under the network root key: it was altered or forged",
        CertificateValidation.Revoked => "node was revoked by an admin",
        CertificateValidation.NotYetValid => "certificate is not valid yet: check that this machine's clock is correct",
        CertificateValidation.Expired => "certificate has expired: ask an admin to renew it",
        _ => result.ToString(),
    };
}
