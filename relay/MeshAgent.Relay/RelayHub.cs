using System.Buffers.Binary;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Core.WireGuard;
using Microsoft.Extensions.Logging;
using MeshAgent.Core.Net;

namespace MeshAgent.Relay;

/// <summary>What the transport should do after <see cref="RelayHub.Process"/>.</summary>
internal enum RelayActionKind
{
    /// <summary>Nothing: the frame was consumed or dropped (and counted).</summary>
    None,

    /// <summary>Send <see cref="RelayAction.Frame"/> back on the link it came from.</summary>
    Reply,

    /// <summary>Send <see cref="RelayAction.Frame"/> (a Recv) to <see cref="RelayAction.Destination"/>.</summary>
    Forward,
}

/// <summary>
/// The result of processing one frame. <see cref="Frame"/> is borrowed: it lies in the frame buffer or the scratch
/// buffer given to <see cref="RelayHub.Process"/>, valid until the caller reuses them.
/// </summary>
internal readonly ref struct RelayAction
{
    private RelayAction(RelayActionKind kind, Span<byte> frame, RelayLink destination)
    {
        Kind = kind;
        Frame = frame;
        Destination = destination;
    }

    public RelayActionKind Kind { get; }

    public Span<byte> Frame { get; }

    public RelayLink Destination { get; }

    public static RelayAction None => default;

    public static RelayAction Reply(Span<byte> frame) => new(RelayActionKind.Reply, frame, default);

    public static RelayAction Forward(Span<byte> frame, RelayLink destination) => new(RelayActionKind.Forward, frame, destination);
}

/// <summary>
/// The relay's protocol engine, apart from sockets (tailscale's codec/machinery split): sessions, authentication,
/// revocations and forwarding decisions for frames from any link. Transports call <see cref="Process"/> for every
/// relay frame and carry out the <see cref="RelayAction"/> it returns.
/// </summary>
/// <remarks>
/// <para>Authentication (<see cref="RelayProtocol"/>): ClientHello is answered with a stateless challenge
/// (<see cref="ChallengeIssuer"/>); an Auth is checked, cheapest first: nonce MAC and age, certificate decoding and
/// key match, accepted network, the client's signature, then <see cref="MembershipCertificate.Validate(NetworkRootPublicKey, DateTimeOffset, RevocationSet)"/>
/// (root signature, revocation, validity period by this relay's clock). Hello and Auth are rate limited per source
/// address before any of that. The same Auth again (a client whose Welcome was lost) gets the same Welcome; an
/// Auth with a nonce older than the current session's cannot replace it.</para>
/// <para>Forwarding: a Send is accepted when its token names a session bound to the link it arrived on, within the
/// session's packet and byte buckets; it goes to the destination's session when that is in the same network
/// (networks sharing a relay stay apart), else the sender gets an UnknownPeer notice (rate limited). The Send is
/// rewritten into the Recv in place (<see cref="RecvFrame.RewriteSendInPlace"/>): no copy, no allocation.</para>
/// <para>Threads: any number of transport threads may call in. Session tables are guarded by one lock, held for
/// dictionary lookups only; signature checks and revocation handling run outside it.</para>
/// </remarks>
internal sealed class RelayHub
{
    /// <summary>Scratch space <see cref="Process"/> needs for replies.</summary>
    public const int ScratchLength = 128;

    private readonly RelayOptions _options;
    private readonly NodePublicKey _relayKey;
    private readonly RevocationStore _revocations;
    private readonly TimeProvider _time;
    private readonly Action<Span<byte>> _random;
    private readonly ILogger _logger;
    private readonly ChallengeIssuer _challenges;
    private readonly TokenBucketRateLimiter? _handshakeLimiter;
    private readonly TokenBucketRateLimiter _sessionUnknownLimiter;
    private readonly HashSet<NetworkRootPublicKey> _networks;
    private readonly Lock _gate = new();
    private readonly Dictionary<NodePublicKey, RelaySession> _byKey = [];
    private readonly Dictionary<ulong, RelaySession> _byToken = [];
    private readonly Dictionary<ulong, JoinChannel> _joinById = [];
    private readonly Dictionary<RelayLink, JoinChannel> _joinByLink = [];
    private readonly TokenBucketRateLimiter _joinLimiter;
    private int _tcpSessions;

