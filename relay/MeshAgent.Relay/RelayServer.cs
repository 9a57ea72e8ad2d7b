using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MeshAgent.Core.Net;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeshAgent.Relay;

/// <summary>
/// The relay's machinery around <see cref="RelayHub"/>: UDP sockets read and written in batches
/// (<see cref="UdpBatchSocket"/>, recvmmsg/sendmmsg) by one dedicated thread each, TCP listeners with one async
/// reader and writer per connection, the sweeper and the summary log.
/// </summary>
/// <remarks>
/// <para>UDP flow (STYLE rule 3, run to completion): a thread polls its socket and the stop eventfd, receives a
/// batch, lets the hub process every datagram, and sends the answers in batches before it receives again. A
/// forwarded UDP payload never moves: the hub rewrites the Send into the Recv inside the receive buffer and the
/// send batch points at it (<see cref="UdpSendBatch.SetUnsafe"/>), which is why all batches are flushed before the
/// next receive. Datagrams that are not relay frames go to <see cref="OtherDatagram"/> (STUN, plugged in by the
/// owner), or are dropped and counted.</para>
/// <para>TCP clients: frames are handled on the connection's reader task; answers to TCP clients go through the
/// client's bounded queue; answers to UDP clients go out through a small locked send batch per socket.</para>
/// </remarks>
public sealed class RelayServer : IAsyncDisposable
{
    /// <summary>Receive slots hold any UDP datagram, so no relay frame is ever truncated (64 KiB × batch size per socket).</summary>
    private const int UdpReceiveBufferSize = 65535;

    /// <summary>Owned send slots hold replies (at most 76 bytes for the relay, a STUN answer for the hook).</summary>
    private const int ReplySlotSize = 1500;

    private readonly RelayOptions _options;
    private readonly RelayHub _hub;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly UdpBatchSocket[] _udp;
    private readonly Socket[] _tcpListeners;
    private readonly Thread[] _udpThreads;
    private readonly Lock[] _offThreadSendGates;
    private readonly UdpSendBatch[] _offThreadSends;
    private readonly EventFd _wake = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, RelayTcpConnection> _connections = new();
    private readonly List<Task> _acceptLoops = [];
    private readonly ITimer _sweepTimer;
    private readonly ITimer _summaryTimer;
    private long[] _lastSummary;
    private long _nextConnectionId;
    private volatile bool _stopping;
    private Func<ReadOnlySpan<byte>, IPEndPoint, Span<byte>, int>? _otherDatagram;

