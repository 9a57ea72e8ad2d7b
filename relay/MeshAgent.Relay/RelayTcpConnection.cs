using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Net;
using MeshAgent.Engine.Relay;

namespace MeshAgent.Relay;

/// <summary>
/// One client of the TCP stream relay: its socket, the bounded queue of frames towards it (a slow reader loses
/// frames, counted, instead of growing the relay's memory) and the session it authenticated, if any.
/// </summary>
/// <remarks><see cref="Session"/> is written by <see cref="RelayHub"/> under its lock and read by the sweeper without it (volatile).</remarks>
internal sealed class RelayTcpConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private volatile RelaySession? _session;
    private long _sessionlessSince;
    private long _lastJoinActivity;

    public RelayTcpConnection(long id, Socket socket, int maxQueuedBytes, TimeProvider time)
    {
        Id = id;
        _socket = socket;
        _time = time;
        Stream = new NetworkStream(socket, ownsSocket: true);
        Writer = new RelayStreamWriter(Stream, maxQueuedBytes);
        Remote = socket.RemoteEndPoint is IPEndPoint remote ? UdpEndpoint.FromIPEndPoint(remote) : default;
        _sessionlessSince = time.GetTimestamp();
    }

    /// <summary>Unique per relay process (part of the challenge binding).</summary>
    public long Id { get; }

    public UdpEndpoint Remote { get; }

    public NetworkStream Stream { get; }

    public RelayStreamWriter Writer { get; }

    public CancellationToken Stopping => _stop.Token;

    /// <summary>The task running this connection, once started (awaited at shutdown).</summary>
    public Task? Completion { get; set; }

    /// <summary>The session bound to this connection; null before Auth, and after it ended or moved elsewhere.</summary>
    public RelaySession? Session
    {
        get => _session;
        set
        {
            _session = value;
            Volatile.Write(ref _sessionlessSince, value is null ? _time.GetTimestamp() : 0);
        }
    }

    /// <summary>
    /// Monotonic timestamp since when the connection has had no session; 0 while it has one. A joiner's connection
    /// (join channel, no session) counts from its last join message or reply, so it lives while the join goes on.
    /// </summary>
    public long SessionlessSince => Volatile.Read(ref _sessionlessSince) is var since and not 0 ? Math.Max(since, Volatile.Read(ref _lastJoinActivity)) : 0;

    /// <summary>A join message or reply went over this connection (called under the hub's lock).</summary>
    public void MarkJoinActivity() => Volatile.Write(ref _lastJoinActivity, _time.GetTimestamp());

    /// <summary>Queues a copy of <paramref name="frame"/> for the client; false when its queue is full (or closed).</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> frame) => Writer.TryEnqueue(frame);

    /// <summary>Ends the connection: the reader and writer stop and the socket closes. Safe to call more than once, from any thread.</summary>
    public void Close()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: closed.
        }
    }

    public void Dispose()
    {
        Close();
        Stream.Dispose();
        _socket.Dispose();
        _stop.Dispose();
    }

    public override string ToString() => $"tcp {Remote}";
}