    public RelayHub(RelayOptions options, NodePublicKey relayKey, RevocationStore revocations, TimeProvider time, ILogger logger, Action<Span<byte>>? random = null)
    {
        _options = options;
        _relayKey = relayKey;
        _revocations = revocations;
        _time = time;
        _logger = logger;
        _random = random ?? SecureRandom.Fill;
        _networks = [.. options.AcceptedRoots];
        _challenges = new ChallengeIssuer(time, options.ChallengeLifetime, _random);
        _handshakeLimiter = options.HandshakeRateLimit ? new TokenBucketRateLimiter(time) : null;
        _sessionUnknownLimiter = new TokenBucketRateLimiter(time);
        _joinLimiter = new TokenBucketRateLimiter(time);
    }

    public RelayCounters Counters { get; } = new();

    public NodePublicKey RelayKey => _relayKey;

    public RevocationStore Revocations => _revocations;

    public int SessionCount
    {
        get
        {
            lock (_gate)
            {
                return _byKey.Count;
            }
        }
    }

    public int TcpSessionCount
    {
        get
        {
            lock (_gate)
            {
                return _tcpSessions;
            }
        }
    }

    /// <summary>Join channels open now. For tests and diagnostics.</summary>
    public int JoinChannelCount
    {
        get
        {
            lock (_gate)
            {
                return _joinById.Count;
            }
        }
    }

    /// <summary>True when <paramref name="node"/> has a session. For tests and diagnostics.</summary>
    public bool HasSession(NodePublicKey node)
    {
        lock (_gate)
        {
            return _byKey.ContainsKey(node);
        }
    }

    /// <summary>
    /// Processes one relay frame from <paramref name="from"/>. <paramref name="frame"/> is borrowed and may be
    /// rewritten in place (a forwarded Send becomes the Recv); <paramref name="scratch"/> (at least
    /// <see cref="ScratchLength"/> bytes) receives replies. Never throws on network input.
    /// </summary>
    public RelayAction Process(Span<byte> frame, in RelayLink from, Span<byte> scratch)
    {
        if (!RelayProtocol.TryReadHeader(frame, out RelayFrameType type))
        {
            Counters.Increment(RelayCounter.DropMalformed);
            return RelayAction.None;
        }

        return type switch
        {
            RelayFrameType.Send => OnSend(frame, from, scratch),
            RelayFrameType.Keepalive => OnKeepalive(frame, from, scratch),
            RelayFrameType.ClientHello => OnHello(frame, from, scratch),
            RelayFrameType.Auth => OnAuth(frame, from, scratch),
            RelayFrameType.RevocationPush => OnRevocationPush(frame, from, scratch),
            RelayFrameType.JoinSend => OnJoinSend(frame, from, scratch),
            RelayFrameType.JoinReply => OnJoinReply(frame, from, scratch),
            _ => Unexpected(),
        };
    }

    /// <summary>A TCP connection ended: its session (if it still has one) ends with it.</summary>
    public void OnTcpClosed(RelayTcpConnection connection)
    {
        lock (_gate)
        {
            if (_joinByLink.Remove(RelayLink.Stream(connection), out JoinChannel? channel))
            {
                _joinById.Remove(channel.Id);
            }

            if (connection.Session is { } session && _byToken.TryGetValue(session.Token, out RelaySession? current) && ReferenceEquals(current, session))
            {
                RemoveLocked(session);
                Counters.Increment(RelayCounter.SessionsTcpClosed);
            }
        }
    }

