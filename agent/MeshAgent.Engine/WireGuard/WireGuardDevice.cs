using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Net;
using MeshAgent.Core.Noise;
using MeshAgent.Core.WireGuard;

namespace MeshAgent.Engine.WireGuard;

/// <summary>Options of a <see cref="WireGuardDevice"/>; everything random or timed is injectable.</summary>
public sealed class WireGuardDeviceOptions
{
    /// <summary>Our X25519 static private key (32 bytes).</summary>
    public required byte[] PrivateKey { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where the TAI64N floor is kept across restarts; null keeps it in memory only.</summary>
    public ITai64NFloorStore? TimestampStore { get; init; }

    /// <summary>Ephemeral key source (tests inject fixed keys).</summary>
    public IEphemeralKeySource? EphemeralKeys { get; init; }

    /// <summary>Uniform jitter source in [0, 1) for REKEY_TIMEOUT jitter.</summary>
    public Func<double> Jitter { get; init; } = Random.Shared.NextDouble;
}

/// <summary>What <see cref="WireGuardDevice.ReceiveOutside"/> made of a datagram.</summary>
public enum InboundKind
{
    Dropped,
    /// <summary>A handshake message or cookie reply was consumed (and maybe answered).</summary>
    Handshake,
    /// <summary>An authenticated keepalive (empty transport payload).</summary>
    Keepalive,
    /// <summary>An authenticated transport payload: the inner IP packet (or control frame) is in the datagram at 16..16+length.</summary>
    Data,
}

public readonly record struct InboundResult(InboundKind Kind, Peer? Peer, int PayloadOffset, int PayloadLength, DropReason Drop)
{
    public static InboundResult Dropped(DropReason reason) => new(InboundKind.Dropped, null, 0, 0, reason);
}

/// <summary>Outcome of sealing a packet for a peer.</summary>
public enum SealStatus
{
    Sealed,
    /// <summary>No usable session: the caller stages the packet (or calls <see cref="WireGuardDevice.SendPacket"/>), a handshake was requested.</summary>
    NoSession,
    TooLarge,
}

/// <summary>
/// The WireGuard protocol engine for one local key (wireguard-go `device/`): peers, index
/// table, handshakes with mac1/mac2 and cookies, sessions with the whitepaper's timers.
/// It is transport-agnostic: the caller hands in datagrams with their source and gives it
/// an <see cref="IOutsideSender"/>; the data plane calls <see cref="ReceiveTransport"/> and
/// <see cref="TrySeal"/> (lock-free, allocation-free), the control plane calls
/// <see cref="ProcessHandshake"/> and <see cref="Tick"/>.
///
/// Flow (initiator A, responder B; whitepaper §5.4, §6):
///   A: data staged → initiation → B: checks mac1 (and mac2 under load), timestamp, flood;
///   sends response; keypair "next" → A: response → keypair "current", sends keepalive
///   (key confirmation) and staged data → B: first transport packet on "next" rotates it into
///   "current"; B may now send.
/// </summary>
public sealed class WireGuardDevice : IDisposable
{
    /// <summary>wireguard-go MaxTimerHandshakes: REKEY_ATTEMPT_TIME / REKEY_TIMEOUT = 18 retries, then give up.</summary>
    private const int MaxTimerHandshakes = 18;

    private readonly byte[] _privateKey;
    private readonly byte[] _publicKey = new byte[X25519.KeySize];
    private readonly TimeProvider _time;
    private readonly IOutsideSender _sender;
    private readonly IEphemeralKeySource? _ephemeralKeys;
    private readonly Func<double> _jitter;
    private readonly CookieChecker _cookieChecker;
    private readonly Tai64NStamper _stamper;
    private readonly TokenBucketRateLimiter _rateLimiter;
    private readonly ConcurrentDictionary<string, Peer> _peers = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Peer> _handshakeRequests = new();
    private readonly ConcurrentQueue<(Keypair Keypair, long RetiredAt)> _retiring = new();
    private static readonly TimeSpan RetirementGrace = TimeSpan.FromSeconds(2);
    private long _underLoadUntil;

    public WireGuardDevice(WireGuardDeviceOptions options, IOutsideSender sender)
    {
        if (options.PrivateKey is not { Length: X25519.KeySize })
        {
            throw new ArgumentException("the device private key must be 32 bytes (a base64 WireGuard private key decodes to 32 bytes)", nameof(options));
        }

        _privateKey = (byte[])options.PrivateKey.Clone();
        X25519.DerivePublicKey(_privateKey, _publicKey);
        _time = options.Time;
        _sender = sender;
        _ephemeralKeys = options.EphemeralKeys;
        _jitter = options.Jitter;
        _cookieChecker = new CookieChecker(_publicKey, _time);
        _stamper = new Tai64NStamper(_time, options.TimestampStore ?? new InMemoryTai64NFloorStore());
        _rateLimiter = new TokenBucketRateLimiter(_time);
    }

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    public IndexTable Indices { get; } = new();

