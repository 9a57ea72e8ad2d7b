using System.Net;

namespace MeshAgent.Engine.WireGuard;

/// <summary>
/// Sends one datagram to the outside (UDP) network. Used by the protocol engine for what it
/// originates itself (handshakes, cookie replies, keepalives, staged packets); the data plane
/// sends its batches directly. borrowed: datagram, valid only during the call.
/// </summary>
public interface IOutsideSender
{
    void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination);
}
