using MeshAgent.Core.Trust;

namespace MeshAgent.Engine.Relay;

/// <summary>Timers and bounds of <see cref="RelayClient"/> and <see cref="TcpRelayClient"/>. Defaults are the agent's choice.</summary>
public sealed record RelayClientOptions
{
    /// <summary>First wait for a Challenge before ClientHello is sent again; doubles per attempt (with ±20% jitter) up to <see cref="HelloRetryMax"/>.</summary>
    public TimeSpan HelloRetryInitial { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan HelloRetryMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Wait for Welcome before the same Auth is sent again.</summary>
    public TimeSpan AuthRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Auth sends per challenge before starting over with ClientHello (a challenge expires on the relay after a few seconds).</summary>
    public int AuthAttempts { get; init; } = 3;

    /// <summary>
    /// Upper bound on the keepalive interval; the relay's Welcome may ask for a shorter one. 25 s keeps NAT UDP
    /// mappings (often 30 s) and the relay's 60 s idle timer alive, as wg(8) suggests for persistent keepalive.
    /// </summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>Wait for KeepaliveAck before the keepalive is repeated.</summary>
    public TimeSpan KeepaliveTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Unanswered keepalives in a row after which the session is presumed lost and the client authenticates again.</summary>
    public int KeepaliveAttempts { get; init; } = 3;

    /// <summary>First wait after a refusal (other than a stale challenge) before trying again; doubles up to <see cref="RefusedRetryMax"/>.</summary>
    public TimeSpan RefusedRetryInitial { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan RefusedRetryMax { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// When set, challenges naming another relay key are ignored, so this client's Auth proofs are only ever made
    /// for that relay. Null (the default) accepts the key the relay presents (join tokens carry relay addresses,
    /// not keys).
    /// </summary>
    public NodePublicKey? ExpectedRelayKey { get; init; }

    /// <summary>
    /// True (default): the client runs its own timer (<see cref="TimeProvider.CreateTimer"/>) for retries and
    /// keepalives. False: the owner calls <see cref="RelayClient.Tick"/> (tests with a manual clock; an agent loop).
    /// </summary>
    public bool OwnTimer { get; init; } = true;

    /// <summary>TCP only: first wait before reconnecting after the connection failed; doubles (±20%) up to <see cref="ReconnectMax"/>.</summary>
    public TimeSpan ReconnectInitial { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconnectMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>TCP only: how long a connection attempt may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>TCP only: bound on bytes queued for the relay; beyond it frames are dropped and counted.</summary>
    public int MaxQueuedBytes { get; init; } = 256 * 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming every setting out of range.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        Positive(HelloRetryInitial, nameof(HelloRetryInitial));
        Positive(AuthRetryInterval, nameof(AuthRetryInterval));
        Positive(KeepaliveInterval, nameof(KeepaliveInterval));
        Positive(KeepaliveTimeout, nameof(KeepaliveTimeout));
        Positive(RefusedRetryInitial, nameof(RefusedRetryInitial));
        Positive(ReconnectInitial, nameof(ReconnectInitial));
        Positive(ConnectTimeout, nameof(ConnectTimeout));
        if (HelloRetryMax < HelloRetryInitial)
        {
            errors.Add($"{nameof(HelloRetryMax)} ({HelloRetryMax}) is less than {nameof(HelloRetryInitial)} ({HelloRetryInitial})");
        }

        if (RefusedRetryMax < RefusedRetryInitial)
        {
            errors.Add($"{nameof(RefusedRetryMax)} ({RefusedRetryMax}) is less than {nameof(RefusedRetryInitial)} ({RefusedRetryInitial})");
        }

        if (ReconnectMax < ReconnectInitial)
        {
            errors.Add($"{nameof(ReconnectMax)} ({ReconnectMax}) is less than {nameof(ReconnectInitial)} ({ReconnectInitial})");
        }

        if (AuthAttempts < 1)
        {
            errors.Add($"{nameof(AuthAttempts)} must be at least 1, got {AuthAttempts}");
        }

        if (KeepaliveAttempts < 1)
        {
            errors.Add($"{nameof(KeepaliveAttempts)} must be at least 1, got {KeepaliveAttempts}");
        }

        if (MaxQueuedBytes < 2 + Core.Relay.RelayProtocol.MaxFrameLength)
        {
            errors.Add($"{nameof(MaxQueuedBytes)} must hold one largest frame ({2 + Core.Relay.RelayProtocol.MaxFrameLength} bytes), got {MaxQueuedBytes}");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid relay client options: " + string.Join("; ", errors));
        }

        void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{name} must be positive, got {value}");
            }
        }
    }
}
