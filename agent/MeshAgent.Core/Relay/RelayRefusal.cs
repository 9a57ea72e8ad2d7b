namespace MeshAgent.Core.Relay;

/// <summary>Why a relay refused an Auth (the reason byte of a Refused frame). Values are wire bytes; 0 is invalid.</summary>
public enum RelayRefusal : byte
{
    /// <summary>The certificate's network (root key) is not one this relay serves.</summary>
    NotMember = 1,

    /// <summary>The node was revoked by its network's admin.</summary>
    Revoked = 2,

    /// <summary>The certificate has expired (by the relay's clock).</summary>
    Expired = 3,

    /// <summary>The certificate's issued-at lies in the future of the relay's clock (beyond the allowed skew).</summary>
    NotYetValid = 4,

    /// <summary>The Auth signature does not verify under the client key.</summary>
    BadSignature = 5,

    /// <summary>The certificate does not decode, names another node key, or its root signature does not verify.</summary>
    BadCertificate = 6,

    /// <summary>The nonce is not one this relay issued to this client at this endpoint, or it is too old: start again with ClientHello.</summary>
    StaleChallenge = 7,

    /// <summary>The relay serves its maximum number of clients.</summary>
    ServerFull = 8,
}

public static class RelayRefusalExtensions
{
    /// <summary>True for the byte values of <see cref="RelayRefusal"/>.</summary>
    public static bool IsDefined(byte value) => value is >= (byte)RelayRefusal.NotMember and <= (byte)RelayRefusal.ServerFull;

    /// <summary>A sentence for logs and CLI output, with the likely next step.</summary>
    public static string Describe(this RelayRefusal reason) => reason switch
    {
        RelayRefusal.NotMember => "the relay does not serve this network (its root key is not in the relay's --accept-root list): ask the relay operator to add it, or use another relay",
        RelayRefusal.Revoked => "this node was revoked by a network admin",
        RelayRefusal.Expired => "this node's certificate has expired by the relay's clock: ask an admin to renew it (or check the relay's clock)",
        RelayRefusal.NotYetValid => "this node's certificate is not valid yet by the relay's clock: check the clocks of the admin machine and the relay",
        RelayRefusal.BadSignature => "the relay could not verify this node's signature: the node identity does not match the certificate",
        RelayRefusal.BadCertificate => "the relay could not accept this node's certificate (undecodable, altered, or for another key)",
        RelayRefusal.StaleChallenge => "the relay's challenge expired before the answer arrived: retrying",
        RelayRefusal.ServerFull => "the relay serves its maximum number of clients: try later or use another relay",
        _ => $"unknown refusal reason {(byte)reason}",
    };
}
