using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using MeshAgent.Core.Noise;
using MeshAgent.Core.WireGuard;

namespace MeshAgent.Engine.WireGuard;

/// <summary>
/// One remote WireGuard peer: its keys, endpoint, handshake in flight, the three keypair
/// slots of wireguard-go (previous / current / next), staged packets, timers and counters.
///
/// Threading: the data plane reads <see cref="Current"/> and <see cref="Endpoint"/> without
/// locks (volatile fields, swapped whole) and records timer events with plain stores; the
/// control plane (handshake processing, <see cref="WireGuardDevice.Tick"/>) changes keypairs
/// and handshake state under <see cref="_lock"/>.
/// </summary>
public sealed class Peer
{
    internal const int MaxStagedPackets = 128;

    private readonly byte[] _publicKey;
    private readonly byte[] _presharedKey = new byte[32];
    private readonly ConcurrentQueue<byte[]> _staged = new();
    internal readonly object _lock = new();

    private volatile Keypair? _current;
    private volatile Keypair? _previous;
    private volatile Keypair? _next;
    private volatile PeerEndpoint? _endpoint;

    // Handshake in flight (initiator side), guarded by _lock.
    internal HandshakeState? PendingHandshake;
    internal uint PendingHandshakeIndex;

    /// <summary>Where the last initiation went (control thread): a new-path request to the same place sends nothing.</summary>
    internal IPEndPoint? LastHandshakeEndpoint;
    internal long LastSentHandshakeTimestamp;
    internal int HandshakeAttempts;

    // Responder-side replay and flood protection (whitepaper §5.1), guarded by _lock.
    internal readonly byte[] LastReceivedTimestamp = new byte[12];
    internal long LastConsumedInitiationTimestamp;

    // Timer deadlines in TimeProvider timestamps, 0 = not armed. Written by both planes;
    // a lost race only delays or repeats a keepalive, never breaks a session.
    internal long RetransmitHandshakeAt;
    internal long SendKeepaliveAt;
    internal long NewHandshakeAt;
    internal long ZeroKeyMaterialAt;
    internal long PersistentKeepaliveAt;
    internal bool NeedAnotherKeepalive;
    internal int HandshakeRequested;

    /// <summary>Set by <see cref="WireGuardDevice.RequestHandshakeOnNewPath"/>: the endpoint moved while no session was up.</summary>
    internal int NewPathHandshakeRequested;
    internal int FlushRequested;
    internal bool SentLastMinuteHandshake;

    private long _receivedBytes;
    private long _sentBytes;
    private long _lastHandshakeUnixMilliseconds;

    internal Peer(WireGuardDevice device, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> presharedKey, IPEndPoint? endpoint, TimeSpan persistentKeepalive, TimeProvider time)
    {
        Device = device;
        _publicKey = publicKey.ToArray();
        if (!presharedKey.IsEmpty)
        {
            presharedKey.CopyTo(_presharedKey);
        }

        _endpoint = endpoint is null ? null : new PeerEndpoint(endpoint);
        PersistentKeepaliveInterval = persistentKeepalive;
        Cookies = new CookieGenerator(publicKey, time);
    }

    public WireGuardDevice Device { get; }

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    public string PublicKeyBase64 => Convert.ToBase64String(_publicKey);

    internal ReadOnlySpan<byte> PresharedKey => _presharedKey;

    public CookieGenerator Cookies { get; }

    /// <summary>0 = off; otherwise a keepalive after this much silence in our direction (wg "PersistentKeepalive").</summary>
    public TimeSpan PersistentKeepaliveInterval { get; }

    /// <summary>Where we send; updated from the source of every authenticated packet (roaming).</summary>
    public IPEndPoint? Endpoint
    {
        get => _endpoint?.IP;
        set => _endpoint = value is null ? null : new PeerEndpoint(value);
    }

    /// <summary>The endpoint in both forms (data plane: <see cref="PeerEndpoint.Udp"/>).</summary>
    public PeerEndpoint? CurrentEndpoint
    {
        get => _endpoint;
        internal set => _endpoint = value;
    }

    /// <summary>The keypair we send with. Null until a session is confirmed.</summary>
    public Keypair? Current => _current;

    internal Keypair? Previous => _previous;

    internal Keypair? Next => _next;