    public DeviceCounters Counters { get; } = new();

    public ICollection<Peer> Peers => _peers.Values;

    /// <summary>Forces cookie mode (tests, or an operator under attack).</summary>
    public bool ForceUnderLoad { get; set; }

    /// <summary>Raised (on the control thread) whenever a peer can send data after a new session.</summary>
    public event Action<Peer>? SessionEstablished;

    public Peer AddPeer(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> presharedKey = default, IPEndPoint? endpoint = null, TimeSpan persistentKeepalive = default)
    {
        if (publicKey.Length != X25519.KeySize)
        {
            throw new ArgumentException("a WireGuard public key is 32 bytes", nameof(publicKey));
        }

        var peer = new Peer(this, publicKey, presharedKey, endpoint, persistentKeepalive, _time);
        if (!_peers.TryAdd(peer.PublicKeyBase64, peer))
        {
            throw new InvalidOperationException($"peer {peer.PublicKeyBase64} is already configured");
        }

        if (persistentKeepalive > TimeSpan.Zero)
        {
            // wg sends a first keepalive as soon as a persistent keepalive is configured.
            RequestHandshake(peer);
        }

        return peer;
    }

    public Peer? FindPeer(ReadOnlySpan<byte> publicKey) =>
        _peers.TryGetValue(Convert.ToBase64String(publicKey), out Peer? peer) ? peer : null;

    public bool RemovePeer(Peer peer)
    {
        if (!_peers.TryRemove(peer.PublicKeyBase64, out _))
        {
            return false;
        }

        var retired = new List<Keypair>();
        lock (peer._lock)
        {
            peer.ClearPendingHandshake(Indices);
            peer.ClearKeypairs(retired);
            peer.ClearStaged();
        }

        Retire(retired);
        return true;
    }

    // ------------------------------------------------------------------ inbound

    /// <summary>
    /// Handles any datagram synchronously: transport data inline, handshake messages through
    /// <see cref="ProcessHandshake"/>. borrowed: datagram (decrypted in place).
    /// </summary>
    public InboundResult ReceiveOutside(Span<byte> datagram, IPEndPoint source)
    {
        if (datagram.Length >= 4 && datagram[0] == 4)
        {
            return ReceiveTransport(datagram, source);
        }

        return ProcessHandshake(datagram, source, queueDepth: 0);
    }

    /// <summary>
    /// Data-plane path for type-4 messages: looks up the keypair by receiver index, opens in
    /// place, checks replay, rotates a confirmed "next" keypair, updates the endpoint
    /// (roaming) and timers. Never throws on network input; allocation-free unless a
    /// keypair rotates.
    /// </summary>
    public InboundResult ReceiveTransport(Span<byte> datagram, IPEndPoint source) =>
        ReceiveTransport(datagram, UdpEndpoint.FromIPEndPoint(source));

    /// <inheritdoc cref="ReceiveTransport(Span{byte}, IPEndPoint)"/>
    public InboundResult ReceiveTransport(Span<byte> datagram, in UdpEndpoint source)
    {
        if (!TransportHeader.TryRead(datagram, out TransportHeader header))
        {
            Counters.Increment(DropReason.Malformed);
            return InboundResult.Dropped(DropReason.Malformed);
        }

        uint receiver = header.ReceiverIndex;
        if (!Indices.TryGet(receiver, out IndexEntry entry) || entry.Keypair is not { } keypair)
        {
            Counters.Increment(DropReason.UnknownIndex);
            return InboundResult.Dropped(DropReason.UnknownIndex);
        }

        long now = _time.GetTimestamp();
        if (_time.GetElapsedTime(keypair.CreatedTimestamp, now) >= WireGuardConstants.RejectAfterTime)
        {
            Counters.Increment(DropReason.ExpiredKeypair);
            return InboundResult.Dropped(DropReason.ExpiredKeypair);
        }

        if (!keypair.TryOpen(datagram, out int length, out _))
        {
            Counters.Increment(DropReason.DecryptFailed);
            return InboundResult.Dropped(DropReason.DecryptFailed);
        }

        Peer peer = entry.Peer;
        if (peer.Next is not null && ReferenceEquals(peer.Next, keypair))
        {
            var retired = new List<Keypair>();
            if (peer.ReceivedWithKeypair(keypair, retired))
            {
                Retire(retired);
                HandshakeComplete(peer, now);
                RequestHandshake(peer, flushOnly: true);
            }
        }

        UpdateEndpoint(peer, source);
        KeepKeyFreshReceiving(peer, keypair, now);
        peer.AddReceivedBytes(datagram.Length);

        // timersAnyAuthenticatedPacketReceived / Traversal
        peer.NewHandshakeAt = 0;
        ArmPersistentKeepalive(peer, now);

        if (length == 0)
        {
            return new InboundResult(InboundKind.Keepalive, peer, Keypair.HeaderSize, 0, default);
        }

        // timersDataReceived
        if (peer.SendKeepaliveAt == 0)
        {
            peer.SendKeepaliveAt = now + ToTicks(WireGuardConstants.KeepaliveTimeout);
        }
        else
        {
            peer.NeedAnotherKeepalive = true;
        }

        // Strip the sender's padding (a multiple-of-16 fill): IP packets carry their own length
        // (wireguard-go RoutineSequentialReceiver). Other payloads are mesh control frames,
        // whose codec knows its own length.
        ReadOnlySpan<byte> plaintext = datagram.Slice(Keypair.HeaderSize, length);
        int ipLength = (plaintext[0] >> 4) switch
        {
            4 when length >= 20 => BinaryPrimitives.ReadUInt16BigEndian(plaintext[2..]),
            6 when length >= 40 => 40 + BinaryPrimitives.ReadUInt16BigEndian(plaintext[4..]),
            _ => length,
        };
        if (ipLength > length || ipLength == 0)
        {
            Counters.Increment(DropReason.Malformed);
            return InboundResult.Dropped(DropReason.Malformed);
        }

        return new InboundResult(InboundKind.Data, peer, Keypair.HeaderSize, ipLength, default);
    }

