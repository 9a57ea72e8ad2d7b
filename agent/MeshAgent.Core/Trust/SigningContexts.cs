namespace MeshAgent.Core.Trust;

/// <summary>
/// The signing contexts of the trust records (see <c>ContextSignature</c>: signed message =
/// <c>ASCII(context) ‖ 0x00 ‖ body</c>). Part of the wire format: changing one invalidates every
/// signature made with it. A new signed message type gets a new context here.
/// </summary>
public static class SigningContexts
{
    /// <summary>Root key over a certificate's to-be-signed bytes.</summary>
    public const string Certificate = "meshagent certificate v1";

    /// <summary>Root key over a revocation's to-be-signed bytes.</summary>
    public const string Revocation = "meshagent revocation v1";

    /// <summary>Node key over its member state's to-be-signed bytes.</summary>
    public const string MemberState = "meshagent member state v1";
}