    public long ReceivedBytes => Interlocked.Read(ref _receivedBytes);

    public long SentBytes => Interlocked.Read(ref _sentBytes);

    /// <summary>Wall-clock time of the last completed handshake, or null.</summary>
    public DateTimeOffset? LastHandshake
    {
        get
        {
            long ms = Interlocked.Read(ref _lastHandshakeUnixMilliseconds);
            return ms == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
    }

    internal int StagedCount => _staged.Count;

    internal void AddReceivedBytes(int count) => Interlocked.Add(ref _receivedBytes, count);

    internal void AddSentBytes(int count) => Interlocked.Add(ref _sentBytes, count);

    internal void MarkHandshakeCompleted(DateTimeOffset now) => Interlocked.Exchange(ref _lastHandshakeUnixMilliseconds, now.ToUnixTimeMilliseconds());

    /// <summary>
    /// Installs the keypair of a completed handshake (wireguard-go BeginSymmetricSession).
    /// Initiator: it becomes current at once (the response confirmed the keys). Responder: it
    /// waits in "next" until the initiator's first transport packet confirms it
    /// (key-confirmation rule: a responder must not send first on new keys).
    /// Returns the keypairs that fell out, for the caller to unregister and dispose.
    /// Caller holds _lock.
    /// </summary>
    internal void BeginSymmetricSession(Keypair keypair, List<Keypair> retired)
    {
        if (keypair.IsInitiator)
        {
            if (_next is { } next)
            {
                // An unconfirmed responder session loses to ours; keep it as previous so
                // packets the peer already sent with it still decrypt.
                _next = null;
                AddIfNotNull(retired, _previous);
                AddIfNotNull(retired, _current);
                _previous = next;
            }
            else
            {
                AddIfNotNull(retired, _previous);
                _previous = _current;
            }

            _current = keypair;
        }
        else
        {
            AddIfNotNull(retired, _next);
            AddIfNotNull(retired, _previous);
            _next = keypair;
            _previous = null;
        }
    }

    /// <summary>
    /// Called for every authenticated transport packet. If it used the "next" keypair, that
    /// keypair is now confirmed and rotates into current. Returns true on that rotation.
    /// </summary>
    internal bool ReceivedWithKeypair(Keypair keypair, List<Keypair> retired)
    {
        if (!ReferenceEquals(_next, keypair))
        {
            return false;
        }

        lock (_lock)
        {
            if (!ReferenceEquals(_next, keypair))
            {
                return false;
            }

            AddIfNotNull(retired, _previous);
            _previous = _current;
            _current = keypair;
            _next = null;
            return true;
        }
    }

    /// <summary>Drops all keys (REJECT_AFTER_TIME × 3 of silence, or removal). Caller holds _lock.</summary>
    internal void ClearKeypairs(List<Keypair> retired)
    {
        AddIfNotNull(retired, _previous);
        AddIfNotNull(retired, _current);
        AddIfNotNull(retired, _next);
        _previous = _current = _next = null;
    }

    /// <summary>Queues a packet until a session exists; the oldest is dropped when full.</summary>
    internal void Stage(ReadOnlySpan<byte> packet)
    {
        _staged.Enqueue(packet.ToArray());
        while (_staged.Count > MaxStagedPackets && _staged.TryDequeue(out _))
        {
            Device.Counters.Increment(DropReason.StagedQueueFull);
        }
    }

    internal bool TryDequeueStaged(out byte[] packet) => _staged.TryDequeue(out packet!);

    internal void ClearStaged() => _staged.Clear();

    internal void ClearPendingHandshake(IndexTable indices)
    {
        if (PendingHandshake is not null)
        {
            PendingHandshake.Dispose();
            PendingHandshake = null;
            indices.Remove(PendingHandshakeIndex);
            PendingHandshakeIndex = 0;
        }
    }

    internal void SetPresharedKey(ReadOnlySpan<byte> psk)
    {
        lock (_lock)
        {
            CryptographicOperations.ZeroMemory(_presharedKey);
            psk.CopyTo(_presharedKey);
        }
    }

    private static void AddIfNotNull(List<Keypair> list, Keypair? keypair)
    {
        if (keypair is not null)
        {
            list.Add(keypair);
        }
    }

    public override string ToString() => PublicKeyBase64;
}
