using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Net;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;

namespace MeshAgent.Engine.Relay;

/// <summary>
/// A relay client over the relay's TCP stream transport, for networks that block UDP: the frames of
/// <see cref="RelayProtocol"/>, each length-prefixed, on one TCP connection. Same surface as <see cref="RelayClient"/>
/// (it runs one inside), plus the connection: it connects, authenticates, and when the connection breaks it
/// reconnects with exponential backoff (±20% jitter) and authenticates again.
/// </summary>
/// <remarks>
/// Frames to the relay go through a bounded queue (<see cref="RelayClientOptions.MaxQueuedBytes"/>); when the
/// relay cannot keep up they are dropped and counted (<see cref="RelayClientCounters.QueueFull"/>), so
/// <see cref="Send"/> never blocks the caller's data plane. Payloads arrive on the connection's reader task.
/// The identity is borrowed: keep it alive while the client runs.
/// </remarks>
public sealed class TcpRelayClient : IRelayClient, IAsyncDisposable
{
    private readonly RelayClient _core;
    private readonly RelayClientOptions _options;
    private readonly Func<CancellationToken, ValueTask<Stream>> _connect;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly CancellationTokenSource _stop = new();
    private RelayStreamWriter? _writer;
    private Task? _run;

    /// <summary>Connects to <paramref name="relay"/> (an <see cref="IPEndPoint"/> or <see cref="DnsEndPoint"/>) with a plain TCP socket, TCP_NODELAY on.</summary>
    public TcpRelayClient(
        NodeIdentity identity,
        MembershipCertificate certificate,
        EndPoint relay,
        RelayClientOptions? options = null,
        TimeProvider? time = null,
        Random? random = null)
        : this(identity, certificate, ConnectSocket(relay ?? throw new ArgumentNullException(nameof(relay))), options, time, random)
    {
    }

    /// <param name="connect">Opens a stream to the relay (the seam for tests, network namespaces and, later, TLS).</param>
    public TcpRelayClient(
        NodeIdentity identity,
        MembershipCertificate certificate,
        Func<CancellationToken, ValueTask<Stream>> connect,
        RelayClientOptions? options = null,
        TimeProvider? time = null,
        Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(connect);
        _options = options ?? new RelayClientOptions();
        _connect = connect;
        _time = time ?? TimeProvider.System;
        _random = random ?? new Random();
        _core = new RelayClient(identity, certificate, default, checkSource: false, SendFrame, _options, _time, new Random(_random.Next()));
    }

    public RelayClientState State => _core.State;

    public RelayRefusal? LastRefusal => _core.LastRefusal;

    public NodePublicKey? RelayKey => _core.RelayKey;

    public RelayClientCounters Counters => _core.Counters;

    /// <summary>The session token while connected; 0 otherwise.</summary>
    public ulong SessionToken => _core.SessionToken;

    public event RelayPayloadHandler? PayloadReceived
    {
        add => _core.PayloadReceived += value;
        remove => _core.PayloadReceived -= value;
    }

    public event Action<NodePublicKey>? PeerUnknown
    {
        add => _core.PeerUnknown += value;
        remove => _core.PeerUnknown -= value;
    }

    public event RelayJoinHandler? JoinReceived
    {
        add => _core.JoinReceived += value;
        remove => _core.JoinReceived -= value;
    }

    public event Action<RelayClientState>? StateChanged
    {
        add => _core.StateChanged += value;
        remove => _core.StateChanged -= value;
    }

    /// <summary>Starts connecting in the background. Call once.</summary>
    public void Start()
    {
        if (_run is not null)
        {
            throw new InvalidOperationException("the TCP relay client is already started");
        }

        _run = Task.Run(() => RunAsync(_stop.Token));
    }

    public bool Send(NodePublicKey destination, ReadOnlySpan<byte> payload) => _core.Send(destination, payload);

    public bool SendJoinReply(ulong channel, ReadOnlySpan<byte> message) => _core.SendJoinReply(channel, message);

    public bool PushRevocation(Revocation revocation) => _core.PushRevocation(revocation);

    /// <summary>See <see cref="RelayClient.UpdateCertificate"/>.</summary>
    public void UpdateCertificate(MembershipCertificate certificate) => _core.UpdateCertificate(certificate);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            try
            {
                await _run.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping is the point.
            }
        }

        _core.Dispose();
        _stop.Dispose();
    }

    private void SendFrame(ReadOnlySpan<byte> frame)
    {
        RelayStreamWriter? writer = Volatile.Read(ref _writer);
        if (writer is null || !writer.TryEnqueue(frame))
        {
            Interlocked.Increment(ref Counters.QueueFull);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        TimeSpan backoff = _options.ReconnectInitial;
        while (!cancellationToken.IsCancellationRequested)
        {
            long welcomesBefore = Interlocked.Read(ref Counters.Welcomes);
            try
            {
                await RunConnectionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is IOException or SocketException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
            {
                Interlocked.Increment(ref Counters.ConnectionFailures);
            }
            finally
            {
                Volatile.Write(ref _writer, null);
                _core.Stop();
            }

            // A connection that got as far as a session resets the backoff: the next break is a fresh incident.
            if (Interlocked.Read(ref Counters.Welcomes) != welcomesBefore)
            {
                backoff = _options.ReconnectInitial;
            }

            TimeSpan wait = backoff * (0.8 + (0.4 * _random.NextDouble()));
            backoff = backoff * 2 < _options.ReconnectMax ? backoff * 2 : _options.ReconnectMax;
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RunConnectionAsync(CancellationToken cancellationToken)
    {
        Stream stream;
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connectTimeout.CancelAfter(_options.ConnectTimeout);
            stream = await _connect(connectTimeout.Token).ConfigureAwait(false);
        }

        await using (stream.ConfigureAwait(false))
        {
            Interlocked.Increment(ref Counters.Connects);
            using var connection = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var writer = new RelayStreamWriter(stream, _options.MaxQueuedBytes);
            Task writing = writer.RunAsync(connection.Token);
            Volatile.Write(ref _writer, writer);
            _core.Start();
            try
            {
                using var reader = new RelayStreamReader(stream);
                while (true)
                {
                    Memory<byte> frame = await reader.ReadFrameAsync(connection.Token).ConfigureAwait(false);
                    if (frame.IsEmpty)
                    {
                        throw new IOException("the relay closed the TCP connection");
                    }

                    _core.HandleFrame(frame.Span);
                }
            }
            finally
            {
                Volatile.Write(ref _writer, null);
                writer.Complete();
                await connection.CancelAsync().ConfigureAwait(false);
                try
                {
                    await writing.ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // The connection is over either way; the reader's exception (or the close) tells why.
                }
            }
        }
    }

    private static Func<CancellationToken, ValueTask<Stream>> ConnectSocket(EndPoint relay) => async cancellationToken =>
    {
        var socket = new Socket(relay.AddressFamily == AddressFamily.Unspecified ? AddressFamily.InterNetworkV6 : relay.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (socket.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = true;
            }

            socket.NoDelay = true;
            await socket.ConnectAsync(relay, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    };
}