    /// <summary>
    /// Drops sessions idle for the idle timeout and sessions whose certificate expired. TCP connections that lost
    /// their session this way are added to <paramref name="closeConnections"/> for the caller to close.
    /// </summary>
    public void Sweep(List<RelayTcpConnection> closeConnections)
    {
        long now = _time.GetTimestamp();
        DateTimeOffset wallNow = _time.GetUtcNow();
        lock (_gate)
        {
            foreach (RelaySession session in _byKey.Values)
            {
                RelayCounter? reason = _time.GetElapsedTime(session.LastSeen, now) >= _options.IdleTimeout ? RelayCounter.SessionsIdle
                    : wallNow >= session.CertificateExpiresAt ? RelayCounter.SessionsCertificateExpired
                    : null;
                if (reason is { } counter)
                {
                    RemoveLocked(session); // removal while enumerating a Dictionary is allowed (.NET Core 3.0+)
                    Counters.Increment(counter);
                    if (session.Link.Tcp is { } tcp)
                    {
                        closeConnections.Add(tcp);
                    }
                }
            }

            foreach (JoinChannel channel in _joinById.Values)
            {
                if (_time.GetElapsedTime(channel.LastSeen, now) >= _options.JoinChannelIdleTimeout
                    || _time.GetElapsedTime(channel.OpenedAt, now) >= _options.JoinChannelLifetime)
                {
                    RemoveJoinLocked(channel);
                    Counters.Increment(RelayCounter.JoinChannelsExpired);
                }
            }
        }
    }

    private RelayAction Unexpected()
    {
        // Relay-to-client types never come from a client.
        Counters.Increment(RelayCounter.DropUnexpectedType);
        return RelayAction.None;
    }

    private RelayAction OnSend(Span<byte> frame, in RelayLink from, Span<byte> scratch)
    {
        if (frame.Length < RelayProtocol.SendOverhead)
        {
            Counters.Increment(RelayCounter.DropMalformed);
            return RelayAction.None;
        }

        ulong token = SendFrame.PeekToken(frame);
        ReadOnlySpan<byte> destinationKey = SendFrame.PeekDestination(frame);
        long now = _time.GetTimestamp();
        RelayLink destination;
        NodePublicKey source;
        lock (_gate)
        {
            if (!_byToken.TryGetValue(token, out RelaySession? session) || !session.Link.Equals(from))
            {
                return SessionUnknown(token, from, scratch);
            }

            long frequency = _time.TimestampFrequency;
            if (!session.Packets.TryTake(1, _options.ClientPacketsPerSecond, _options.ClientPacketsPerSecond, now, frequency))
            {
                Counters.Increment(RelayCounter.DropPacketRateLimited);
                return RelayAction.None;
            }

            if (!session.Bytes.TryTake(frame.Length, _options.ClientBytesPerSecond, _options.ClientBytesPerSecond, now, frequency))
            {
                Counters.Increment(RelayCounter.DropByteRateLimited);
                return RelayAction.None;
            }

            session.LastSeen = now;
            var destinationNode = new NodePublicKey(destinationKey);
            if (!_byKey.TryGetValue(destinationNode, out RelaySession? target) || target.Network != session.Network)
            {
                Counters.Increment(RelayCounter.DropUnknownDestination);
                if (!session.Notices.TryTake(1, _options.UnknownPeerNoticesPerSecond, _options.UnknownPeerNoticesPerSecond, now, frequency))
                {
                    Counters.Increment(RelayCounter.DropUnknownPeerNoticeLimited);
                    return RelayAction.None;
                }

                Counters.Increment(RelayCounter.UnknownPeerNotices);
                return RelayAction.Reply(scratch[..new UnknownPeerFrame(token, destinationNode).Write(scratch)]);
            }

            destination = target.Link;
            source = session.Key;
        }

        Span<byte> recv = RecvFrame.RewriteSendInPlace(frame, source.AsSpan());
        Counters.Increment(RelayCounter.FramesForwarded);
        Counters.Add(RelayCounter.BytesForwarded, recv.Length);
        return RelayAction.Forward(recv, destination);
    }

    private RelayAction OnKeepalive(Span<byte> frame, in RelayLink from, Span<byte> scratch)
    {
        if (!TokenFrame.TryRead(frame, RelayFrameType.Keepalive, out ulong token))
        {
            Counters.Increment(RelayCounter.DropMalformed);
            return RelayAction.None;
        }

        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (!_byToken.TryGetValue(token, out RelaySession? session) || !session.Link.Equals(from))
            {
                return SessionUnknown(token, from, scratch);
            }

            if (!session.Packets.TryTake(1, _options.ClientPacketsPerSecond, _options.ClientPacketsPerSecond, now, _time.TimestampFrequency))
            {
                Counters.Increment(RelayCounter.DropPacketRateLimited);
                return RelayAction.None;
            }

            session.LastSeen = now;
        }

