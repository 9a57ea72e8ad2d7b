using System.Buffers.Binary;
using MeshAgent.Core.Net;

namespace MeshAgent.Relay;

/// <summary>
/// Where a client's frames come from and where its Recv frames go: a source endpoint on one of the relay's UDP
/// sockets, or one TCP connection. A session is bound to one link; a frame with the session's token from another
/// link is not the session's (see <see cref="Core.Relay.RelayProtocol"/>, "Sessions").
/// </summary>
internal readonly struct RelayLink : IEquatable<RelayLink>
{
    /// <summary>Bytes <see cref="WriteBinding"/> writes.</summary>
    public const int BindingLength = 1 + 4 + 16 + 2 + 8;

    private RelayLink(int socketIndex, UdpEndpoint endpoint, RelayTcpConnection? tcp)
    {
        SocketIndex = socketIndex;
        Endpoint = endpoint;
        Tcp = tcp;
    }

    /// <summary>Which of the relay's UDP sockets (index into its listen list); -1 for TCP.</summary>
    public int SocketIndex { get; }

    /// <summary>The client's address and port as the relay sees it (for TCP: the connection's remote end).</summary>
    public UdpEndpoint Endpoint { get; }

    /// <summary>The connection, for a TCP link; null for UDP.</summary>
    public RelayTcpConnection? Tcp { get; }

    public bool IsTcp => Tcp is not null;

    public static RelayLink Udp(int socketIndex, UdpEndpoint endpoint) => new(socketIndex, endpoint, null);

    public static RelayLink Stream(RelayTcpConnection connection) => new(-1, connection.Remote, connection);

    /// <summary>The link's identity as bytes, for the challenge MAC: kind, socket, address, port, connection id.</summary>
    public void WriteBinding(Span<byte> destination)
    {
        destination[..BindingLength].Clear();
        destination[0] = IsTcp ? (byte)2 : (byte)1;
        BinaryPrimitives.WriteInt32BigEndian(destination[1..], SocketIndex);
        Endpoint.WriteAddressBytes(destination[5..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[21..], Endpoint.Port);
        BinaryPrimitives.WriteInt64BigEndian(destination[23..], Tcp?.Id ?? 0);
    }

    public bool Equals(RelayLink other) => Tcp is not null
        ? ReferenceEquals(Tcp, other.Tcp)
        : other.Tcp is null && SocketIndex == other.SocketIndex && Endpoint.Equals(other.Endpoint);

    public override bool Equals(object? obj) => obj is RelayLink other && Equals(other);

    public override int GetHashCode() => Tcp is not null ? Tcp.GetHashCode() : HashCode.Combine(SocketIndex, Endpoint);

    public static bool operator ==(RelayLink left, RelayLink right) => left.Equals(right);

    public static bool operator !=(RelayLink left, RelayLink right) => !left.Equals(right);

    /// <summary>Allocates: for logs.</summary>
    public override string ToString() => IsTcp ? $"tcp {Endpoint.ToIPEndPoint()}" : $"udp {Endpoint.ToIPEndPoint()}";
}