    /// <summary>
    /// Control-plane path for message types 1–3. queueDepth is how many handshake messages
    /// wait behind this one; at 128 or more the device is "under load" for 1 s and demands
    /// mac2 cookies (whitepaper §5.3). Never throws on network input.
    /// </summary>
    public InboundResult ProcessHandshake(ReadOnlySpan<byte> datagram, IPEndPoint source, int queueDepth)
    {
        if (datagram.Length < 4 || datagram[1] != 0 || datagram[2] != 0 || datagram[3] != 0)
        {
            Counters.Increment(DropReason.Malformed);
            return InboundResult.Dropped(DropReason.Malformed);
        }

        return datagram[0] switch
        {
            1 when datagram.Length == HandshakeInitiation.Size => ConsumeInitiation(datagram, source, queueDepth),
            2 when datagram.Length == HandshakeResponse.Size => ConsumeResponse(datagram, source, queueDepth),
            3 when CookieReply.TryRead(datagram, out CookieReply reply) => ConsumeCookieReply(reply),
            _ => Drop(DropReason.Malformed),
        };
    }

    private InboundResult ConsumeInitiation(ReadOnlySpan<byte> message, IPEndPoint source, int queueDepth)
    {
        if (!CheckMacs(message, source, queueDepth, out InboundResult rejected))
        {
            return rejected;
        }

        Span<byte> timestamp = stackalloc byte[WireGuardNoise.TimestampSize];
        if (!WireGuardNoise.TryConsumeInitiation(_privateKey, message, timestamp, out uint senderIndex, out HandshakeState? state))
        {
            return Drop(DropReason.HandshakeInvalid);
        }

        using (state)
        {
            Peer? peer = FindPeer(state!.RemoteStaticPublicKey);
            if (peer is null)
            {
                return Drop(DropReason.UnknownPeer);
            }

            long now = _time.GetTimestamp();
            Span<byte> response = stackalloc byte[HandshakeResponse.Size];
            var retired = new List<Keypair>();
            lock (peer._lock)
            {
                // Replay: the timestamp must be strictly newer (whitepaper §5.1).
                if (!Tai64N.IsAfter(timestamp, peer.LastReceivedTimestamp))
                {
                    return Drop(DropReason.ReplayedTimestamp);
                }

                // Flood: at most one initiation per 20 ms per peer (wireguard-go HandshakeInitationRate).
                if (peer.LastConsumedInitiationTimestamp != 0
                    && _time.GetElapsedTime(peer.LastConsumedInitiationTimestamp, now) < WireGuardConstants.HandshakeInitiationRate)
                {
                    return Drop(DropReason.HandshakeFlood);
                }

                timestamp.CopyTo(peer.LastReceivedTimestamp);
                peer.LastConsumedInitiationTimestamp = now;

                uint localIndex = Indices.Allocate(peer);
                WireGuardNoise.CreateResponse(state, peer.PresharedKey, localIndex, senderIndex, response);
                peer.Cookies.AddMacs(response);

                Span<byte> sendKey = stackalloc byte[32];
                Span<byte> receiveKey = stackalloc byte[32];
                WireGuardNoise.DeriveTransportKeys(state, sendKey, receiveKey);
                var keypair = new Keypair(sendKey, receiveKey, isInitiator: false, localIndex, senderIndex, now);
                CryptographicOperations.ZeroMemory(sendKey);
                CryptographicOperations.ZeroMemory(receiveKey);
                Indices.SetKeypair(localIndex, peer, keypair);
                peer.BeginSymmetricSession(keypair, retired);

                // timersSessionDerived
                peer.ZeroKeyMaterialAt = now + ToTicks(WireGuardConstants.RejectAfterTime * 3);
            }

            Retire(retired);
            UpdateEndpoint(peer, source);
            _sender.Send(response, source);
            Counters.ResponseSent();
            peer.AddSentBytes(response.Length);
            // timersAnyAuthenticatedPacketTraversal / Received / Sent
            ArmPersistentKeepalive(peer, now);
            peer.NewHandshakeAt = 0;
            peer.SendKeepaliveAt = 0;
            return new InboundResult(InboundKind.Handshake, peer, 0, 0, default);
        }
    }