        Counters.Increment(RelayCounter.KeepalivesAnswered);
        return RelayAction.Reply(scratch[..TokenFrame.Write(scratch, RelayFrameType.KeepaliveAck, token)]);
    }

    /// <summary>Answers a frame whose token has no session on this link (rate limited per source address). Under the lock or not: touches no session.</summary>
    private RelayAction SessionUnknown(ulong token, in RelayLink from, Span<byte> scratch)
    {
        Counters.Increment(RelayCounter.DropUnknownSession);
        if (!AllowSource(_sessionUnknownLimiter, from))
        {
            Counters.Increment(RelayCounter.DropSessionUnknownRateLimited);
            return RelayAction.None;
        }

        Counters.Increment(RelayCounter.SessionUnknownSent);
        return RelayAction.Reply(scratch[..TokenFrame.Write(scratch, RelayFrameType.SessionUnknown, token)]);
    }

    private RelayAction OnHello(Span<byte> frame, in RelayLink from, Span<byte> scratch)
    {
        if (!ClientHelloFrame.TryRead(frame, out ClientHelloFrame hello))
        {
            Counters.Increment(RelayCounter.DropMalformed);
            return RelayAction.None;
        }

        if (_handshakeLimiter is not null && !AllowSource(_handshakeLimiter, from))
        {
            Counters.Increment(RelayCounter.DropHandshakeRateLimited);
            return RelayAction.None;
        }

        RelayNonce nonce = _challenges.Issue(hello.ClientKey, from);
        Counters.Increment(RelayCounter.ChallengesSent);
        var challenge = new ChallengeFrame(_relayKey, nonce, _time.GetUtcNow().ToUnixTimeMilliseconds());
        return RelayAction.Reply(scratch[..challenge.Write(scratch)]);
    }

    private RelayAction OnAuth(Span<byte> frame, in RelayLink from, Span<byte> scratch)
    {
        if (!AuthFrame.TryRead(frame, out AuthFrame auth))
        {
            Counters.Increment(RelayCounter.DropMalformed);
            return RelayAction.None;
        }

        if (_handshakeLimiter is not null && !AllowSource(_handshakeLimiter, from))
        {
            Counters.Increment(RelayCounter.DropHandshakeRateLimited);
            return RelayAction.None;
        }

        RelayNonce nonce = auth.Nonce;
        NodePublicKey client = auth.ClientKey;
        if (_challenges.Check(nonce, client, from, out long issued) != NonceCheck.Valid)
        {
            return Refuse(nonce, RelayRefusal.StaleChallenge, scratch);
        }

        lock (_gate)
        {
            if (_byKey.TryGetValue(client, out RelaySession? existing))
            {
                if (existing.Nonce == nonce && existing.Link.Equals(from))
                {
                    // The client's Welcome was lost and it repeated its Auth: same answer, no new session.
                    Counters.Increment(RelayCounter.WelcomesResent);
                    return Welcome(existing, scratch);
                }

                if (issued < existing.NonceIssued)
                {
                    return Refuse(nonce, RelayRefusal.StaleChallenge, scratch);
                }
            }
        }

        if (!MembershipCertificate.TryDecode(auth.Certificate, out MembershipCertificate? certificate, out _) || certificate.NodeKey != client)
        {
            return Refuse(nonce, RelayRefusal.BadCertificate, scratch);
        }

        NetworkRootPublicKey network = certificate.NetworkKey;
        if (!_networks.Contains(network))
        {
            return Refuse(nonce, RelayRefusal.NotMember, scratch);
        }

        if (!RelayProtocol.VerifyAuth(client, _relayKey, nonce, auth.Signature))
        {
            return Refuse(nonce, RelayRefusal.BadSignature, scratch);
        }

        CertificateValidation validation = certificate.Validate(network, _time.GetUtcNow(), _revocations.For(network));
        if (validation != CertificateValidation.Valid)
        {
            return Refuse(nonce, validation switch
            {
                CertificateValidation.Revoked => RelayRefusal.Revoked,
                CertificateValidation.Expired => RelayRefusal.Expired,
                CertificateValidation.NotYetValid => RelayRefusal.NotYetValid,
                CertificateValidation.WrongNetwork => RelayRefusal.NotMember,
                _ => RelayRefusal.BadCertificate,
            }, scratch);
        }

        long now = _time.GetTimestamp();
        lock (_gate)
        {
            _byKey.TryGetValue(client, out RelaySession? existing);
            if (existing is null && _byKey.Count >= _options.MaxClients)
            {
                return Refuse(nonce, RelayRefusal.ServerFull, scratch);
            }

            // A revocation may have landed while the signatures were checked; the store is updated before sessions
            // are dropped, so this look (under the lock) closes the gap.
            if (_revocations.IsRevoked(network, client))
            {
                return Refuse(nonce, RelayRefusal.Revoked, scratch);
            }

            if (existing is not null)
            {
                if (existing.Nonce == nonce && existing.Link.Equals(from))
                {
                    Counters.Increment(RelayCounter.WelcomesResent);
                    return Welcome(existing, scratch);
                }

                if (issued < existing.NonceIssued)
                {
                    return Refuse(nonce, RelayRefusal.StaleChallenge, scratch);
                }

                RemoveLocked(existing);
                Counters.Increment(RelayCounter.SessionsReplaced);
            }

            var session = new RelaySession(client, network, NewTokenLocked(), from, nonce, issued, certificate.ExpiresAt, now)
            {
                Packets = TokenBucket.Full(_options.ClientPacketsPerSecond, now),
                Bytes = TokenBucket.Full(_options.ClientBytesPerSecond, now),
                Notices = TokenBucket.Full(_options.UnknownPeerNoticesPerSecond, now),
                RevocationPushes = TokenBucket.Full(_options.RevocationPushesPerSecond * 5, now),
            };
            _byKey.Add(client, session);
            _byToken.Add(session.Token, session);
            if (from.Tcp is { } tcp)
            {
                _tcpSessions++;
                tcp.Session = session;
            }

            Counters.Increment(RelayCounter.AuthsAccepted);
            RelayLog.SessionStarted(_logger, client, from.ToString(), network);
            return Welcome(session, scratch);
        }
    }

    private RelayAction OnRevocationPush(Span<byte> frame, in RelayLink from, Span<byte> scratch)
    {
        if (!RevocationPushFrame.TryRead(frame, out RevocationPushFrame push))
        {
            Counters.Increment(RelayCounter.DropMalformed);
            return RelayAction.None;
        }

        long now = _time.GetTimestamp();
        NodePublicKey pusher;
        lock (_gate)
        {
            if (!_byToken.TryGetValue(push.Token, out RelaySession? session) || !session.Link.Equals(from))
            {
                return SessionUnknown(push.Token, from, scratch);
            }

            if (!session.RevocationPushes.TryTake(1, _options.RevocationPushesPerSecond, _options.RevocationPushesPerSecond * 5, now, _time.TimestampFrequency))
            {
                Counters.Increment(RelayCounter.DropRevocationRateLimited);
                return RelayAction.None;
            }

            session.LastSeen = now;
            pusher = session.Key;
        }

        RevocationAddResult result;
        Revocation? revocation;
        try
        {
            result = _revocations.TryAdd(push.Revocation, out revocation);
        }
        catch (IOException e)
        {
            // Enforced in memory already; only the file is behind. The next revocation saved rewrites it whole.
            RelayLog.RevocationSaveFailed(_logger, e.Message);
            result = RevocationAddResult.Added;
            Revocation.TryDecode(push.Revocation, out revocation, out _);
        }

        switch (result)
        {
            case RevocationAddResult.Added:
                Counters.Increment(RelayCounter.RevocationsAdded);
                RelayLog.RevocationAdded(_logger, revocation!.NodeKey, revocation.NetworkKey, pusher, revocation.Reason);
                DropRevoked(revocation.NetworkKey, revocation.NodeKey);
                break;
            case RevocationAddResult.Known:
                Counters.Increment(RelayCounter.RevocationsKnown);
                break;
            case RevocationAddResult.Foreign:
                Counters.Increment(RelayCounter.DropRevocationForeign);
                break;
            default:
                Counters.Increment(RelayCounter.DropRevocationInvalid);
                break;
        }

        return RelayAction.None;
    }

    /// <summary>
    /// A joiner's join message (no session needed): checked (a joiner's join message, nothing else), rate limited per
    /// source address and per channel, then forwarded in place as JoinRecv to the named inviter's session — only if
    /// that node is authenticated here in the named network — or answered with JoinUnreachable.
    /// </summary>
    private RelayAction OnJoinSend(Span<byte> frame, in RelayLink from, Span<byte> scratch)
    {
        if (!JoinSendFrame.TryRead(frame, out JoinSendFrame send))
        {
            // Not a join message from a joiner (any other payload, an inviter's type, too long): this is where the
            // relay refuses to carry anything but the join exchange for nodes without a session.
            Counters.Increment(RelayCounter.DropJoinMalformed);
            return RelayAction.None;
        }

        if (!AllowSource(_joinLimiter, from))
        {
            Counters.Increment(RelayCounter.DropJoinRateLimited);
            return RelayAction.None;
        }

        NetworkRootPublicKey network = send.Network;
        NodePublicKey inviter = send.Inviter;
        long now = _time.GetTimestamp();
        long frequency = _time.TimestampFrequency;
        RelayLink destination;
        ulong channelId;
        lock (_gate)
        {
            if (_joinByLink.TryGetValue(from, out JoinChannel? channel) && (channel.Network != network || channel.Inviter != inviter))
            {
                // The joiner turned to another network or inviter: the old channel goes (one channel per link).
                RemoveJoinLocked(channel);
                channel = null;
            }

            if (channel is null)
            {
                if (_joinById.Count >= _options.MaxJoinChannels)
                {
                    Counters.Increment(RelayCounter.DropJoinChannelsFull);
                    return RelayAction.None;
                }

                channel = new JoinChannel(NewJoinChannelIdLocked(), from, network, inviter, now)
                {
                    Messages = TokenBucket.Full(_options.JoinMessagesPerSecond * 2, now),
                    Notices = TokenBucket.Full(1, now),
                };
                _joinById.Add(channel.Id, channel);
                _joinByLink.Add(from, channel);
                Counters.Increment(RelayCounter.JoinChannelsOpened);
            }

            if (!channel.Messages.TryTake(1, _options.JoinMessagesPerSecond, _options.JoinMessagesPerSecond * 2, now, frequency))
            {
                Counters.Increment(RelayCounter.DropJoinRateLimited);
                return RelayAction.None;
            }

            channel.LastSeen = now;
            from.Tcp?.MarkJoinActivity();
            if (!_networks.Contains(network) || !_byKey.TryGetValue(inviter, out RelaySession? target) || target.Network != network)
            {
                if (!channel.Notices.TryTake(1, 1, 1, now, frequency))
                {
                    Counters.Increment(RelayCounter.DropJoinRateLimited);
                    return RelayAction.None;
                }

                Counters.Increment(RelayCounter.JoinUnreachableSent);
                return RelayAction.Reply(scratch[..new JoinUnreachableFrame(network, inviter).Write(scratch)]);
            }

            destination = target.Link;
            channelId = channel.Id;
        }

        Counters.Increment(RelayCounter.JoinMessagesForwarded);
        return RelayAction.Forward(JoinRecvFrame.RewriteSendInPlace(frame, channelId), destination);
    }

    /// <summary>The inviter's answer on a join channel: only from the channel's inviter (its session, on its link), only join messages of the inviter's kind, a bounded number per channel.</summary>
    private RelayAction OnJoinReply(Span<byte> frame, in RelayLink from, Span<byte> scratch)
    {
        if (!JoinReplyFrame.TryRead(frame, out JoinReplyFrame reply))
        {
            Counters.Increment(RelayCounter.DropJoinMalformed);
            return RelayAction.None;
        }

        long now = _time.GetTimestamp();
        RelayLink destination;
        lock (_gate)
        {
            if (!_byToken.TryGetValue(reply.Token, out RelaySession? session) || !session.Link.Equals(from))
            {
                return SessionUnknown(reply.Token, from, scratch);
            }

            if (!session.Packets.TryTake(1, _options.ClientPacketsPerSecond, _options.ClientPacketsPerSecond, now, _time.TimestampFrequency))
            {
                Counters.Increment(RelayCounter.DropPacketRateLimited);
                return RelayAction.None;
            }

            session.LastSeen = now;
            if (!_joinById.TryGetValue(reply.Channel, out JoinChannel? channel) || channel.Inviter != session.Key || channel.Network != session.Network)
            {
                Counters.Increment(RelayCounter.DropJoinUnknownChannel);
                return RelayAction.None;
            }

            if (channel.Replies >= _options.JoinRepliesPerChannel)
            {
                Counters.Increment(RelayCounter.DropJoinReplyBudget);
                return RelayAction.None;
            }

            channel.Replies++;
            channel.Joiner.Tcp?.MarkJoinActivity();
            destination = channel.Joiner;
        }

        Counters.Increment(RelayCounter.JoinRepliesForwarded);
        return RelayAction.Forward(JoinDeliverFrame.RewriteReplyInPlace(frame), destination);
    }

    private void RemoveJoinLocked(JoinChannel channel)
    {
        _joinById.Remove(channel.Id);
        _joinByLink.Remove(channel.Joiner);
    }

    private ulong NewJoinChannelIdLocked()
    {
        Span<byte> bytes = stackalloc byte[RelayProtocol.JoinChannelLength];
        while (true)
        {
            _random(bytes);
            ulong id = BinaryPrimitives.ReadUInt64BigEndian(bytes);
            if (id != 0 && !_joinById.ContainsKey(id))
            {
                return id;
            }
        }
    }

    private void DropRevoked(NetworkRootPublicKey network, NodePublicKey node)
    {
        lock (_gate)
        {
            if (_byKey.TryGetValue(node, out RelaySession? session) && session.Network == network)
            {
                RemoveLocked(session);
                Counters.Increment(RelayCounter.SessionsRevoked);
            }
        }
    }

    private RelayAction Refuse(RelayNonce nonce, RelayRefusal reason, Span<byte> scratch)
    {
        Counters.Increment(reason switch
        {
            RelayRefusal.NotMember => RelayCounter.RefusedNotMember,
            RelayRefusal.Revoked => RelayCounter.RefusedRevoked,
            RelayRefusal.Expired => RelayCounter.RefusedExpired,
            RelayRefusal.NotYetValid => RelayCounter.RefusedNotYetValid,
            RelayRefusal.BadSignature => RelayCounter.RefusedBadSignature,
            RelayRefusal.BadCertificate => RelayCounter.RefusedBadCertificate,
            RelayRefusal.StaleChallenge => RelayCounter.RefusedStaleChallenge,
            _ => RelayCounter.RefusedServerFull,
        });
        return RelayAction.Reply(scratch[..new RefusedFrame(nonce, reason).Write(scratch)]);
    }

    private RelayAction Welcome(RelaySession session, Span<byte> scratch)
    {
        var welcome = new WelcomeFrame(session.Nonce, session.Token, (ushort)_options.KeepaliveInterval.TotalSeconds, (ushort)_options.IdleTimeout.TotalSeconds);
        return RelayAction.Reply(scratch[..welcome.Write(scratch)]);
    }

    private void RemoveLocked(RelaySession session)
    {
        _byKey.Remove(session.Key);
        _byToken.Remove(session.Token);
        if (session.Link.Tcp is { } tcp)
        {
            _tcpSessions--;
            if (ReferenceEquals(tcp.Session, session))
            {
                tcp.Session = null;
            }
        }
    }

    private ulong NewTokenLocked()
    {
        Span<byte> bytes = stackalloc byte[RelayProtocol.TokenLength];
        while (true)
        {
            _random(bytes);
            ulong token = BinaryPrimitives.ReadUInt64BigEndian(bytes);
            if (token != 0 && !_byToken.ContainsKey(token))
            {
                return token;
            }
        }
    }

    private static bool AllowSource(TokenBucketRateLimiter limiter, in RelayLink from)
    {
        Span<byte> address = stackalloc byte[16];
        int length = from.Endpoint.WriteAddressBytes(address);
        return limiter.Allow(address[..length]);
    }
}
