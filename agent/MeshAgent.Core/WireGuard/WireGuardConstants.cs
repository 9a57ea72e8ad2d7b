namespace MeshAgent.Core.WireGuard;

/// <summary>
/// Protocol constants of WireGuard. A stock peer enforces the same numbers, so changing any
/// of them breaks interoperability (protocol-and-performance notes §4.6 item 9).
/// Sources: the WireGuard whitepaper (Donenfeld, NDSS 2017) §6 "Timers &amp; Stateful
/// Behavior" (constants table) and §5.4 (messages), and wireguard-go <c>device/constants.go</c>, <c>device/noise-protocol.go</c>,
/// <c>device/cookie.go</c>.
/// </summary>
public static class WireGuardConstants
{
    /// <summary>Start a new handshake after sending this many messages on one keypair.
    /// Whitepaper §6 Rekey-After-Messages; wireguard-go constants.go <c>RekeyAfterMessages = 1 &lt;&lt; 60</c>.</summary>
    public const ulong RekeyAfterMessages = 1UL << 60;

    /// <summary>Never send or accept a counter at or above this value (2^64 − 2^13 − 1); the 2^13
    /// margin keeps the replay window (RFC 6479) from wrapping. Whitepaper §6 Reject-After-Messages;
    /// wireguard-go constants.go <c>RejectAfterMessages = (1 &lt;&lt; 64) - (1 &lt;&lt; 13) - 1</c>.</summary>
    public const ulong RejectAfterMessages = ulong.MaxValue - (1UL << 13);

    /// <summary>The initiator of a keypair starts a new handshake when the keypair is this old and it sends.
    /// Whitepaper §6 Rekey-After-Time; wireguard-go constants.go.</summary>
    public static readonly TimeSpan RekeyAfterTime = TimeSpan.FromSeconds(120);

    /// <summary>A keypair older than this is neither used to send nor to receive.
    /// Whitepaper §6 Reject-After-Time; wireguard-go constants.go.</summary>
    public static readonly TimeSpan RejectAfterTime = TimeSpan.FromSeconds(180);

    /// <summary>Give up retrying a handshake after this long (the queued packets are dropped).
    /// Whitepaper §6 Rekey-Attempt-Time; wireguard-go constants.go.</summary>
    public static readonly TimeSpan RekeyAttemptTime = TimeSpan.FromSeconds(90);

    /// <summary>Retransmit a handshake initiation that got no response after this long (plus jitter).
    /// Whitepaper §6 Rekey-Timeout; wireguard-go constants.go.</summary>
    public static readonly TimeSpan RekeyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Upper bound of the random jitter added to <see cref="RekeyTimeout"/> so that two peers
    /// do not retransmit in lockstep. Whitepaper §6 (random jitter on retransmission); wireguard-go timers.go
    /// <c>rand % 334 ms</c>, i.e. jitter in [0, 334) ms.</summary>
    public static readonly TimeSpan RekeyTimeoutJitterMax = TimeSpan.FromMilliseconds(334);

    /// <summary>Passive keepalive: send an empty transport message if data was received but nothing
    /// was sent for this long. Whitepaper §6 Keepalive-Timeout; wireguard-go constants.go.</summary>
    public static readonly TimeSpan KeepaliveTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The responder re-randomises its cookie secret this often, and a received cookie is
    /// usable this long. Whitepaper §5.4.7 (cookie reply); wireguard-go constants.go <c>CookieRefreshTime</c>.</summary>
    public static readonly TimeSpan CookieRefreshTime = TimeSpan.FromSeconds(120);

    /// <summary>A responder ignores an initiation arriving sooner than this after the last one it
    /// consumed from the same peer ("handshake flood"). wireguard-go constants.go
    /// <c>HandshakeInitationRate = time.Second / 50</c> (sic).</summary>
    public static readonly TimeSpan HandshakeInitiationRate = TimeSpan.FromMilliseconds(20);

    /// <summary>The responder is "under load" (mac2 required, cookie replies sent) once this many
    /// handshake messages are queued. wireguard-go device.go <c>IsUnderLoad</c>:
    /// <c>QueueHandshakeSize / 8</c> with <c>QueueHandshakeSize = 1024</c> (queueconstants_default.go).</summary>
    public const int UnderLoadQueueSize = 1024 / 8;

    /// <summary>Once under load, the state stays latched for this long after the queue drains.
    /// wireguard-go constants.go <c>UnderLoadAfterTime</c>.</summary>
    public static readonly TimeSpan UnderLoadAfterTime = TimeSpan.FromSeconds(1);

    /// <summary>Peers per device; wireguard-go constants.go <c>MaxPeers = 1 &lt;&lt; 16</c>.</summary>
    public const int MaxPeers = 1 << 16;

    /// <summary>Default TUN MTU: 1500 minus the 80 bytes of outer IPv6 (40) + UDP (8) + WireGuard
    /// header and tag (32). wireguard-go <c>device/tun.go</c> <c>DefaultMTU</c>.</summary>
    public const int DefaultMtu = 1420;

    /// <summary>Noise protocol name; its BLAKE2s hash is the initial chaining key.
    /// Whitepaper §5.4 "Construction"; wireguard-go noise-protocol.go <c>NoiseConstruction</c>.</summary>
    public static ReadOnlySpan<byte> Construction => "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8;

    /// <summary>Mixed into the hash after the construction (the Noise prologue).
    /// Whitepaper §5.4 "Identifier"; wireguard-go noise-protocol.go <c>WGIdentifier</c>.</summary>
    public static ReadOnlySpan<byte> Identifier => "WireGuard v1 zx2c4 Jason@zx2c4.com"u8;

    /// <summary>mac1 key = HASH(LabelMac1 ‖ responder static public key). Whitepaper §5.4.4 (cookie MACs);
    /// wireguard-go noise-protocol.go <c>WGLabelMAC1</c>.</summary>
    public static ReadOnlySpan<byte> LabelMac1 => "mac1----"u8;

    /// <summary>Cookie encryption key = HASH(LabelCookie ‖ responder static public key). Whitepaper §5.4.7 (cookie reply);
    /// wireguard-go noise-protocol.go <c>WGLabelCookie</c>.</summary>
    public static ReadOnlySpan<byte> LabelCookie => "cookie--"u8;
}
