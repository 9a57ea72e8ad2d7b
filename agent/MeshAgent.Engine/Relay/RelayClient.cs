using System.Buffers;
using System.Net;
using MeshAgent.Core.Net;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;

namespace MeshAgent.Engine.Relay;

/// <summary>
/// The agent's side of one relay (<see cref="RelayProtocol"/>), independent of the transport: frames leave through
/// a <see cref="RelayFrameSender"/> (the agent's own UDP socket, so the relay sees the same NAT mapping that STUN
/// and peers see) and come in through <see cref="TryHandle"/> from the socket's demultiplexer.
/// </summary>
/// <remarks>
/// <para>Flow: <see cref="Start"/> sends ClientHello (repeated with exponential backoff until a Challenge comes);
/// the Challenge is signed into an Auth (repeated a few times, then back to Hello, since the relay's nonce
/// expires); Welcome gives the session token and the client is <see cref="RelayClientState.Connected"/>. A
/// Keepalive goes every keepalive interval; when the relay answers SessionUnknown for the current token (it
/// restarted, the session idled out, or the NAT gave this socket a new public port) or keepalives go
/// unanswered, the client starts over with ClientHello. A refusal is kept in <see cref="LastRefusal"/> and
/// retried with a long backoff, since an admin may renew or re-admit the node.</para>
/// <para>Threads: <see cref="Send"/> and the payload path of <see cref="TryHandle"/> take no lock and allocate
/// nothing for payloads up to 1 KiB beyond a typical MTU; handshake and timer work happens under one lock, and the
/// send delegate is called under it for handshake frames (hence: the delegate must not call back into the client).
/// Events are raised outside the lock.</para>
/// <para>The identity is borrowed: the caller keeps it alive (undisposed) as long as the client runs.</para>
/// </remarks>
public sealed class RelayClient : IRelayClient, IDisposable
{
    // Payload frames up to this size are built on the stack; larger ones in a pooled array.
    private const int StackFrameLimit = 2048;

    private readonly NodeIdentity _identity;
    private readonly RelayFrameSender _send;
    private readonly RelayClientOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly UdpEndpoint _relayEndpoint;
    private readonly bool _checkSource;
    private readonly Lock _gate = new();
    private readonly ITimer? _timer;

    private MembershipCertificate _certificate;
    private volatile RelayClientState _state;
    private ulong _token;
    private RelayNonce _nonce;
    private bool _hasNonce;
    private byte[]? _authFrame;
    private int _authSends;
    private TimeSpan _helloBackoff;
    private TimeSpan _refusedBackoff;
    private long _nextDue = long.MaxValue;
    private TimeSpan _keepalive;
    private int _unansweredKeepalives;
    private long _lastHeard;
    private RelayRefusal? _lastRefusal;
    private NodePublicKey? _relayKey;
    private TimeSpan? _relayClockOffset;
    private bool _disposed;

    /// <param name="identity">This node's identity (borrowed; see remarks).</param>
    /// <param name="certificate">This node's certificate; must name <paramref name="identity"/>'s key.</param>
    /// <param name="relayEndPoint">The relay's UDP endpoint: <see cref="TryHandle"/> consumes frames from it only.</param>
    /// <param name="send">Sends a frame to the relay (see <see cref="RelayFrameSender"/>).</param>
    public RelayClient(
        NodeIdentity identity,
        MembershipCertificate certificate,
        IPEndPoint relayEndPoint,
        RelayFrameSender send,
        RelayClientOptions? options = null,
        TimeProvider? time = null,
        Random? random = null)
        : this(identity, certificate, UdpEndpoint.FromIPEndPoint(relayEndPoint ?? throw new ArgumentNullException(nameof(relayEndPoint))), checkSource: true, send, options, time, random)
    {
        RelayEndPoint = relayEndPoint;
    }

