using System.Globalization;
using System.Net;
using System.Text;
using MeshAgent.Integration.Tests.Harness;

namespace MeshAgent.Integration.Tests.StaticMode;

/// <summary>Extras of one generated wg-quick file (see <see cref="StaticNode.WgQuickConfig"/>).</summary>
public sealed record WgQuickOptions
{
    /// <summary>The peer's underlay endpoint; null writes no Endpoint (it is learned from the peer's handshake).</summary>
    public IPEndPoint? PeerEndpoint { get; init; }

    public int Mtu { get; init; } = 1420;

    /// <summary>A wg-quick DNS line: meshagent ignores it (with a warning), <c>wg</c> must never see it.</summary>
    public string? Dns { get; init; }

    /// <summary>Seconds; 0 writes no PersistentKeepalive.</summary>
    public int PersistentKeepalive { get; init; }

    /// <summary>More AllowedIPs for the peer besides its overlay /32 and /128, e.g. "10.78.0.0/16".</summary>
    public IReadOnlyList<string> ExtraAllowedIps { get; init; } = [];
}

/// <summary>
/// One side of a generated static tunnel: keys made by <c>wg genkey</c>/<c>wg pubkey</c> (so the
/// tests never depend on our own Curve25519 for the keys they check), a fixed UDP port, and
/// overlay addresses 10.77.0.<see cref="Number"/>/24 and fd77::<see cref="Number"/>/64.
/// </summary>
public sealed record StaticNode(int Number, string PrivateKey, string PublicKey, int ListenPort)
{
    public IPAddress OverlayIpv4 { get; } = IPAddress.Parse($"10.77.0.{Number}");

    public IPAddress OverlayIpv6 { get; } = IPAddress.Parse($"fd77::{Number:x}");

    /// <summary>Generates a node; <paramref name="number"/> is 1-254.</summary>
    public static async Task<StaticNode> GenerateAsync(int number, int listenPort)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(number, 254);
        string privateKey = await WireGuardKeys.GeneratePrivateKeyAsync();
        return new StaticNode(number, privateKey, await WireGuardKeys.PublicKeyAsync(privateKey), listenPort);
    }

    /// <summary>
    /// This node's wg-quick(8) file with <paramref name="peer"/> as its only [Peer]: the format
    /// wg-quick reads (comments, Address and MTU lines, comma lists). Contains the private key.
    /// </summary>
    public string WgQuickConfig(StaticNode peer, WgQuickOptions? options = null)
    {
        options ??= new WgQuickOptions();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# meshagent integration test: node {Number} ({OverlayIpv4}) <-> node {peer.Number} ({peer.OverlayIpv4})\n");
        text.Append("[Interface]\n");
        text.Append(CultureInfo.InvariantCulture, $"PrivateKey = {PrivateKey}\n");
        text.Append(CultureInfo.InvariantCulture, $"ListenPort = {ListenPort}\n");
        text.Append(CultureInfo.InvariantCulture, $"Address = {OverlayIpv4}/24, {OverlayIpv6}/64\n");
        text.Append(CultureInfo.InvariantCulture, $"MTU = {options.Mtu}\n");
        if (options.Dns is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"DNS = {options.Dns}\n");
        }

        text.Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"[Peer]  # node {peer.Number}\n");
        text.Append(CultureInfo.InvariantCulture, $"PublicKey = {peer.PublicKey}\n");
        text.Append("AllowedIPs = ").AppendJoin(", ", [$"{peer.OverlayIpv4}/32", $"{peer.OverlayIpv6}/128", .. options.ExtraAllowedIps]).Append('\n');
        if (options.PeerEndpoint is { } endpoint)
        {
            // IPEndPoint writes IPv6 as "[addr]:port", the form wg-quick expects.
            text.Append(CultureInfo.InvariantCulture, $"Endpoint = {endpoint}\n");
        }

        if (options.PersistentKeepalive > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"PersistentKeepalive = {options.PersistentKeepalive}\n");
        }

        return text.ToString();
    }
}

/// <summary>Two <see cref="StaticNode"/>s that will be each other's peer: node 1 (port 51820) and node 2 (port 51821).</summary>
public sealed record StaticConfigPair(StaticNode A, StaticNode B)
{
    public static async Task<StaticConfigPair> GenerateAsync()
        => new(await StaticNode.GenerateAsync(1, 51820), await StaticNode.GenerateAsync(2, 51821));

    /// <summary>A's wg-quick file (peer B).</summary>
    public string ConfigA(WgQuickOptions? options = null) => A.WgQuickConfig(B, options);

    /// <summary>B's wg-quick file (peer A).</summary>
    public string ConfigB(WgQuickOptions? options = null) => B.WgQuickConfig(A, options);
}
