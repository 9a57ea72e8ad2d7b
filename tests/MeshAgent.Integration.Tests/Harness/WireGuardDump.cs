using System.Globalization;
using System.Net;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>One peer line of <c>wg show &lt;dev&gt; dump</c>.</summary>
/// <param name="PresharedKey">Null when "(none)".</param>
/// <param name="Endpoint">Null when "(none)" (no endpoint configured or learned yet).</param>
/// <param name="LatestHandshake">Null when 0 (never).</param>
/// <param name="PersistentKeepalive">Seconds; null when "off".</param>
public sealed record WireGuardPeerStatus(
    string PublicKey,
    string? PresharedKey,
    IPEndPoint? Endpoint,
    IReadOnlyList<string> AllowedIps,
    DateTimeOffset? LatestHandshake,
    long RxBytes,
    long TxBytes,
    int? PersistentKeepalive);

/// <summary>
/// Parsed <c>wg show &lt;dev&gt; dump</c> (wg(8)): a tab-separated interface line
/// "private-key public-key listen-port fwmark", then one line per peer
/// "public-key preshared-key endpoint allowed-ips latest-handshake transfer-rx transfer-tx persistent-keepalive".
/// </summary>
public sealed record WireGuardDump(string PrivateKey, string PublicKey, int ListenPort, string Fwmark, IReadOnlyList<WireGuardPeerStatus> Peers)
{
    /// <summary>The peer with <paramref name="publicKey"/>; throws listing the peers present if absent.</summary>
    public WireGuardPeerStatus Peer(string publicKey)
        => Peers.FirstOrDefault(p => p.PublicKey == publicKey)
            ?? throw new KeyNotFoundException($"no peer {publicKey} in wg dump (peers: {string.Join(", ", Peers.Select(p => p.PublicKey))})");

    /// <summary>Parses dump output; throws <see cref="FormatException"/> quoting the bad line.</summary>
    public static WireGuardDump Parse(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0)
        {
            throw new FormatException("empty wg dump");
        }
        var device = Fields(lines[0], 4);
        var peers = lines.Skip(1).Select(line =>
        {
            var f = Fields(line, 8);
            var handshake = long.Parse(f[4], CultureInfo.InvariantCulture);
            return new WireGuardPeerStatus(
                f[0],
                None(f[1]),
                None(f[2]) is { } endpoint ? IPEndPoint.Parse(endpoint) : null,
                None(f[3]) is { } allowed ? allowed.Split(',') : [],
                handshake == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(handshake),
                long.Parse(f[5], CultureInfo.InvariantCulture),
                long.Parse(f[6], CultureInfo.InvariantCulture),
                f[7] == "off" ? null : int.Parse(f[7], CultureInfo.InvariantCulture));
        }).ToList();
        return new WireGuardDump(device[0], device[1], int.Parse(device[2], CultureInfo.InvariantCulture), device[3], peers);
    }

    private static string[] Fields(string line, int count)
    {
        var fields = line.TrimEnd('\r').Split('\t');
        if (fields.Length != count)
        {
            throw new FormatException($"wg dump line has {fields.Length} tab-separated fields, expected {count}: '{line}'");
        }
        return fields;
    }

    private static string? None(string field) => field == "(none)" ? null : field;
}
