using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;

namespace MeshAgent.Engine.Relay;

/// <summary>
/// A joiner's TCP connection to a relay's stream port, for joining through the relay when UDP gets nothing
/// (RelayProtocol, "Joining through the relay"): JoinSend frames out, JoinDeliver and JoinUnreachable frames in. No
/// authentication (the joiner has no certificate yet); the join messages are end-to-end encrypted to the inviter.
/// </summary>
/// <remarks>One reader (<see cref="ReadAsync"/>) at a time; <see cref="Send"/> is thread-safe and never blocks (bounded queue).</remarks>
public sealed class RelayJoinConnection : IAsyncDisposable
{
    // A join exchange queues a few hundred bytes; the bound only has to hold one largest frame.
    private const int MaxQueuedBytes = RelayProtocol.TcpLengthPrefix + RelayProtocol.MaxFrameLength;

    private readonly NetworkStream _stream;
    private readonly RelayStreamWriter _writer;
    private readonly RelayStreamReader _reader;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _writing;

    private RelayJoinConnection(NetworkStream stream)
    {
        _stream = stream;
        _writer = new RelayStreamWriter(stream, MaxQueuedBytes);
        _reader = new RelayStreamReader(stream);
        _writing = _writer.RunAsync(_stop.Token);
    }

    /// <summary>Connects to the relay's TCP port within <paramref name="timeout"/>. Throws <see cref="SocketException"/> or <see cref="OperationCanceledException"/> (timeout) on failure.</summary>
    public static async Task<RelayJoinConnection> ConnectAsync(EndPoint relay, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(relay);
        var socket = new Socket(relay.AddressFamily == AddressFamily.Unspecified ? AddressFamily.InterNetworkV6 : relay.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (socket.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = true;
            }

            socket.NoDelay = true;
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connect.CancelAfter(timeout);
            await socket.ConnectAsync(relay, connect.Token).ConfigureAwait(false);
            return new RelayJoinConnection(new NetworkStream(socket, ownsSocket: true));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Queues a JoinSend for <paramref name="inviter"/> in <paramref name="network"/> carrying <paramref name="message"/> (a joiner's join message, borrowed). False when the connection is closed.</summary>
    public bool Send(NetworkRootPublicKey network, NodePublicKey inviter, ReadOnlySpan<byte> message)
    {
        Span<byte> frame = stackalloc byte[JoinSendFrame.MaxLength];
        int length = new JoinSendFrame(network, inviter, message).Write(frame);
        return _writer.TryEnqueue(frame[..length]);
    }

    /// <summary>The next frame from the relay (borrowed until the next call); empty when the relay closed the connection. Stream errors propagate.</summary>
    public ValueTask<Memory<byte>> ReadAsync(CancellationToken cancellationToken) => _reader.ReadFrameAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _writer.Complete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _writing.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing anyway.
        }

        _reader.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
