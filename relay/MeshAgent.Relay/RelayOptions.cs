using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Trust;

namespace MeshAgent.Relay;

/// <summary>
/// Everything a relay runs with (STYLE rule 14: one options type, documented defaults, validated at load with all
/// errors listed by key). Keys in <see cref="Validate"/> messages are the config-file keys, which are also the
/// command-line option names (<c>--listen</c>, <c>--max-clients</c>, …).
/// </summary>
public sealed record RelayOptions
{
    public const int DefaultPort = 3478;

    /// <summary>UDP endpoints: relay frames and (through the hook) STUN. Key <c>listen</c>, repeatable. At least one.</summary>
    public IReadOnlyList<IPEndPoint> Listen { get; init; } = [];

    /// <summary>TCP endpoints of the stream relay, for clients whose network blocks UDP. Key <c>tcp-listen</c>, repeatable. Optional.</summary>
    public IReadOnlyList<IPEndPoint> TcpListen { get; init; } = [];

    /// <summary>Root keys of the networks served (several networks may share a relay). Key <c>accept-root</c>, repeatable. At least one.</summary>
    public IReadOnlyList<NetworkRootPublicKey> AcceptedRoots { get; init; } = [];

    /// <summary>Holds <c>relay.key</c> and <c>revocations</c>. Key <c>state-dir</c>. Default /var/lib/meshrelay.</summary>
    public string StateDirectory { get; init; } = "/var/lib/meshrelay";

    /// <summary>
    /// Most authenticated clients at once (key <c>max-clients</c>, default 10,000); further Auths are refused with
    /// ServerFull. Memory per client is a few hundred bytes (UDP) or about 4 KiB plus its queue (TCP).
    /// </summary>
    public int MaxClients { get; init; } = 10_000;

    /// <summary>Frames per second a client may send (key <c>client-packets-per-second</c>, default 10,000); bursts of one second's worth.</summary>
    public int ClientPacketsPerSecond { get; init; } = 10_000;

    /// <summary>Bytes per second a client may send (key <c>client-bytes-per-second</c>, default 12,500,000 = 100 Mbit/s); bursts of one second's worth.</summary>
    public long ClientBytesPerSecond { get; init; } = 12_500_000;