    /// <summary>For stream transports: frames come in through <see cref="HandleFrame"/>, whatever their source.</summary>
    internal RelayClient(
        NodeIdentity identity,
        MembershipCertificate certificate,
        UdpEndpoint relayEndpoint,
        bool checkSource,
        RelayFrameSender send,
        RelayClientOptions? options,
        TimeProvider? time,
        Random? random)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(send);
        CheckCertificate(identity, certificate);
        _options = options ?? new RelayClientOptions();
        _options.Validate();
        _identity = identity;
        _certificate = certificate;
        _relayEndpoint = relayEndpoint;
        _checkSource = checkSource;
        _send = send;
        _time = time ?? TimeProvider.System;
        _random = random ?? new Random();
        _helloBackoff = _options.HelloRetryInitial;
        _refusedBackoff = _options.RefusedRetryInitial;
        _keepalive = _options.KeepaliveInterval;
        if (_options.OwnTimer)
        {
            _timer = _time.CreateTimer(static state => ((RelayClient)state!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The relay's UDP endpoint (null for a client inside <see cref="TcpRelayClient"/>).</summary>
    public IPEndPoint? RelayEndPoint { get; }

    public RelayClientState State => _state;

    public RelayRefusal? LastRefusal
    {
        get
        {
            lock (_gate)
            {
                return _lastRefusal;
            }
        }
    }

    public NodePublicKey? RelayKey
    {
        get
        {
            lock (_gate)
            {
                return _relayKey;
            }
        }
    }

    /// <summary>Relay clock minus local clock, from the last Challenge (certificate validity is judged by the relay's clock).</summary>
    public TimeSpan? RelayClockOffset
    {
        get
        {
            lock (_gate)
            {
                return _relayClockOffset;
            }
        }
    }

    /// <summary>The session token while <see cref="RelayClientState.Connected"/>; 0 otherwise. For diagnostics and tests.</summary>
    public ulong SessionToken => Volatile.Read(ref _token);

    public RelayClientCounters Counters { get; } = new();

    public event RelayPayloadHandler? PayloadReceived;

    public event Action<NodePublicKey>? PeerUnknown;

    public event RelayJoinHandler? JoinReceived;

    public event Action<RelayClientState>? StateChanged;

    /// <summary>Starts (or restarts) authenticating: ClientHello goes out now. Any session is forgotten.</summary>
    public void Start()
    {
        RelayClientState before;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            before = _state;
            _helloBackoff = _options.HelloRetryInitial;
            long now = Now;
            EnterConnecting(now);
            Reschedule(now);
        }

        Notify(before);
    }

    /// <summary>Stops: forgets the session and sends nothing more until <see cref="Start"/>.</summary>
    public void Stop()
    {
        RelayClientState before;
        lock (_gate)
        {
            before = _state;
            Forget();
            _state = RelayClientState.Stopped;
            _nextDue = long.MaxValue;
            Reschedule(Now);
        }

        Notify(before);
    }

    /// <summary>
    /// Swaps in a renewed certificate and authenticates again with it (unless stopped). Throws
    /// <see cref="ArgumentException"/> when it names another node key than this client's identity.
    /// </summary>
    public void UpdateCertificate(MembershipCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        CheckCertificate(_identity, certificate);
        RelayClientState before;
        lock (_gate)
        {
            _certificate = certificate;
            before = _state;
            if (_state != RelayClientState.Stopped)
            {
                _helloBackoff = _options.HelloRetryInitial;
                long now = Now;
                EnterConnecting(now);
                Reschedule(now);
            }
        }

        Notify(before);
    }

    /// <summary>
    /// Consumes <paramref name="datagram"/> if it is a relay frame from this client's relay: true then (even if the
    /// frame was malformed or unexpected, which is counted), false when it is not for this client and the caller
    /// should try its other protocols. <paramref name="datagram"/> is borrowed for the call.
    /// </summary>
    public bool TryHandle(ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        ArgumentNullException.ThrowIfNull(from);
        if (!RelayProtocol.LooksLikeRelayFrame(datagram)
            || (_checkSource && !UdpEndpoint.FromIPEndPoint(from).Equals(_relayEndpoint)))
        {
            return false;
        }

        HandleFrame(datagram);
        return true;
    }

    /// <summary>Handles one frame from the relay (already known to come from it). <paramref name="frame"/> is borrowed for the call.</summary>
    internal void HandleFrame(ReadOnlySpan<byte> frame)
    {
        Interlocked.Increment(ref Counters.FramesReceived);
        if (!RelayProtocol.TryReadHeader(frame, out RelayFrameType type))
        {
            Interlocked.Increment(ref Counters.Malformed);
            return;
        }

        switch (type)
        {
            case RelayFrameType.Recv:
                OnRecv(frame);
                return;
            case RelayFrameType.UnknownPeer:
                OnUnknownPeer(frame);
                return;
            case RelayFrameType.JoinRecv:
                OnJoinRecv(frame);
                return;
            case RelayFrameType.Challenge:
            case RelayFrameType.Welcome:
            case RelayFrameType.Refused:
            case RelayFrameType.KeepaliveAck:
            case RelayFrameType.SessionUnknown:
                OnHandshakeOrControl(type, frame);
                return;
            default:
                // Client-to-relay types never come from a relay.
                Interlocked.Increment(ref Counters.Malformed);
                return;
        }
    }

    public bool Send(NodePublicKey destination, ReadOnlySpan<byte> payload)
    {
        ulong token = Volatile.Read(ref _token);
        if (token == 0)
        {
            Interlocked.Increment(ref Counters.NotConnected);
            return false;
        }

        if (payload.Length > RelayProtocol.MaxPayloadLength)
        {
            Interlocked.Increment(ref Counters.PayloadTooLarge);
            return false;
        }

        int length = RelayProtocol.SendOverhead + payload.Length;
        byte[]? rented = length > StackFrameLimit ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> frame = rented is null ? stackalloc byte[StackFrameLimit] : rented;
        frame = frame[..length];
        SendFrame.WriteOverhead(frame, token, destination);
        payload.CopyTo(frame[RelayProtocol.SendOverhead..]);
        bool sent = Transmit(frame);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        if (sent)
        {
            Interlocked.Increment(ref Counters.PayloadsSent);
        }

        return sent;
    }

    /// <summary>
    /// As <see cref="Send"/>, without copying the payload: the caller wrote it at
    /// <c>frame[RelayProtocol.SendOverhead..]</c> (headroom) and this writes the overhead in front of it, then sends
    /// the whole of <paramref name="frame"/> (borrowed for the call).
    /// </summary>
    public bool SendWithHeadroom(NodePublicKey destination, Span<byte> frame)
    {
        if (frame.Length < RelayProtocol.SendOverhead || frame.Length > RelayProtocol.MaxFrameLength)
        {
            throw new ArgumentException($"a Send frame is {RelayProtocol.SendOverhead}..{RelayProtocol.MaxFrameLength} bytes (overhead + payload), got {frame.Length}", nameof(frame));
        }

        ulong token = Volatile.Read(ref _token);
        if (token == 0)
        {
            Interlocked.Increment(ref Counters.NotConnected);
            return false;
        }

        SendFrame.WriteOverhead(frame, token, destination);
        if (!Transmit(frame))
        {
            return false;
        }

        Interlocked.Increment(ref Counters.PayloadsSent);
        return true;
    }

    public bool SendJoinReply(ulong channel, ReadOnlySpan<byte> message)
    {
        ulong token = Volatile.Read(ref _token);
        if (token == 0)
        {
            Interlocked.Increment(ref Counters.NotConnected);
            return false;
        }

        if (channel == 0 || !RelayJoin.IsInviterMessage(message) || message.Length > RelayProtocol.MaxFrameLength - JoinReplyFrame.Overhead)
        {
            Interlocked.Increment(ref Counters.PayloadTooLarge);
            return false;
        }

        // Join replies are rare (two per join) and up to tens of kB (the snapshot): a plain array is fine.
        byte[] frame = new byte[JoinReplyFrame.Overhead + message.Length];
        new JoinReplyFrame(token, channel, message).Write(frame);
        if (!Transmit(frame))
        {
            return false;
        }

        Interlocked.Increment(ref Counters.JoinRepliesSent);
        return true;
    }

    public bool PushRevocation(Revocation revocation)
    {
        ArgumentNullException.ThrowIfNull(revocation);
        ulong token = Volatile.Read(ref _token);
        if (token == 0)
        {
            Interlocked.Increment(ref Counters.NotConnected);
            return false;
        }

        byte[] frame = new byte[RevocationPushFrame.FixedLength + revocation.EncodedSpan.Length];
        new RevocationPushFrame(token, revocation.EncodedSpan).Write(frame);
        return Transmit(frame);
    }

    /// <summary>
    /// Does what is due now: resends a Hello or Auth that went unanswered, sends a keepalive, declares a silent
    /// session lost, retries after a refusal. Called by the client's own timer, or by the owner when
    /// <see cref="RelayClientOptions.OwnTimer"/> is false (then as often as the wanted timer precision).
    /// </summary>
    public void Tick()
    {
        RelayClientState before;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            before = _state;
            long now = Now;
            if (now >= _nextDue)
            {
                OnDue(now);
            }

            Reschedule(now);
        }

        Notify(before);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Forget();
            _state = RelayClientState.Stopped;
        }

        _timer?.Dispose();
    }