    private InboundResult ConsumeResponse(ReadOnlySpan<byte> message, IPEndPoint source, int queueDepth)
    {
        if (!CheckMacs(message, source, queueDepth, out InboundResult rejected))
        {
            return rejected;
        }

        HandshakeResponse.TryRead(message, out HandshakeResponse response);
        uint senderIndex = response.SenderIndex;
        uint receiverIndex = response.ReceiverIndex;
        if (!Indices.TryGet(receiverIndex, out IndexEntry entry) || entry.Keypair is not null)
        {
            return Drop(DropReason.UnknownIndex);
        }

        Peer peer = entry.Peer;
        long now = _time.GetTimestamp();
        var retired = new List<Keypair>();
        lock (peer._lock)
        {
            HandshakeState? state = peer.PendingHandshake;
            if (state is null || peer.PendingHandshakeIndex != receiverIndex)
            {
                return Drop(DropReason.UnknownIndex);
            }

            if (!WireGuardNoise.TryConsumeResponse(state, message))
            {
                // A forged or corrupted response must not kill our handshake in flight, but
                // the Noise state is spent: the retransmit timer starts a fresh one.
                peer.ClearPendingHandshake(Indices);
                return Drop(DropReason.HandshakeInvalid);
            }

            Span<byte> sendKey = stackalloc byte[32];
            Span<byte> receiveKey = stackalloc byte[32];
            WireGuardNoise.DeriveTransportKeys(state, sendKey, receiveKey);
            var keypair = new Keypair(sendKey, receiveKey, isInitiator: true, receiverIndex, senderIndex, now);
            CryptographicOperations.ZeroMemory(sendKey);
            CryptographicOperations.ZeroMemory(receiveKey);

            state.Dispose();
            peer.PendingHandshake = null;
            peer.PendingHandshakeIndex = 0;
            Indices.SetKeypair(receiverIndex, peer, keypair);
            peer.BeginSymmetricSession(keypair, retired);
            peer.ZeroKeyMaterialAt = now + ToTicks(WireGuardConstants.RejectAfterTime * 3);
        }

        Retire(retired);
        UpdateEndpoint(peer, source);
        HandshakeComplete(peer, now);
        peer.NewHandshakeAt = 0;
        ArmPersistentKeepalive(peer, now);

        // Key confirmation: the responder may only use the new keys after hearing from us on
        // them, so send staged data now, or a keepalive if there is none.
        SendStaged(peer, keepaliveIfEmpty: true);
        return new InboundResult(InboundKind.Handshake, peer, 0, 0, default);
    }

    private InboundResult ConsumeCookieReply(CookieReply reply)
    {
        if (!Indices.TryGet(reply.ReceiverIndex, out IndexEntry entry))
        {
            return Drop(DropReason.UnknownIndex);
        }

        if (!entry.Peer.Cookies.TryConsumeReply(reply.Nonce, reply.EncryptedCookie))
        {
            return Drop(DropReason.BadCookieReply);
        }

        return new InboundResult(InboundKind.Handshake, entry.Peer, 0, 0, default);
    }

    /// <summary>mac1 always; under load also mac2 (else a cookie reply) and the per-source rate limit.</summary>
    private bool CheckMacs(ReadOnlySpan<byte> message, IPEndPoint source, int queueDepth, out InboundResult rejected)
    {
        rejected = default;
        if (!_cookieChecker.CheckMac1(message))
        {
            rejected = Drop(DropReason.BadMac1);
            return false;
        }

        if (!IsUnderLoad(queueDepth))
        {
            return true;
        }

        Span<byte> address = stackalloc byte[16];
        source.Address.TryWriteBytes(address, out int addressLength);
        address = address[..addressLength];
        if (!_cookieChecker.CheckMac2(message, address, (ushort)source.Port))
        {
            Span<byte> reply = stackalloc byte[CookieReply.Size];
            uint sender = BinaryPrimitives.ReadUInt32LittleEndian(message[4..]);
            _cookieChecker.CreateReply(message, sender, address, (ushort)source.Port, reply);
            _sender.Send(reply, source);
            Counters.CookieReplySent();
            rejected = Drop(DropReason.CookieRequired);
            return false;
        }

        if (!_rateLimiter.Allow(source.Address))
        {
            rejected = Drop(DropReason.RateLimited);
            return false;
        }

        return true;
    }

