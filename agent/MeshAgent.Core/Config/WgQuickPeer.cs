using System.Net;

namespace MeshAgent.Core.Config;

/// <summary>One <c>[Peer]</c> section of a wg-quick(8) / wg(8) configuration.</summary>
public sealed class WgQuickPeer
{
    public required WireGuardPublicKey PublicKey { get; init; }

    /// <summary>Null when the section has no PresharedKey (WireGuard then uses 32 zero bytes).</summary>
    public PresharedKey? PresharedKey { get; init; }

    /// <summary>Null when the peer has no fixed endpoint (it roams to us; we learn it from its packets).</summary>
    public PeerEndpoint? Endpoint { get; init; }

    /// <summary>
    /// Cryptokey routing prefixes, in file order, host bits already cleared, duplicates removed.
    /// Empty means the peer may send and receive nothing.
    /// </summary>
    public IReadOnlyList<IPNetwork> AllowedIPs { get; init; } = [];

    /// <summary>Seconds between keepalives when idle, 1..65535; 0 means off (the default).</summary>
    public ushort PersistentKeepalive { get; init; }

    /// <summary>Line of the <c>[Peer]</c> header when parsed from text; null when built in code.</summary>
    public int? Line { get; init; }
}