    private RelayServer(RelayOptions options, RelayHub hub, UdpBatchSocket[] udp, Socket[] tcpListeners, ILogger logger, TimeProvider time)
    {
        _options = options;
        _hub = hub;
        _udp = udp;
        _tcpListeners = tcpListeners;
        _logger = logger;
        _time = time;
        _lastSummary = hub.Counters.Snapshot();
        _offThreadSendGates = [.. udp.Select(_ => new Lock())];
        _offThreadSends = [.. udp.Select(_ => new UdpSendBatch(1, UdpReceiveBufferSize))];
        _udpThreads = new Thread[udp.Length];
        for (int i = 0; i < udp.Length; i++)
        {
            int index = i;
            _udpThreads[i] = new Thread(() => UdpLoop(index)) { IsBackground = true, Name = $"meshrelay udp {udp[i].LocalEndPoint}" };
        }

        _sweepTimer = time.CreateTimer(_ => Sweep(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _summaryTimer = time.CreateTimer(_ => Summarize(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The relay's key, sent in every Challenge.</summary>
    public NodePublicKey RelayKey => _hub.RelayKey;

    /// <summary>Bound UDP endpoints, in <see cref="RelayOptions.Listen"/> order (with the kernel's port where 0 was asked).</summary>
    public IReadOnlyList<IPEndPoint> UdpEndPoints => [.. _udp.Select(s => s.LocalEndPoint)];

    /// <summary>Bound TCP endpoints, in <see cref="RelayOptions.TcpListen"/> order.</summary>
    public IReadOnlyList<IPEndPoint> TcpEndPoints => [.. _tcpListeners.Select(s => (IPEndPoint)s.LocalEndPoint!)];

    public RelayCounters Counters => _hub.Counters;

    public int SessionCount => _hub.SessionCount;

    public int TcpConnectionCount => _connections.Count;

    internal RelayHub Hub => _hub;

    internal IEnumerable<RelayTcpConnection> TcpConnections => _connections.Values;

    /// <summary>
    /// Answers UDP datagrams that are not relay frames (the STUN seam): gets the datagram, its source and a reply
    /// buffer (borrowed for the call), returns the reply length or 0 for no reply. Called on the UDP threads, once per
    /// such datagram: it must be quick and must not block. Null (default): such datagrams are dropped and counted.
    /// </summary>
    public Func<ReadOnlySpan<byte>, IPEndPoint, Span<byte>, int>? OtherDatagram
    {
        get => Volatile.Read(ref _otherDatagram);
        set => Volatile.Write(ref _otherDatagram, value);
    }

    /// <summary>
    /// Opens every socket, loads the revocations and starts serving. Throws <see cref="ArgumentException"/> listing
    /// every invalid option, or an exception naming the endpoint that could not be opened.
    /// </summary>
    /// <param name="identity">The relay's key pair (borrowed; its public key goes into every Challenge).</param>
    public static RelayServer Start(RelayOptions options, NodeIdentity identity, ILoggerFactory? loggers = null, TimeProvider? time = null, Action<Span<byte>>? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(identity);
        IReadOnlyList<string> errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"invalid relay options ({errors.Count}):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors), nameof(options));
        }

        time ??= TimeProvider.System;
        ILogger logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger("meshrelay");
        StateFiles.EnsureDirectory(options.StateDirectory);
        var revocations = new RevocationStore(Path.Combine(options.StateDirectory, RevocationStore.FileName), options.AcceptedRoots);
        foreach (string problem in revocations.Load())
        {
            RelayLog.RevocationLoadProblem(logger, problem);
        }

        RelayLog.RevocationsLoaded(logger, revocations.Count);
        var hub = new RelayHub(options, identity.PublicKey, revocations, time, logger, random);

        var udp = new List<UdpBatchSocket>();
        var tcp = new List<Socket>();
        try
        {
            foreach (IPEndPoint endpoint in options.Listen)
            {
                udp.Add(UdpBatchSocket.Open(new UdpBatchOptions
                {
                    LocalEndPoint = endpoint,
                    DualStack = DualStack(endpoint, options.Listen),
                    Gso = false,
                    Gro = false, // every frame is handled on its own; coalesced receives would have to be split again
                }));
            }

            foreach (IPEndPoint endpoint in options.TcpListen)
            {
                tcp.Add(Listen(endpoint, DualStack(endpoint, options.TcpListen)));
            }
        }
        catch
        {
            udp.ForEach(s => s.Dispose());
            tcp.ForEach(s => s.Dispose());
            throw;
        }

        var server = new RelayServer(options, hub, [.. udp], [.. tcp], logger, time);
        server.Run();
        RelayLog.Started(logger, identity.PublicKey,
            string.Join(", ", server.UdpEndPoints), tcp.Count == 0 ? "off" : string.Join(", ", server.TcpEndPoints),
            options.AcceptedRoots.Count, string.Join(", ", options.AcceptedRoots), options.StateDirectory);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        RelayLog.Stopping(_logger);
        _wake.Signal();
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (Socket listener in _tcpListeners)
        {
            listener.Dispose();
        }

        foreach (RelayTcpConnection connection in _connections.Values)
        {
            connection.Close();
        }

        foreach (Thread thread in _udpThreads)
        {
            thread.Join();
        }

        Task[] pending = [.. _acceptLoops, .. _connections.Values.Select(c => c.Completion).OfType<Task>()];
        await Task.WhenAny(Task.WhenAll(pending), Task.Delay(TimeSpan.FromSeconds(5), TimeProvider.System)).ConfigureAwait(false);
        await _sweepTimer.DisposeAsync().ConfigureAwait(false);
        await _summaryTimer.DisposeAsync().ConfigureAwait(false);
        foreach (UdpBatchSocket socket in _udp)
        {
            socket.Dispose();
        }

        foreach (UdpSendBatch batch in _offThreadSends)
        {
            batch.Dispose();
        }

        _wake.Dispose();
        _stop.Dispose();
    }

    private void Run()
    {
        foreach (Thread thread in _udpThreads)
        {
            thread.Start();
        }

        foreach (Socket listener in _tcpListeners)
        {
            _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(listener)));
        }

        _sweepTimer.Change(_options.SweepInterval, _options.SweepInterval);
        _summaryTimer.Change(_options.SummaryInterval, _options.SummaryInterval);
    }

    private unsafe void UdpLoop(int index)
    {
        UdpBatchSocket socket = _udp[index];
        int capacity = _options.UdpBatchSize;
        var sends = new UdpSendBatch[_udp.Length];
        int[] counts = new int[_udp.Length];
        try
        {
            using var receive = new UdpReceiveBatch(capacity, UdpReceiveBufferSize);
            for (int i = 0; i < sends.Length; i++)
            {
                sends[i] = new UdpSendBatch(capacity, ReplySlotSize);
            }

            while (!_stopping)
            {
                PollResult ready = Poll.WaitReadable(socket.Handle, _wake, 1000);
                if (_stopping || (ready & PollResult.Woken) != 0)
                {
                    return;
                }

                if ((ready & PollResult.Readable) == 0)
                {
                    continue;
                }

                while (true)
                {
                    int received = socket.Receive(receive);
                    if (received <= 0)
                    {
                        if (received < 0)
                        {
                            _hub.Counters.Increment(RelayCounter.UdpReceiveErrors);
                        }

                        break;
                    }

                    for (int i = 0; i < received; i++)
                    {
                        HandleDatagram(index, receive, i, sends, counts);
                    }

                    // Forwards point into the receive buffers: everything goes out before the next receive.
                    for (int d = 0; d < sends.Length; d++)
                    {
                        Flush(d, sends, counts);
                    }

                    if (received < capacity)
                    {
                        break;
                    }
                }
            }
        }
        catch (Exception e) when (!_stopping)
        {
            RelayLog.UdpLoopFailed(_logger, e, socket.LocalEndPoint.ToString());
        }
        finally
        {
            foreach (UdpSendBatch? batch in sends)
            {
                batch?.Dispose();
            }
        }
    }

    private unsafe void HandleDatagram(int index, UdpReceiveBatch receive, int i, UdpSendBatch[] sends, int[] counts)
    {
        _hub.Counters.Increment(RelayCounter.UdpDatagramsIn);
        if (receive.IsTruncated(i))
        {
            _hub.Counters.Increment(RelayCounter.DropTruncated);
            return;
        }

        Span<byte> message = receive.GetMessage(i);
        UdpEndpoint source = receive.GetSource(i);
        if (!RelayProtocol.LooksLikeRelayFrame(message))
        {
            AnswerOther(index, message, source, sends, counts);
            return;
        }

        EnsureRoom(index, sends, counts);
        int slot = counts[index];
        RelayAction action = _hub.Process(message, RelayLink.Udp(index, source), sends[index].GetBuffer(slot));
        switch (action.Kind)
        {
            case RelayActionKind.Reply:
                // Replies are written at the start of the slot's own buffer (the scratch given to Process).
                sends[index].Set(slot, action.Frame.Length, source);
                counts[index]++;
                break;
            case RelayActionKind.Forward:
                RelayLink destination = action.Destination;
                if (destination.Tcp is { } tcp)
                {
                    if (!tcp.TryEnqueue(action.Frame))
                    {
                        _hub.Counters.Increment(RelayCounter.DropTcpQueueFull);
                    }

                    break;
                }

                int d = destination.SocketIndex;
                EnsureRoom(d, sends, counts);
                fixed (byte* frame = action.Frame)
                {
                    // The receive batch's buffers are native memory: the pointer stays valid after 'fixed', until the next receive.
                    sends[d].SetUnsafe(counts[d]++, frame, action.Frame.Length, destination.Endpoint);
                }

                break;
        }
    }

    private void AnswerOther(int index, ReadOnlySpan<byte> message, UdpEndpoint source, UdpSendBatch[] sends, int[] counts)
    {
        Func<ReadOnlySpan<byte>, IPEndPoint, Span<byte>, int>? responder = OtherDatagram;
        if (responder is null)
        {
            _hub.Counters.Increment(RelayCounter.DropOtherDatagram);
            return;
        }

        EnsureRoom(index, sends, counts);
        int slot = counts[index];
        Span<byte> reply = sends[index].GetBuffer(slot);
        int length;
        try
        {
            length = responder(message, source.ToIPEndPoint(), reply);
        }
        catch (Exception e)
        {
            RelayLog.OtherDatagramFailed(_logger, e, source.ToString());
            length = 0;
        }

        if (length <= 0 || length > reply.Length)
        {
            _hub.Counters.Increment(RelayCounter.DropOtherDatagram);
            return;
        }

        sends[index].Set(slot, length, source);
        counts[index]++;
        _hub.Counters.Increment(RelayCounter.OtherDatagramsAnswered);
    }

    private void EnsureRoom(int index, UdpSendBatch[] sends, int[] counts)
    {
        if (counts[index] == sends[index].Capacity)
        {
            Flush(index, sends, counts);
        }
    }

    private void Flush(int index, UdpSendBatch[] sends, int[] counts)
    {
        if (counts[index] == 0)
        {
            return;
        }

        UdpSendResult result = _udp[index].Send(sends[index], counts[index]);
        counts[index] = 0;
        if (result.Failed > 0)
        {
            _hub.Counters.Add(RelayCounter.DropUdpSendFailed, result.Failed);
        }
    }

    /// <summary>Sends one frame to a UDP client from a thread that has no batch of its own (a TCP reader).</summary>
    private void SendUdp(int socketIndex, UdpEndpoint destination, ReadOnlySpan<byte> frame)
    {
        if (frame.Length > UdpReceiveBufferSize)
        {
            _hub.Counters.Increment(RelayCounter.DropUdpSendFailed);
            return;
        }

        lock (_offThreadSendGates[socketIndex])
        {
            UdpSendBatch batch = _offThreadSends[socketIndex];
            frame.CopyTo(batch.GetBuffer(0));
            batch.Set(0, frame.Length, destination);
            if (_udp[socketIndex].Send(batch, 1).Failed > 0)
            {
                _hub.Counters.Increment(RelayCounter.DropUdpSendFailed);
            }
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        CancellationToken stopping = _stop.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // EMFILE and friends: say so, give the system a moment, keep serving.
                RelayLog.TcpAcceptFailed(_logger, listener.LocalEndPoint?.ToString() ?? "?", e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            if (_connections.Count >= _options.MaxClients + _options.MaxPendingTcpConnections)
            {
                _hub.Counters.Increment(RelayCounter.DropTcpConnectionLimit);
                socket.Dispose();
                continue;
            }

            socket.NoDelay = true;
            var connection = new RelayTcpConnection(Interlocked.Increment(ref _nextConnectionId), socket, _options.TcpMaxQueuedBytes, _time);
            _connections[connection.Id] = connection;
            _hub.Counters.Increment(RelayCounter.TcpConnectionsAccepted);
            connection.Completion = Task.Run(() => RunConnectionAsync(connection));
        }
    }

    private async Task RunConnectionAsync(RelayTcpConnection connection)
    {
        Task writing = connection.Writer.RunAsync(connection.Stopping);
        string reason = "closed by the client";
        byte[] scratch = new byte[RelayHub.ScratchLength];
        try
        {
            using var reader = new RelayStreamReader(connection.Stream);
            while (true)
            {
                Memory<byte> frame = await reader.ReadFrameAsync(connection.Stopping).ConfigureAwait(false);
                if (frame.IsEmpty)
                {
                    break;
                }

                _hub.Counters.Increment(RelayCounter.TcpFramesIn);
                if (!RelayProtocol.LooksLikeRelayFrame(frame.Span))
                {
                    // Not relay framing (an HTTP client, a scanner): no way to resynchronise.
                    _hub.Counters.Increment(RelayCounter.DropTcpFraming);
                    reason = "not relay frames";
                    break;
                }

                HandleTcpFrame(connection, frame.Span, scratch);
            }
        }
        catch (InvalidDataException)
        {
            _hub.Counters.Increment(RelayCounter.DropTcpFraming);
            reason = "broken framing";
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            reason = connection.Stopping.IsCancellationRequested ? "closed by the relay" : e.Message;
        }
        finally
        {
            _hub.OnTcpClosed(connection);
            connection.Writer.Complete();
            connection.Close();
            try
            {
                await writing.ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The connection is over; its reason is known already.
            }

            _connections.TryRemove(connection.Id, out _);
            connection.Dispose();
            RelayLog.TcpConnectionEnded(_logger, connection.Remote.ToString(), reason);
        }
    }

    private void HandleTcpFrame(RelayTcpConnection connection, Span<byte> frame, Span<byte> scratch)
    {
        RelayLink from = RelayLink.Stream(connection);
        RelayAction action = _hub.Process(frame, from, scratch);
        switch (action.Kind)
        {
            case RelayActionKind.Reply:
                Deliver(from, action.Frame);
                break;
            case RelayActionKind.Forward:
                Deliver(action.Destination, action.Frame);
                break;
        }
    }

    private void Deliver(in RelayLink to, ReadOnlySpan<byte> frame)
    {
        if (to.Tcp is { } tcp)
        {
            if (!tcp.TryEnqueue(frame))
            {
                _hub.Counters.Increment(RelayCounter.DropTcpQueueFull);
            }

            return;
        }

        SendUdp(to.SocketIndex, to.Endpoint, frame);
    }

    private void Sweep()
    {
        if (_stopping)
        {
            return;
        }

        var close = new List<RelayTcpConnection>();
        _hub.Sweep(close);
        long now = _time.GetTimestamp();
        foreach (RelayTcpConnection connection in _connections.Values)
        {
            long since = connection.SessionlessSince;
            if (since != 0 && connection.Session is null && _time.GetElapsedTime(since, now) >= _options.TcpHandshakeTimeout)
            {
                _hub.Counters.Increment(RelayCounter.TcpHandshakeTimeouts);
                close.Add(connection);
            }
        }

        foreach (RelayTcpConnection connection in close)
        {
            connection.Close();
        }
    }

    private void Summarize()
    {
        if (_stopping)
        {
            return;
        }

        long[] now = _hub.Counters.Snapshot();
        long[] before = Interlocked.Exchange(ref _lastSummary, now);
        RelayLog.Summary(_logger, _hub.SessionCount, _hub.TcpSessionCount, _connections.Count, (int)_options.SummaryInterval.TotalSeconds, DescribeDelta(before, now));
    }

    /// <summary>The non-zero counter changes, e.g. "forwarded 12 frames / 3.4 KB; auths-accepted 2; drops: unknown-destination 1".</summary>
    internal static string DescribeDelta(long[] before, long[] now)
    {
        var text = new StringBuilder();
        long frames = now[(int)RelayCounter.FramesForwarded] - before[(int)RelayCounter.FramesForwarded];
        long bytes = now[(int)RelayCounter.BytesForwarded] - before[(int)RelayCounter.BytesForwarded];
        text.Append(CultureInfo.InvariantCulture, $"forwarded {frames} frame(s) / {FormatBytes(bytes)}");
        var counts = new List<string>();
        var drops = new List<string>();
        foreach (RelayCounter counter in Enum.GetValues<RelayCounter>())
        {
            if (counter is RelayCounter.FramesForwarded or RelayCounter.BytesForwarded)
            {
                continue;
            }

            long delta = now[(int)counter] - before[(int)counter];
            if (delta == 0)
            {
                continue;
            }

            string name = counter.ToString();
            bool drop = name.StartsWith("Drop", StringComparison.Ordinal);
            (drop ? drops : counts).Add($"{Kebab(drop ? name[4..] : name)} {delta.ToString(CultureInfo.InvariantCulture)}");
        }

        if (counts.Count > 0)
        {
            text.Append("; ").AppendJoin(", ", counts);
        }

        text.Append("; drops: ").Append(drops.Count == 0 ? "none" : string.Join(", ", drops));
        return text.ToString();
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        < 10_000 => $"{bytes} B",
        < 10_000_000 => $"{bytes / 1000.0:0.0} kB",
        _ => $"{bytes / 1_000_000.0:0.0} MB",
    };

    private static string Kebab(string name)
    {
        var text = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                text.Append('-');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    /// <summary>An IPv6 wildcard carries IPv4 too unless an IPv4 wildcard on the same port is also listed (then both would collide).</summary>
    private static bool DualStack(IPEndPoint endpoint, IReadOnlyList<IPEndPoint> all) =>
        endpoint.Address.Equals(IPAddress.IPv6Any)
        && !all.Any(other => other.AddressFamily == AddressFamily.InterNetwork && other.Port == endpoint.Port);

    private static Socket Listen(IPEndPoint endpoint, bool dualStack)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = dualStack;
            }

            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            socket.Listen(1024);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            string hint = e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => " — another process uses this port; choose another --tcp-listen port or stop it",
                SocketError.AccessDenied => " — ports below 1024 need root or CAP_NET_BIND_SERVICE",
                SocketError.AddressNotAvailable => " — no interface has this address; listen on 0.0.0.0 / [::] or an address the host owns",
                _ => string.Empty,
            };
            throw new IOException($"opening the TCP relay listener on {endpoint} failed: {e.Message}{hint}", e);
        }
    }
}