    private long Now => _time.GetTimestamp();

    private void OnDue(long now)
    {
        switch (_state)
        {
            case RelayClientState.Connecting:
                SendHello(now);
                break;
            case RelayClientState.Authenticating:
                if (_authSends < _options.AuthAttempts && _authFrame is not null)
                {
                    SendAuth(now);
                }
                else
                {
                    EnterConnecting(now);
                }

                break;
            case RelayClientState.Connected:
                if (_unansweredKeepalives >= _options.KeepaliveAttempts)
                {
                    Interlocked.Increment(ref Counters.SessionsLost);
                    EnterConnecting(now);
                }
                else
                {
                    SendKeepalive(now);
                }

                break;
            case RelayClientState.Refused:
                EnterConnecting(now);
                break;
            default:
                _nextDue = long.MaxValue;
                break;
        }
    }

    private void OnRecv(ReadOnlySpan<byte> frame)
    {
        if (!RecvFrame.TryRead(frame, out RecvFrame recv))
        {
            Interlocked.Increment(ref Counters.Malformed);
            return;
        }

        if (Volatile.Read(ref _token) == 0)
        {
            Interlocked.Increment(ref Counters.Unexpected);
            return;
        }

        // Forwarded traffic proves the session alive as well as an ack does.
        Volatile.Write(ref _lastHeard, Now);
        Interlocked.Increment(ref Counters.PayloadsReceived);
        PayloadReceived?.Invoke(recv.Source, recv.Payload);
    }