    private bool IsUnderLoad(int queueDepth)
    {
        if (ForceUnderLoad)
        {
            return true;
        }

        long now = _time.GetTimestamp();
        if (queueDepth >= WireGuardConstants.UnderLoadQueueSize)
        {
            Volatile.Write(ref _underLoadUntil, now + ToTicks(WireGuardConstants.UnderLoadAfterTime));
            return true;
        }

        return now < Volatile.Read(ref _underLoadUntil);
    }

    // ------------------------------------------------------------------ outbound

    /// <summary>
    /// Data-plane send: pads and seals one plaintext in place for the peer's current session.
    /// borrowed: buffer — [0..16) headroom, [16..16+plaintextLength) plaintext, and at least
    /// 16 + 15 bytes of tailroom. Allocation-free. On <see cref="SealStatus.NoSession"/> the
    /// caller should stage the packet (see <see cref="SendPacket"/>); a handshake is requested.
    /// </summary>
    public SealStatus TrySeal(Peer peer, Span<byte> buffer, int plaintextLength, int mtu, out int messageLength)
    {
        messageLength = 0;
        int padded = TransportHeader.PaddedLength(plaintextLength, mtu);
        if (Keypair.HeaderSize + padded + Keypair.TagSize > buffer.Length)
        {
            Counters.Increment(DropReason.TooLarge);
            return SealStatus.TooLarge;
        }

        Keypair? keypair = peer.Current;
        long now = _time.GetTimestamp();
        if (keypair is null
            || _time.GetElapsedTime(keypair.CreatedTimestamp, now) >= WireGuardConstants.RejectAfterTime
            || !keypair.TryClaimSendCounter(out ulong counter))
        {
            RequestHandshake(peer);
            return SealStatus.NoSession;
        }

        buffer.Slice(Keypair.HeaderSize + plaintextLength, padded - plaintextLength).Clear();
        messageLength = keypair.Seal(buffer, padded, counter);
        peer.AddSentBytes(messageLength);

        // timersAnyAuthenticatedPacketSent / Traversal, timersDataSent
        peer.SendKeepaliveAt = 0;
        ArmPersistentKeepalive(peer, now);
        if (plaintextLength > 0 && peer.NewHandshakeAt == 0)
        {
            peer.NewHandshakeAt = now + ToTicks(WireGuardConstants.KeepaliveTimeout + WireGuardConstants.RekeyTimeout + Jitter());
        }

        // keepKeyFreshSending: only the initiator rekeys on age or message count.
        if (keypair.IsInitiator
            && (counter > WireGuardConstants.RekeyAfterMessages
                || _time.GetElapsedTime(keypair.CreatedTimestamp, now) > WireGuardConstants.RekeyAfterTime))
        {
            RequestHandshake(peer);
        }

        return SealStatus.Sealed;
    }

    /// <summary>
    /// Convenience send for the control plane and simple hosts: seals a copy of the packet and
    /// sends it, or stages it until a session exists (and requests a handshake).
    /// </summary>
    public void SendPacket(Peer peer, ReadOnlySpan<byte> packet, int mtu = WireGuardConstants.DefaultMtu)
    {
        if (peer.Current is null)
        {
            peer.Stage(packet);
            RequestHandshake(peer);
            return;
        }

        SendStaged(peer, keepaliveIfEmpty: false);
        if (!SealAndSend(peer, packet, mtu))
        {
            peer.Stage(packet);
        }
    }

    /// <summary>
    /// Seals one payload in the peer's current session and sends it to <paramref name="endpoint"/>, leaving
    /// <see cref="Peer.Endpoint"/> alone: path probes go to one candidate while traffic keeps its path.
    /// Never staged: without a usable session it returns false (and requests a handshake), since a probe
    /// that arrives late is worthless. borrowed: payload, during the call.
    /// </summary>
    public bool SendPacketTo(Peer peer, ReadOnlySpan<byte> payload, IPEndPoint endpoint, int mtu = WireGuardConstants.DefaultMtu)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (peer.Current is null)
        {
            RequestHandshake(peer);
            return false;
        }

        return SealAndSendTo(peer, payload, mtu, endpoint) == SealStatus.Sealed;
    }

