namespace MeshAgent.Core.Stun;

/// <summary>Outcome of <see cref="StunMessage.TryRead"/>: success, or why the datagram is a drop.</summary>
public enum StunReadResult : byte
{
    Success = 0,

    /// <summary>Fails <see cref="StunMessage.LooksLikeStun"/>: some other protocol (or garbage); hand it to the next demultiplexer.</summary>
    NotStun,

    /// <summary>Looks like STUN, but an attribute runs past the end or has an impossible length (MESSAGE-INTEGRITY not 20 bytes).</summary>
    MalformedAttribute,

    /// <summary>FINGERPRINT present but not 4 bytes, not the last attribute, or its CRC-32 does not match (RFC 8489 §14.7).</summary>
    BadFingerprint,
}