    private void OnJoinRecv(ReadOnlySpan<byte> frame)
    {
        if (!JoinRecvFrame.TryRead(frame, out JoinRecvFrame recv))
        {
            Interlocked.Increment(ref Counters.Malformed);
            return;
        }

        if (Volatile.Read(ref _token) == 0)
        {
            Interlocked.Increment(ref Counters.Unexpected);
            return;
        }

        Interlocked.Increment(ref Counters.JoinMessagesReceived);
        JoinReceived?.Invoke(recv.Channel, recv.Message);
    }

    private void OnUnknownPeer(ReadOnlySpan<byte> frame)
    {
        if (!UnknownPeerFrame.TryRead(frame, out UnknownPeerFrame notice))
        {
            Interlocked.Increment(ref Counters.Malformed);
            return;
        }

        if (notice.Token == 0 || notice.Token != Volatile.Read(ref _token))
        {
            Interlocked.Increment(ref Counters.Unexpected);
            return;
        }

        Interlocked.Increment(ref Counters.UnknownPeerNotices);
        PeerUnknown?.Invoke(notice.Destination);
    }

    private void OnHandshakeOrControl(RelayFrameType type, ReadOnlySpan<byte> frame)
    {
        RelayClientState before;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            before = _state;
            long now = Now;
            bool handled = type switch
            {
                RelayFrameType.Challenge => OnChallenge(frame, now),
                RelayFrameType.Welcome => OnWelcome(frame, now),
                RelayFrameType.Refused => OnRefused(frame, now),
                RelayFrameType.KeepaliveAck => OnKeepaliveAck(frame, now),
                _ => OnSessionUnknown(frame, now),
            };

            if (!handled)
            {
                Interlocked.Increment(ref Counters.Unexpected);
            }

            Reschedule(now);
        }