    private bool SealAndSend(Peer peer, ReadOnlySpan<byte> packet, int mtu)
    {
        IPEndPoint? endpoint = peer.Endpoint;
        if (endpoint is null)
        {
            Counters.Increment(DropReason.NoEndpoint);
            return true;
        }

        return SealAndSendTo(peer, packet, mtu, endpoint) != SealStatus.NoSession;
    }

    private SealStatus SealAndSendTo(Peer peer, ReadOnlySpan<byte> packet, int mtu, IPEndPoint endpoint)
    {
        int capacity = Keypair.HeaderSize + packet.Length + 16 + Keypair.TagSize;
        byte[]? rented = capacity > 2048 ? new byte[capacity] : null;
        Span<byte> buffer = rented ?? stackalloc byte[2048];
        packet.CopyTo(buffer[Keypair.HeaderSize..]);
        SealStatus status = TrySeal(peer, buffer, packet.Length, mtu, out int length);
        if (status == SealStatus.Sealed)
        {
            _sender.Send(buffer[..length], endpoint);
        }

        return status;
    }

    /// <summary>wireguard-go SendStagedPackets (+ SendKeepalive when asked and nothing is staged).</summary>
    private void SendStaged(Peer peer, bool keepaliveIfEmpty)
    {
        bool sentAny = false;
        while (peer.TryDequeueStaged(out byte[] packet))
        {
            if (!SealAndSend(peer, packet, WireGuardConstants.DefaultMtu))
            {
                peer.Stage(packet);
                return;
            }

            sentAny = true;
        }

        if (keepaliveIfEmpty && !sentAny)
        {
            SealAndSend(peer, ReadOnlySpan<byte>.Empty, WireGuardConstants.DefaultMtu);
        }
    }

    /// <summary>
    /// Asks the control plane for a handshake (or, with flushOnly, a staged-packet flush).
    /// Safe from any thread; <see cref="Tick"/> does the work, so the data plane never
    /// computes a Diffie-Hellman.
    /// </summary>
    public void RequestHandshake(Peer peer, bool flushOnly = false)
    {
        if (flushOnly)
        {
            Interlocked.Exchange(ref peer.FlushRequested, 1);
        }
        else
        {
            Interlocked.Exchange(ref peer.HandshakeRequested, 1);
        }

        _handshakeRequests.Enqueue(peer);
        ControlWakeup?.Invoke();
    }

    /// <summary>
    /// The peer's endpoint just moved to another path (the relay came up, path selection chose another address) while
    /// it has no session: an initiation still pending on the old path is likely lost there (an address the peer cannot
    /// be reached at, a relay that did not know us yet), so send a fresh one on the new path now instead of waiting out
    /// REKEY_TIMEOUT (5 s). At most one per <see cref="NewPathHandshakeSpacing"/>; the peer accepts it (its timestamp
    /// is newer, and the 20 ms flood limit is far below the spacing). With a session: as <see cref="RequestHandshake"/>.
    /// </summary>
    public void RequestHandshakeOnNewPath(Peer peer)
    {
        Interlocked.Exchange(ref peer.NewPathHandshakeRequested, 1);
        RequestHandshake(peer);
    }

    /// <summary>
    /// Least time between two initiations when the second goes out because the path changed: above the receiver's
    /// 20 ms flood limit (wireguard-go HandshakeInitationRate), so both are accepted if both paths work. A request that
    /// comes sooner is kept for the next <see cref="Tick"/>.
    /// </summary>
    public static readonly TimeSpan NewPathHandshakeSpacing = TimeSpan.FromMilliseconds(25);

    /// <summary>Called when <see cref="Tick"/> has work; hosts use it to wake their control loop.</summary>
    public Action? ControlWakeup { get; set; }

    /// <summary>
    /// Starts a handshake now (wireguard-go SendHandshakeInitiation). At most one per
    /// REKEY_TIMEOUT unless it is a retry.
    /// </summary>
    public void SendHandshakeInitiation(Peer peer, bool isRetry) => SendHandshakeInitiation(peer, isRetry, WireGuardConstants.RekeyTimeout);

