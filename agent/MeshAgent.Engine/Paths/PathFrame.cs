using System.Buffers.Binary;
using System.Net;
using MeshAgent.Core.Net;

namespace MeshAgent.Engine.Paths;

/// <summary>Path-probing messages. Values are wire format (byte 0 of a <see cref="PathFrame"/>).</summary>
public enum PathMessageType : byte
{
    Ping = 1,
    Pong = 2,
    CallMeMaybe = 3,
}

/// <summary>A probe sent to one candidate path. <see cref="SentAtMicroseconds"/> is the sender's monotonic clock, opaque to the receiver (RTT is measured against the sender's own record of the ping, so a pong cannot skew it).</summary>
public readonly record struct PathPing(PathTxId TxId, ulong SentAtMicroseconds);

/// <summary>The answer to a <see cref="PathPing"/>, sent to where the ping came from; <see cref="ObservedSource"/> is that address (what a STUN server would tell the pinger).</summary>
public readonly record struct PathPong(PathTxId TxId, UdpEndpoint ObservedSource);

/// <summary>
/// "I am probing you now; probe me back": the sender's direct candidates, sent over the path that
/// works (usually the relay) so both sides punch at once. <see cref="ProbePorts"/> &gt; 0 says the
/// sender sits behind a hard NAT and has just opened that many probe sockets towards us: the
/// receiver, if easy, starts birthday probing (<see cref="HardNatRole.Spray"/>). <see cref="Nat"/> is the
/// sender's NAT mapping behaviour as its own STUN queries found it (<see cref="NatMapping.Unknown"/> when not
/// measured; absent from older senders), which decides who opens ports and who sprays.
/// </summary>
public sealed record CallMeMaybe(IReadOnlyList<PathCandidate> Candidates, int ProbePorts = 0, NatMapping Nat = NatMapping.Unknown);

/// <summary>
/// Codec for the body of a path control frame (inside a WireGuard session; the mesh control-frame
/// type byte in front of it is the caller's). Never throws on network input: every TryRead returns
/// false for a malformed body. Trailing bytes are ignored (pings may be padded for path-MTU
/// probing, later versions may append fields). All integers big-endian.
/// <code>
/// Ping (21 bytes + padding):
/// +------+-------------------+--------------------------+
/// | 0x01 |  txid (12 bytes)  |  sent at, µs (u64)       |
/// +------+-------------------+--------------------------+
/// Pong (20 bytes for IPv4, 32 for IPv6):
/// +------+-------------------+-------------------------------------------------+
/// | 0x02 |  txid (12 bytes)  |  observed source: family | address | port (u16) |
/// +------+-------------------+-------------------------------------------------+
/// CallMeMaybe (4 bytes + 8 or 20 per candidate + 1):
/// +------+--------------------+-----------+-----------------------------------------------+---------+
/// | 0x03 | probe ports (u16)  | count (1) | count × ( kind (1) | family | address | port ) | NAT (1) |
/// +------+--------------------+-----------+-----------------------------------------------+---------+
/// family = 4 (address is 4 bytes) or 6 (16 bytes); kind = PathCandidateKind 1..4 (direct kinds);
/// NAT = the sender's NatMapping (appended field: a body that ends before it means Unknown; values this
/// reader does not know read as Unknown).
/// </code>
/// </summary>
public static class PathFrame
{
    public const int PingSize = 1 + PathTxId.Size + 8;
    public const int PongMaxSize = 1 + PathTxId.Size + EndpointMaxSize;
    public const int CallMeMaybeHeaderSize = 4;

    /// <summary>At most this many candidates in one call-me-maybe (a member record holds at most 16 endpoints).</summary>
    public const int CallMeMaybeMaxCandidates = 16;

    public const int CallMeMaybeMaxSize = CallMeMaybeHeaderSize + CallMeMaybeMaxCandidates * (1 + EndpointMaxSize) + 1;

    private const int EndpointMaxSize = 1 + 16 + 2;

    /// <summary>The message type in byte 0; false for an empty body or an unknown type.</summary>
    public static bool TryReadType(ReadOnlySpan<byte> body, out PathMessageType type)
    {
        type = body.IsEmpty ? 0 : (PathMessageType)body[0];
        return type is PathMessageType.Ping or PathMessageType.Pong or PathMessageType.CallMeMaybe;
    }

    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="PingSize"/>.</exception>
    public static int WritePing(Span<byte> destination, in PathPing ping)
    {
        RequireSpace(destination, PingSize);
        destination[0] = (byte)PathMessageType.Ping;
        ping.TxId.WriteTo(destination[1..]);
        BinaryPrimitives.WriteUInt64BigEndian(destination[(1 + PathTxId.Size)..], ping.SentAtMicroseconds);
        return PingSize;
    }

    public static bool TryReadPing(ReadOnlySpan<byte> body, out PathPing ping)
    {
        ping = default;
        if (body.Length < PingSize || body[0] != (byte)PathMessageType.Ping)
        {
            return false;
        }

        ping = new PathPing(new PathTxId(body.Slice(1, PathTxId.Size)), BinaryPrimitives.ReadUInt64BigEndian(body[(1 + PathTxId.Size)..]));
        return true;
    }

    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="PongMaxSize"/>.</exception>
    public static int WritePong(Span<byte> destination, in PathPong pong)
    {
        RequireSpace(destination, PongMaxSize);
        destination[0] = (byte)PathMessageType.Pong;
        pong.TxId.WriteTo(destination[1..]);
        return 1 + PathTxId.Size + WriteEndpoint(destination[(1 + PathTxId.Size)..], pong.ObservedSource);
    }