        Notify(before);
    }

    private bool OnChallenge(ReadOnlySpan<byte> frame, long now)
    {
        if (!ChallengeFrame.TryRead(frame, out ChallengeFrame challenge))
        {
            Interlocked.Increment(ref Counters.Malformed);
            return true;
        }

        // Only a challenge to our Hello is wanted; a second one (answering a repeated Hello) is ignored.
        if (_state != RelayClientState.Connecting)
        {
            return false;
        }

        if (_options.ExpectedRelayKey is { } expected && expected != challenge.RelayKey)
        {
            Interlocked.Increment(ref Counters.WrongRelayKey);
            return true;
        }

        _relayKey = challenge.RelayKey;
        _relayClockOffset = DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(challenge.RelayTimeMilliseconds, 0, 253_402_300_799_999)) - _time.GetUtcNow();
        _nonce = challenge.Nonce;
        _hasNonce = true;
        ReadOnlySpan<byte> certificate = _certificate.EncodedSpan;
        _authFrame = new byte[AuthFrame.LengthFor(certificate.Length)];
        Span<byte> signature = stackalloc byte[AuthFrame.SignatureLength];
        RelayProtocol.SignAuth(_identity, challenge.RelayKey, challenge.Nonce, signature);
        new AuthFrame(_identity.PublicKey, challenge.Nonce, signature, certificate).Write(_authFrame);
        _state = RelayClientState.Authenticating;
        _authSends = 0;
        SendAuth(now);
        return true;
    }

    private bool OnWelcome(ReadOnlySpan<byte> frame, long now)
    {
        if (!WelcomeFrame.TryRead(frame, out WelcomeFrame welcome))
        {
            Interlocked.Increment(ref Counters.Malformed);
            return true;
        }

        if (_state != RelayClientState.Authenticating || !_hasNonce || welcome.Nonce != _nonce)
        {
            return false; // a duplicate Welcome for a resent Auth, or a forgery without the nonce
        }

        Interlocked.Increment(ref Counters.Welcomes);
        _state = RelayClientState.Connected;
        _lastRefusal = null;
        _authFrame = null;
        _helloBackoff = _options.HelloRetryInitial;
        _refusedBackoff = _options.RefusedRetryInitial;
        TimeSpan asked = TimeSpan.FromSeconds(welcome.KeepaliveSeconds);
        _keepalive = asked < _options.KeepaliveInterval ? asked : _options.KeepaliveInterval;
        _unansweredKeepalives = 0;
        Volatile.Write(ref _lastHeard, now);
        Volatile.Write(ref _token, welcome.Token);
        _nextDue = now + ToTicks(_keepalive);
        return true;
    }

    private bool OnRefused(ReadOnlySpan<byte> frame, long now)
    {
        if (!RefusedFrame.TryRead(frame, out RefusedFrame refused))
        {
            Interlocked.Increment(ref Counters.Malformed);
            return true;
        }

        if (_state != RelayClientState.Authenticating || !_hasNonce || refused.Nonce != _nonce)
        {
            return false;
        }

        Interlocked.Increment(ref Counters.Refusals);
        if (refused.Reason == RelayRefusal.StaleChallenge)
        {
            // The relay forgot the challenge (restart, or our Auth was slow): a fresh Hello fixes it.
            EnterConnecting(now);
            return true;
        }

        Forget();
        _lastRefusal = refused.Reason;
        _state = RelayClientState.Refused;
        _nextDue = now + ToTicks(Jitter(_refusedBackoff));
        _refusedBackoff = Min(_refusedBackoff * 2, _options.RefusedRetryMax);
        return true;
    }

    private bool OnKeepaliveAck(ReadOnlySpan<byte> frame, long now)
    {
        if (!TokenFrame.TryRead(frame, RelayFrameType.KeepaliveAck, out ulong token))
        {
            Interlocked.Increment(ref Counters.Malformed);
            return true;
        }

        if (_state != RelayClientState.Connected || token != _token)
        {
            return false;
        }

        Volatile.Write(ref _lastHeard, now);
        _unansweredKeepalives = 0;
        _nextDue = now + ToTicks(_keepalive);
        return true;
    }

    private bool OnSessionUnknown(ReadOnlySpan<byte> frame, long now)
    {
        if (!TokenFrame.TryRead(frame, RelayFrameType.SessionUnknown, out ulong token))
        {
            Interlocked.Increment(ref Counters.Malformed);
            return true;
        }

        if (_state != RelayClientState.Connected || token != _token)
        {
            return false; // about an older session; ours is not in question
        }

        Interlocked.Increment(ref Counters.SessionsLost);
        _helloBackoff = _options.HelloRetryInitial;
        EnterConnecting(now);
        return true;
    }

    private void EnterConnecting(long now)
    {
        Forget();
        _state = RelayClientState.Connecting;
        SendHello(now);
    }

    private void SendHello(long now)
    {
        Span<byte> hello = stackalloc byte[ClientHelloFrame.Length];
        new ClientHelloFrame(_identity.PublicKey).Write(hello);
        Transmit(hello);
        Interlocked.Increment(ref Counters.HellosSent);
        _nextDue = now + ToTicks(Jitter(_helloBackoff));
        _helloBackoff = Min(_helloBackoff * 2, _options.HelloRetryMax);
    }

    private void SendAuth(long now)
    {
        Transmit(_authFrame);
        Interlocked.Increment(ref Counters.AuthsSent);
        _authSends++;
        _nextDue = now + ToTicks(_options.AuthRetryInterval);
    }

    private void SendKeepalive(long now)
    {
        Span<byte> keepalive = stackalloc byte[TokenFrame.Length];
        TokenFrame.Write(keepalive, RelayFrameType.Keepalive, _token);
        Transmit(keepalive);
        Interlocked.Increment(ref Counters.KeepalivesSent);

        // An ack (or any forwarded payload) since the last keepalive resets the count.
        if (_time.GetElapsedTime(Volatile.Read(ref _lastHeard), now) < _options.KeepaliveTimeout)
        {
            _unansweredKeepalives = 0;
        }

        _unansweredKeepalives++;
        _nextDue = now + ToTicks(_options.KeepaliveTimeout);
    }

    /// <summary>Ends the current session and handshake (under the lock).</summary>
    private void Forget()
    {
        Volatile.Write(ref _token, 0);
        _hasNonce = false;
        _authFrame = null;
        _authSends = 0;
        _unansweredKeepalives = 0;
    }

    private bool Transmit(ReadOnlySpan<byte> frame)
    {
        try
        {
            _send(frame);
            Interlocked.Increment(ref Counters.FramesSent);
            return true;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
        {
            // A socket error (network unreachable, interface down, socket closed) loses this frame like the network
            // would; the timers retry. Letting it escape would kill the timer thread's process.
            Interlocked.Increment(ref Counters.SendFailures);
            return false;
        }
    }

    private void Reschedule(long now)
    {
        if (_timer is null)
        {
            return;
        }

        if (_nextDue == long.MaxValue || _state == RelayClientState.Stopped)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        TimeSpan due = _nextDue <= now ? TimeSpan.Zero : _time.GetElapsedTime(now, _nextDue);
        _timer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private void Notify(RelayClientState before)
    {
        RelayClientState after = _state;
        if (after != before)
        {
            StateChanged?.Invoke(after);
        }
    }

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    /// <summary>±20%, so a relay restart does not see every client come back in the same instant.</summary>
    private TimeSpan Jitter(TimeSpan span) => span * (0.8 + (0.4 * _random.NextDouble()));

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static void CheckCertificate(NodeIdentity identity, MembershipCertificate certificate)
    {
        if (certificate.NodeKey != identity.PublicKey)
        {
            throw new ArgumentException(
                $"the certificate names node {certificate.NodeKey} but this identity is {identity.PublicKey}: pass this node's own certificate",
                nameof(certificate));
        }
    }
}