    private void SendHandshakeInitiation(Peer peer, bool isRetry, TimeSpan spacing)
    {
        IPEndPoint? endpoint = peer.Endpoint;
        long now = _time.GetTimestamp();
        Span<byte> message = stackalloc byte[HandshakeInitiation.Size];
        lock (peer._lock)
        {
            if (!isRetry)
            {
                peer.HandshakeAttempts = 0;
            }

            if (peer.LastSentHandshakeTimestamp != 0
                && _time.GetElapsedTime(peer.LastSentHandshakeTimestamp, now) < spacing)
            {
                return;
            }

            if (endpoint is null)
            {
                Counters.Increment(DropReason.NoEndpoint);
                return;
            }

            peer.LastSentHandshakeTimestamp = now;
            peer.LastHandshakeEndpoint = endpoint;
            peer.ClearPendingHandshake(Indices);
            uint index = Indices.Allocate(peer);
            Span<byte> timestamp = stackalloc byte[WireGuardNoise.TimestampSize];
            _stamper.Next(timestamp);
            peer.PendingHandshake = WireGuardNoise.CreateInitiation(_privateKey, peer.PublicKey, peer.PresharedKey, index, timestamp, message, _ephemeralKeys);
            peer.PendingHandshakeIndex = index;
            peer.Cookies.AddMacs(message);

            // timersHandshakeInitiated
            peer.RetransmitHandshakeAt = now + ToTicks(WireGuardConstants.RekeyTimeout + Jitter());
        }

        _sender.Send(message, endpoint);
        Counters.InitiationSent();
        peer.AddSentBytes(message.Length);
        peer.SendKeepaliveAt = 0;
        ArmPersistentKeepalive(peer, now);
    }

    // ------------------------------------------------------------------ timers

    /// <summary>
    /// Runs expired timers and pending handshake requests (wireguard-go timers.go). Call it
    /// from one control thread, every ~100 ms and on <see cref="ControlWakeup"/>.
    /// </summary>
    public void Tick()
    {
        List<Peer>? tooSoon = null;
        while (_handshakeRequests.TryDequeue(out Peer? requested))
        {
            bool newPath = Interlocked.Exchange(ref requested.NewPathHandshakeRequested, 0) == 1;
            if (Interlocked.Exchange(ref requested.HandshakeRequested, 0) == 1)
            {
                if (newPath && requested.Current is null && requested.Endpoint is { } endpoint && !endpoint.Equals(requested.LastHandshakeEndpoint))
                {
                    // The pending initiation went elsewhere: a fresh one on the new path, as soon as the flood limit allows.
                    if (_time.GetElapsedTime(requested.LastSentHandshakeTimestamp, _time.GetTimestamp()) < NewPathHandshakeSpacing)
                    {
                        (tooSoon ??= []).Add(requested);
                    }
                    else
                    {
                        SendHandshakeInitiation(requested, isRetry: false, NewPathHandshakeSpacing);
                    }
                }
                else if (requested.Current is null || NeedsRekey(requested))
                {
                    SendHandshakeInitiation(requested, isRetry: false);
                }
                else
                {
                    SendStaged(requested, keepaliveIfEmpty: requested.PersistentKeepaliveInterval > TimeSpan.Zero);
                }
            }

            if (Interlocked.Exchange(ref requested.FlushRequested, 0) == 1)
            {
                SessionEstablished?.Invoke(requested);
                SendStaged(requested, keepaliveIfEmpty: false);
            }
        }

        foreach (Peer peer in tooSoon ?? [])
        {
            Interlocked.Exchange(ref peer.NewPathHandshakeRequested, 1);
            Interlocked.Exchange(ref peer.HandshakeRequested, 1);
            _handshakeRequests.Enqueue(peer); // the next Tick (≤ 100 ms)
        }

        long now = _time.GetTimestamp();
        DisposeRetiredKeypairs(now);
        foreach (Peer peer in _peers.Values)
        {
            if (Expired(ref peer.RetransmitHandshakeAt, now))
            {
                if (peer.HandshakeAttempts >= MaxTimerHandshakes)
                {
                    // Give up until new data asks again (wireguard-go expiredRetransmitHandshake).
                    peer.SendKeepaliveAt = 0;
                    peer.ClearStaged();
                    lock (peer._lock)
                    {
                        peer.ClearPendingHandshake(Indices);
                    }

                    if (peer.ZeroKeyMaterialAt == 0)
                    {
                        peer.ZeroKeyMaterialAt = now + ToTicks(WireGuardConstants.RejectAfterTime * 3);
                    }
                }
                else
                {
                    peer.HandshakeAttempts++;
                    SendHandshakeInitiation(peer, isRetry: true);
                }
            }

            if (Expired(ref peer.SendKeepaliveAt, now))
            {
                SendStaged(peer, keepaliveIfEmpty: true);
                if (peer.NeedAnotherKeepalive)
                {
                    peer.NeedAnotherKeepalive = false;
                    peer.SendKeepaliveAt = now + ToTicks(WireGuardConstants.KeepaliveTimeout);
                }
            }

            if (Expired(ref peer.NewHandshakeAt, now))
            {
                // Data sent, nothing heard for KEEPALIVE + REKEY_TIMEOUT: the session may be dead.
                SendHandshakeInitiation(peer, isRetry: false);
            }

            if (Expired(ref peer.ZeroKeyMaterialAt, now))
            {
                var retired = new List<Keypair>();
                lock (peer._lock)
                {
                    peer.ClearPendingHandshake(Indices);
                    peer.ClearKeypairs(retired);
                }

                Retire(retired);
            }

            if (Expired(ref peer.PersistentKeepaliveAt, now) && peer.PersistentKeepaliveInterval > TimeSpan.Zero)
            {
                if (peer.Current is null)
                {
                    SendHandshakeInitiation(peer, isRetry: false);
                }
                else
                {
                    SendStaged(peer, keepaliveIfEmpty: true);
                }
            }
        }
    }

