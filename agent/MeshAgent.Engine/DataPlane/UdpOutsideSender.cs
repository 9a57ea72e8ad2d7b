using System.Net;
using MeshAgent.Core.Net;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.DataPlane;

/// <summary>
/// The protocol engine's own sends (handshakes, cookie replies, keepalives, staged packets)
/// over the data plane's UDP socket, one datagram at a time through a private one-slot batch.
/// Called from the control thread and occasionally from data threads, hence the lock.
/// </summary>
public sealed class UdpOutsideSender(UdpBatchSocket socket) : IOutsideSender, IDisposable
{
    private readonly UdpSendBatch _batch = new(1, 65536);
    private readonly Lock _gate = new();

    public long Failures;

    /// <summary>Where datagrams for relayed endpoints (<see cref="RelayedEndpoint"/>) go; null: they are dropped and counted as failures.</summary>
    public RelayedDatagramSender? Relayed { get; set; }

    public void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination)
    {
        if (RelayedEndpoint.TryRead(destination, out ushort relay, out uint slot))
        {
            if (Relayed is { } relayed)
            {
                relayed(relay, slot, datagram);
            }
            else
            {
                Interlocked.Increment(ref Failures);
            }

            return;
        }

        lock (_gate)
        {
            datagram.CopyTo(_batch.GetBuffer(0));
            _batch.Set(0, datagram.Length, UdpEndpoint.FromIPEndPoint(destination));
            if (socket.Send(_batch, 1).Failed > 0)
            {
                Interlocked.Increment(ref Failures);
            }
        }
    }

    public void Dispose() => _batch.Dispose();
}
