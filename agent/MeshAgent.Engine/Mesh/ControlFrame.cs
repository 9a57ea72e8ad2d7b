namespace MeshAgent.Engine.Mesh;

/// <summary>
/// The first byte of a mesh control frame: a decrypted WireGuard transport payload whose first nibble is
/// neither 4 nor 6 (DESIGN §2), so every value here is below 0x40. The session authenticates the sender.
/// <code>
///  0x01 Gossip       body = one GossipEngine frame (SWIM probes, broadcasts, anti-entropy)
///  0x02 UsedToken    body = UsedTokenRecord (signed by the admin that accepted the join)
///  0x03 AdminGrant   body = root key seed (32) ‖ the grantee's new certificate (IsAdmin), from an admin
///  0x04 AdminAck     body = hash of the certificate received (32)
///  0x05 Revoked      body = the root-signed Revocation of the receiver: sent to it once, just before its
///                    peers drop it, since gossip can no longer reach a node nobody has a session with
/// </code>
/// Unknown types are counted and dropped, so later versions can add frames (path probes, call-me-maybe).
/// </summary>
internal enum ControlFrameType : byte
{
    Gossip = 0x01,
    UsedToken = 0x02,
    AdminGrant = 0x03,
    AdminAck = 0x04,
    Revoked = 0x05,
}

internal static class ControlFrame
{
    /// <summary>A new array: type byte ‖ body.</summary>
    public static byte[] Create(ControlFrameType type, ReadOnlySpan<byte> body)
    {
        var frame = new byte[1 + body.Length];
        frame[0] = (byte)type;
        body.CopyTo(frame.AsSpan(1));
        return frame;
    }

    /// <summary>A new array: type byte ‖ first ‖ second.</summary>
    public static byte[] Create(ControlFrameType type, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var frame = new byte[1 + first.Length + second.Length];
        frame[0] = (byte)type;
        first.CopyTo(frame.AsSpan(1));
        second.CopyTo(frame.AsSpan(1 + first.Length));
        return frame;
    }
}