    private bool NeedsRekey(Peer peer)
    {
        Keypair? keypair = peer.Current;
        return keypair is null
            || _time.GetElapsedTime(keypair.CreatedTimestamp) >= WireGuardConstants.RejectAfterTime
            || (keypair.IsInitiator && (keypair.SendCounter > WireGuardConstants.RekeyAfterMessages
                || _time.GetElapsedTime(keypair.CreatedTimestamp) > WireGuardConstants.RekeyAfterTime));
    }

    private void KeepKeyFreshReceiving(Peer peer, Keypair keypair, long now)
    {
        // wireguard-go keepKeyFreshReceiving: an initiator whose keys near REJECT_AFTER_TIME
        // starts one last-minute handshake so the session does not lapse while idle on our side.
        if (peer.SentLastMinuteHandshake || !keypair.IsInitiator || !ReferenceEquals(peer.Current, keypair))
        {
            return;
        }

        TimeSpan limit = WireGuardConstants.RejectAfterTime - WireGuardConstants.KeepaliveTimeout - WireGuardConstants.RekeyTimeout;
        if (_time.GetElapsedTime(keypair.CreatedTimestamp, now) > limit)
        {
            peer.SentLastMinuteHandshake = true;
            RequestHandshake(peer);
        }
    }

    private void HandshakeComplete(Peer peer, long now)
    {
        // timersHandshakeComplete
        peer.RetransmitHandshakeAt = 0;
        peer.HandshakeAttempts = 0;
        peer.SentLastMinuteHandshake = false;
        peer.MarkHandshakeCompleted(_time.GetUtcNow());
        Counters.HandshakeCompleted();
    }

    private void ArmPersistentKeepalive(Peer peer, long now)
    {
        if (peer.PersistentKeepaliveInterval > TimeSpan.Zero)
        {
            peer.PersistentKeepaliveAt = now + ToTicks(peer.PersistentKeepaliveInterval);
        }
    }

    private static bool Expired(ref long deadline, long now)
    {
        long value = Volatile.Read(ref deadline);
        if (value == 0 || now < value)
        {
            return false;
        }

        // Only one caller fires a given deadline.
        return Interlocked.CompareExchange(ref deadline, 0, value) == value;
    }

    private static void UpdateEndpoint(Peer peer, IPEndPoint source)
    {
        IPEndPoint? current = peer.Endpoint;
        if (current is null || !current.Equals(source))
        {
            peer.Endpoint = source;
        }
    }

    /// <summary>Roaming on the data path: allocates only when the endpoint really changed.</summary>
    private static void UpdateEndpoint(Peer peer, in UdpEndpoint source)
    {
        PeerEndpoint? current = peer.CurrentEndpoint;
        if (current is null || current.Udp != source)
        {
            peer.CurrentEndpoint = new PeerEndpoint(source);
        }
    }

    private void Retire(List<Keypair> retired)
    {
        long now = _time.GetTimestamp();
        foreach (Keypair keypair in retired)
        {
            Indices.Remove(keypair.LocalIndex);
            // A data-plane thread may still be sealing or opening with it; wiping the key now
            // could send a packet under an all-zero key. Wipe after a grace period instead.
            _retiring.Enqueue((keypair, now));
        }
    }

    private void DisposeRetiredKeypairs(long now)
    {
        while (_retiring.TryPeek(out (Keypair Keypair, long RetiredAt) item)
            && _time.GetElapsedTime(item.RetiredAt, now) > RetirementGrace
            && _retiring.TryDequeue(out item))
        {
            item.Keypair.Dispose();
        }
    }

    private TimeSpan Jitter() => TimeSpan.FromMilliseconds(WireGuardConstants.RekeyTimeoutJitterMax.TotalMilliseconds * _jitter());

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private InboundResult Drop(DropReason reason)
    {
        Counters.Increment(reason);
        return InboundResult.Dropped(reason);
    }

    public void Dispose()
    {
        foreach (Peer peer in _peers.Values)
        {
            RemovePeer(peer);
        }

        while (_retiring.TryDequeue(out (Keypair Keypair, long RetiredAt) item))
        {
            item.Keypair.Dispose();
        }

        CryptographicOperations.ZeroMemory(_privateKey);
    }
}
