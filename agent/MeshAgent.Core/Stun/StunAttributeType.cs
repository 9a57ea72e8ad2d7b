namespace MeshAgent.Core.Stun;

/// <summary>
/// Attribute types used here (RFC 8489 §18.3, IANA "STUN Attributes"). 0x0000–0x7FFF are
/// comprehension-required: an agent that does not understand one must fail the message
/// (§14); 0x8000–0xFFFF are comprehension-optional and are skipped when unknown.
/// </summary>
public static class StunAttributeType
{
    public const ushort MappedAddress = 0x0001;
    public const ushort Username = 0x0006;
    public const ushort MessageIntegrity = 0x0008;
    public const ushort ErrorCode = 0x0009;
    public const ushort UnknownAttributes = 0x000A;
    public const ushort Realm = 0x0014;
    public const ushort Nonce = 0x0015;
    public const ushort MessageIntegritySha256 = 0x001C;
    public const ushort PasswordAlgorithm = 0x001D;
    public const ushort Userhash = 0x001E;
    public const ushort XorMappedAddress = 0x0020;

    // RFC 8445 (ICE), only so tests and logs can name what the RFC 5769 request carries.
    public const ushort Priority = 0x0024;
    public const ushort IceControlled = 0x8029;

    public const ushort PasswordAlgorithms = 0x8002;
    public const ushort AlternateDomain = 0x8003;
    public const ushort Software = 0x8022;
    public const ushort AlternateServer = 0x8023;
    public const ushort Fingerprint = 0x8028;

    /// <summary>True for 0x0000–0x7FFF (RFC 8489 §14).</summary>
    public static bool IsComprehensionRequired(ushort type) => type < 0x8000;

    /// <summary>
    /// The comprehension-required attributes RFC 8489 itself defines (§14.1–§14.12). A Binding
    /// server without authentication understands them all in the sense of §6.3.1: it may ignore
    /// credentials it was not configured to check. Anything else below 0x8000 (ICE's PRIORITY,
    /// RFC 5780's CHANGE-REQUEST, TURN's attributes) is unknown to this implementation.
    /// </summary>
    public static bool IsDefinedByRfc8489(ushort type) => type is MappedAddress or Username or MessageIntegrity
        or ErrorCode or UnknownAttributes or Realm or Nonce or MessageIntegritySha256 or PasswordAlgorithm
        or Userhash or XorMappedAddress;
}