    /// <summary>A session that sent nothing (not even a keepalive) for this long is dropped. Key <c>idle-timeout</c> (seconds), default 60.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Keepalive interval announced in Welcome; well under <see cref="IdleTimeout"/> and under common 30 s NAT UDP timeouts. Default 25 s.</summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>How long a challenge nonce may be answered. Default 15 s (a few Auth retries on a slow path).</summary>
    public TimeSpan ChallengeLifetime { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Bound on bytes queued towards one TCP client (key <c>tcp-queue-bytes</c>, default 256 KiB): a slow reader loses frames, not the relay's memory.</summary>
    public int TcpMaxQueuedBytes { get; init; } = 256 * 1024;

    /// <summary>A TCP connection without a session for this long is closed. Default 10 s.</summary>
    public TimeSpan TcpHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>TCP connections beyond <see cref="MaxClients"/> allowed to be mid-handshake. Default 1,024.</summary>
    public int MaxPendingTcpConnections { get; init; } = 1024;

    /// <summary>
    /// Limit ClientHello and Auth per source address (WireGuard's handshake bucket: 20/s, bursts of 5; IPv6 per
    /// /64). Default on; off only for tests that run thousands of clients from one address.
    /// </summary>
    public bool HandshakeRateLimit { get; init; } = true;

    /// <summary>UnknownPeer notices per second per client (bursts of as many). Default 5.</summary>
    public int UnknownPeerNoticesPerSecond { get; init; } = 5;

    /// <summary>New (not yet held) revocations a client may push per second; each costs a signature check. Default 20 (bursts of 100).</summary>
    public int RevocationPushesPerSecond { get; init; } = 20;

    /// <summary>
    /// Join channels (unauthenticated joiners talking to an inviter through this relay, RelayProtocol "Joining through
    /// the relay") open at once; a JoinSend that would open one more is dropped. Default 1,024.
    /// </summary>
    public int MaxJoinChannels { get; init; } = 1024;

    /// <summary>Join messages per second one join channel may carry from its joiner, in bursts of twice as many. Default 4 (a joiner retransmits once a second).</summary>
    public int JoinMessagesPerSecond { get; init; } = 4;

    /// <summary>A join channel without a message from its joiner for this long is closed. Default 30 s (the agent gives up on a join after 20 s).</summary>
    public TimeSpan JoinChannelIdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A join channel is closed this long after it opened, however busy. Default 2 minutes.</summary>
    public TimeSpan JoinChannelLifetime { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Replies (JoinReply) the inviter may send on one channel; a join takes two, plus retransmissions. Default 16.</summary>
    public int JoinRepliesPerChannel { get; init; } = 16;

    /// <summary>Datagrams per recvmmsg/sendmmsg batch. Default 64.</summary>
    public int UdpBatchSize { get; init; } = 64;

    /// <summary>Summary log line interval. Default one minute.</summary>
    public TimeSpan SummaryInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often idle and expired sessions are swept. Default 5 s.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Every problem, as "key: what is wrong — what to do"; empty when the options can run.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Listen.Count == 0)
        {
            errors.Add("listen: no UDP endpoint — give at least one, e.g. --listen 0.0.0.0:3478");
        }

        CheckEndpoints("listen", Listen, errors);
        CheckEndpoints("tcp-listen", TcpListen, errors);
        if (AcceptedRoots.Count == 0)
        {
            errors.Add("accept-root: no network root key — give the root public key (meshroot1:…) of every network this relay serves");
        }

        foreach (NetworkRootPublicKey duplicate in AcceptedRoots.GroupBy(r => r).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            errors.Add($"accept-root: {duplicate} is given more than once");
        }

        if (string.IsNullOrWhiteSpace(StateDirectory))
        {
            errors.Add("state-dir: empty — give a directory for the relay key and revocations, e.g. /var/lib/meshrelay");
        }

        Positive("max-clients", MaxClients);
        Positive("client-packets-per-second", ClientPacketsPerSecond);
        Positive("client-bytes-per-second", ClientBytesPerSecond);
        Positive("unknown-peer-notices-per-second", UnknownPeerNoticesPerSecond);
        Positive("revocation-pushes-per-second", RevocationPushesPerSecond);
        Positive("udp-batch-size", UdpBatchSize);
        if (MaxPendingTcpConnections < 0)
        {
            errors.Add($"max-pending-tcp-connections: {MaxPendingTcpConnections} is negative");
        }

        if (MaxJoinChannels < 0 || JoinMessagesPerSecond < 1 || JoinRepliesPerChannel < 1)
        {
            errors.Add($"join limits: max-join-channels {MaxJoinChannels} must be ≥ 0 (0 turns joining through this relay off), join-messages-per-second {JoinMessagesPerSecond} and join-replies-per-channel {JoinRepliesPerChannel} ≥ 1");
        }

        if (JoinChannelIdleTimeout <= TimeSpan.Zero || JoinChannelLifetime < JoinChannelIdleTimeout)
        {
            errors.Add($"join-channel-idle-timeout ({JoinChannelIdleTimeout}) must be positive and at most join-channel-lifetime ({JoinChannelLifetime})");
        }

        if (TcpMaxQueuedBytes < 2 + Core.Relay.RelayProtocol.MaxFrameLength)
        {
            errors.Add($"tcp-queue-bytes: {TcpMaxQueuedBytes} cannot hold one largest frame — give at least {2 + Core.Relay.RelayProtocol.MaxFrameLength}");
        }

        if (IdleTimeout < TimeSpan.FromSeconds(1) || IdleTimeout.TotalSeconds > ushort.MaxValue)
        {
            errors.Add($"idle-timeout: {IdleTimeout.TotalSeconds} s is out of range (1..{ushort.MaxValue})");
        }

        if (KeepaliveInterval < TimeSpan.FromSeconds(1) || KeepaliveInterval >= IdleTimeout)
        {
            errors.Add($"keepalive-interval: {KeepaliveInterval.TotalSeconds} s must be at least 1 s and shorter than the idle timeout ({IdleTimeout.TotalSeconds} s)");
        }

        foreach ((string key, TimeSpan value) in new[] { ("challenge-lifetime", ChallengeLifetime), ("tcp-handshake-timeout", TcpHandshakeTimeout), ("summary-interval", SummaryInterval), ("sweep-interval", SweepInterval) })
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{key}: {value} must be positive");
            }
        }

        return errors;

        void Positive(string key, long value)
        {
            if (value <= 0)
            {
                errors.Add($"{key}: {value} must be positive");
            }
        }
    }

    private static void CheckEndpoints(string key, IReadOnlyList<IPEndPoint> endpoints, List<string> errors)
    {
        foreach (IPEndPoint endpoint in endpoints)
        {
            if (endpoint.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                errors.Add($"{key}: {endpoint} is not an IPv4 or IPv6 endpoint");
            }
        }

        foreach (IPEndPoint duplicate in endpoints.Where(e => e.Port != 0).GroupBy(e => e).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            errors.Add($"{key}: {duplicate} is given more than once");
        }
    }
}
