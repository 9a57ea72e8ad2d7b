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
///  0x06 Path         body = one PathFrame (ping, pong, call-me-maybe: DESIGN §5), sent to one chosen address
///                    (a direct candidate or the relay), not necessarily the peer's current endpoint
///  0x07 PeerRelay    body = target node key (32) ‖ a WireGuard datagram of the sender's session with the target:
///                    "forward this", to a member acting as peer relay (MeshRuntime.PeerRelay.cs)
///  0x08 PeerRelayed  body = source node key (32) ‖ that datagram, from the peer relay to the target
/// </code>
/// Every frame is <c>type (1) ‖ body length (2, big-endian) ‖ body</c>: WireGuard pads transport payloads
/// with zeros to a multiple of 16, and unlike an IP packet a frame has no length of its own otherwise.
/// Unknown types are counted and dropped, so later versions can add frames (path probes, call-me-maybe).
/// </summary>
internal enum ControlFrameType : byte
{
    Gossip = 0x01,
    UsedToken = 0x02,
    AdminGrant = 0x03,
    AdminAck = 0x04,
    Revoked = 0x05,
    Path = 0x06,
    PeerRelay = 0x07,
    PeerRelayed = 0x08,
}

internal static class ControlFrame
{
    public const int HeaderSize = 3;

    /// <summary>Splits a decrypted payload (padding included) into type and body; false when the length does not fit.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out ControlFrameType type, out ReadOnlySpan<byte> body)
    {
        type = default;
        body = default;
        if (payload.Length < HeaderSize)
        {
            return false;
        }

        int length = (payload[1] << 8) | payload[2];
        if (length > payload.Length - HeaderSize)
        {
            return false;
        }

        type = (ControlFrameType)payload[0];
        body = payload.Slice(HeaderSize, length);
        return true;
    }

    /// <summary>A new array: type byte ‖ body.</summary>
    public static byte[] Create(ControlFrameType type, ReadOnlySpan<byte> body)
    {
        var frame = new byte[HeaderSize + body.Length];
        WriteHeader(frame, type, body.Length);
        body.CopyTo(frame.AsSpan(HeaderSize));
        return frame;
    }

    /// <summary>A new array: type byte ‖ first ‖ second.</summary>
    public static byte[] Create(ControlFrameType type, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var frame = new byte[HeaderSize + first.Length + second.Length];
        WriteHeader(frame, type, first.Length + second.Length);
        first.CopyTo(frame.AsSpan(HeaderSize));
        second.CopyTo(frame.AsSpan(HeaderSize + first.Length));
        return frame;
    }

    /// <summary>Writes type ‖ first ‖ second into <paramref name="destination"/> (no allocation); returns the frame's length.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public static int Write(Span<byte> destination, ControlFrameType type, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        int length = HeaderSize + first.Length + second.Length;
        if (destination.Length < length)
        {
            throw new ArgumentException($"a {length}-byte control frame does not fit {destination.Length} bytes", nameof(destination));
        }

        WriteHeader(destination, type, first.Length + second.Length);
        first.CopyTo(destination[HeaderSize..]);
        second.CopyTo(destination[(HeaderSize + first.Length)..]);
        return length;
    }

    private static void WriteHeader(Span<byte> frame, ControlFrameType type, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, ushort.MaxValue);
        frame[0] = (byte)type;
        frame[1] = (byte)(length >> 8);
        frame[2] = (byte)length;
    }
}