    public static bool TryReadPong(ReadOnlySpan<byte> body, out PathPong pong)
    {
        pong = default;
        if (body.Length < 1 + PathTxId.Size || body[0] != (byte)PathMessageType.Pong
            || !TryReadEndpoint(body[(1 + PathTxId.Size)..], out UdpEndpoint observed, out _))
        {
            return false;
        }

        pong = new PathPong(new PathTxId(body.Slice(1, PathTxId.Size)), observed);
        return true;
    }

    /// <exception cref="ArgumentException">
    /// <paramref name="destination"/> is shorter than <see cref="CallMeMaybeMaxSize"/>, or the message has more than
    /// <see cref="CallMeMaybeMaxCandidates"/> candidates, a relay candidate, or <see cref="CallMeMaybe.ProbePorts"/> outside 0..65535.
    /// </exception>
    public static int WriteCallMeMaybe(Span<byte> destination, CallMeMaybe message)
    {
        ArgumentNullException.ThrowIfNull(message);
        RequireSpace(destination, CallMeMaybeMaxSize);
        if (message.Candidates.Count > CallMeMaybeMaxCandidates)
        {
            throw new ArgumentException($"a call-me-maybe carries at most {CallMeMaybeMaxCandidates} candidates, got {message.Candidates.Count}; send the most preferred ones", nameof(message));
        }

        if (message.ProbePorts is < 0 or > ushort.MaxValue)
        {
            throw new ArgumentException($"probe port count {message.ProbePorts} is outside 0..65535", nameof(message));
        }

        destination[0] = (byte)PathMessageType.CallMeMaybe;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)message.ProbePorts);
        destination[3] = (byte)message.Candidates.Count;
        int offset = CallMeMaybeHeaderSize;
        foreach (PathCandidate candidate in message.Candidates)
        {
            if (!candidate.IsDirect || candidate.Kind > PathCandidateKind.PeerReflexive)
            {
                throw new ArgumentException($"a call-me-maybe lists direct endpoints only, not {candidate}", nameof(message));
            }

            destination[offset++] = (byte)candidate.Kind;
            offset += WriteEndpoint(destination[offset..], candidate.Address.Endpoint);
        }

        destination[offset++] = (byte)message.Nat;
        return offset;
    }

    /// <summary>Reads a call-me-maybe; false if truncated or if any entry has an unknown kind or family. Allocates the candidate list (control plane, a few per minute).</summary>
    public static bool TryReadCallMeMaybe(ReadOnlySpan<byte> body, out CallMeMaybe? message)
    {
        message = null;
        if (body.Length < CallMeMaybeHeaderSize || body[0] != (byte)PathMessageType.CallMeMaybe)
        {
            return false;
        }

        int probePorts = BinaryPrimitives.ReadUInt16BigEndian(body[1..]);
        int count = body[3];
        if (count > CallMeMaybeMaxCandidates)
        {
            return false;
        }

        var candidates = new PathCandidate[count];
        int offset = CallMeMaybeHeaderSize;
        for (int i = 0; i < count; i++)
        {
            if (offset >= body.Length)
            {
                return false;
            }

            var kind = (PathCandidateKind)body[offset++];
            if (kind is < PathCandidateKind.Local or > PathCandidateKind.PeerReflexive
                || !TryReadEndpoint(body[offset..], out UdpEndpoint endpoint, out int used))
            {
                return false;
            }

            offset += used;
            candidates[i] = new PathCandidate(kind, PathAddress.Direct(endpoint));
        }

        NatMapping nat = NatMapping.Unknown;
        if (offset < body.Length && body[offset] is >= (byte)NatMapping.Unknown and <= (byte)NatMapping.UdpBlocked)
        {
            nat = (NatMapping)body[offset];
        }

        message = new CallMeMaybe(candidates, probePorts, nat);
        return true;
    }

    private static int WriteEndpoint(Span<byte> destination, UdpEndpoint endpoint)
    {
        destination[0] = endpoint.IsIPv6 ? (byte)6 : (byte)4;
        int length = endpoint.WriteAddressBytes(destination[1..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(1 + length)..], endpoint.Port);
        return 1 + length + 2;
    }

    private static bool TryReadEndpoint(ReadOnlySpan<byte> source, out UdpEndpoint endpoint, out int used)
    {
        endpoint = default;
        used = 0;
        if (source.IsEmpty)
        {
            return false;
        }

        int length = source[0] switch
        {
            4 => 4,
            6 => 16,
            _ => 0,
        };
        if (length == 0 || source.Length < 1 + length + 2)
        {
            return false;
        }

        endpoint = new UdpEndpoint(new IPAddress(source.Slice(1, length)), BinaryPrimitives.ReadUInt16BigEndian(source[(1 + length)..]));
        used = 1 + length + 2;
        return true;
    }

    private static void RequireSpace(Span<byte> destination, int size)
    {
        if (destination.Length < size)
        {
            throw new ArgumentException($"path frame buffer holds {destination.Length} bytes, needs {size}", nameof(destination));
        }
    }
}
