using System.Globalization;
using System.Text;

namespace MeshAgent.Core.Config;

/// <summary>
/// A wg-quick(8) configuration file: the wg(8) <c>setconf</c> format (<c>[Interface]</c> with
/// PrivateKey, ListenPort, FwMark; any number of <c>[Peer]</c> with PublicKey, PresharedKey,
/// Endpoint, AllowedIPs, PersistentKeepalive) plus the wg-quick additions Address and MTU.
/// The other wg-quick additions (DNS, Table, PreUp, PostUp, PreDown, PostDown, SaveConfig) and
/// FwMark are accepted and listed in <see cref="IgnoredKeys"/>, so a file written for wg-quick
/// loads and the caller can say what has no effect.
/// </summary>
/// <remarks>
/// Syntax follows wireguard-tools config.c and wg-quick: keys and section names are
/// case-insensitive, '#' starts a comment anywhere on a line, whitespace around and inside wg
/// values is insignificant, Address and AllowedIPs may repeat and accumulate, a later single-valued
/// key overrides an earlier one (with a warning). Stricter than wg in a few places that are almost
/// always mistakes: a second [Interface] section, a duplicate peer PublicKey, a missing PrivateKey,
/// AllowedIPs separated by spaces or with empty entries. Every error is collected with its line
/// instead of stopping at the first.
/// </remarks>
public sealed class WgQuickConfig
{
    public string SourceName { get; init; } = "(config)";

    public required WireGuardPrivateKey PrivateKey { get; init; }

    /// <summary>UDP port to listen on; null (absent) or 0 means pick a random free port.</summary>
    public int? ListenPort { get; init; }

    /// <summary>Firewall mark for outgoing UDP (0 = off). Parsed and kept for <see cref="ToWgSetConf"/>; the agent does not apply it.</summary>
    public uint? FwMark { get; init; }

    /// <summary>wg-quick Address entries, host bits kept.</summary>
    public IReadOnlyList<InterfaceAddress> Addresses { get; init; } = [];

    /// <summary>wg-quick MTU; null means the caller chooses (wg-quick: route MTU minus 80).</summary>
    public int? Mtu { get; init; }

    public IReadOnlyList<WgQuickPeer> Peers { get; init; } = [];

    /// <summary>wg-quick keys accepted without effect, in file order. Warn about each.</summary>
    public IReadOnlyList<IgnoredKey> IgnoredKeys { get; init; } = [];

    /// <summary>Accepted oddities (host bits masked, repeated keys, shared AllowedIPs). Log each.</summary>
    public IReadOnlyList<ConfigWarning> Warnings { get; init; } = [];

    /// <summary>
    /// Parses <paramref name="text"/>. Never throws on any text: on failure
    /// <paramref name="config"/> is null and <paramref name="errors"/> lists every problem found,
    /// in line order, each naming the line, the input and what to change. Values of secret keys
    /// are never echoed into messages.
    /// </summary>
    /// <param name="sourceName">File name or label used in messages, e.g. "/etc/wireguard/wg0.conf".</param>
    public static bool TryParse(string text, string sourceName, out WgQuickConfig? config, out IReadOnlyList<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sourceName);
        return new WgQuickParser(sourceName).TryParse(text, out config, out errors);
    }

    /// <summary>Parses or throws <see cref="ConfigException"/> whose message lists all errors.</summary>
    public static WgQuickConfig Parse(string text, string sourceName)
    {
        if (!TryParse(text, sourceName, out WgQuickConfig? config, out IReadOnlyList<ConfigError> errors))
        {
            throw new ConfigException(sourceName, errors);
        }

        return config!;
    }

    /// <summary>
    /// The <c>wg setconf</c> form, as <c>wg-quick strip</c> prints it: PrivateKey, ListenPort,
    /// FwMark and the peers, without Address, MTU or the wg-quick-only keys, so wg(8) and
    /// wireguard-go accept it. Host-name endpoints stay names (wg resolves them).
    /// Contains the private key: the caller owns the secrecy of the result.
    /// </summary>
    public string ToWgSetConf() => Write(includeWgQuickKeys: false);

    /// <summary>
    /// The wg-quick(8) form: <see cref="ToWgSetConf"/> plus Address and MTU (ignored keys are not
    /// written back). For handing a configuration to a stock WireGuard client. Contains the private key.
    /// </summary>
    public string ToWgQuickConf() => Write(includeWgQuickKeys: true);

    private string Write(bool includeWgQuickKeys)
    {
        var text = new StringBuilder();
        text.Append("[Interface]\n");
        text.Append("PrivateKey = ").Append(PrivateKey.RevealBase64()).Append('\n');
        if (ListenPort is int port)
        {
            text.Append("ListenPort = ").Append(port.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        if (FwMark is uint mark && mark != 0)
        {
            text.Append("FwMark = 0x").Append(mark.ToString("x", CultureInfo.InvariantCulture)).Append('\n');
        }

        if (includeWgQuickKeys)
        {
            if (Addresses.Count > 0)
            {
                text.Append("Address = ").AppendJoin(", ", Addresses).Append('\n');
            }

            if (Mtu is int mtu)
            {
                text.Append("MTU = ").Append(mtu.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        foreach (WgQuickPeer peer in Peers)
        {
            text.Append("\n[Peer]\n");
            text.Append("PublicKey = ").Append(peer.PublicKey.ToBase64()).Append('\n');
            if (peer.PresharedKey is PresharedKey psk)
            {
                text.Append("PresharedKey = ").Append(psk.RevealBase64()).Append('\n');
            }

            if (peer.AllowedIPs.Count > 0)
            {
                text.Append("AllowedIPs = ").AppendJoin(", ", peer.AllowedIPs).Append('\n');
            }

            if (peer.Endpoint is not null)
            {
                text.Append("Endpoint = ").Append(peer.Endpoint).Append('\n');
            }

            if (peer.PersistentKeepalive != 0)
            {
                text.Append("PersistentKeepalive = ").Append(peer.PersistentKeepalive.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        return text.ToString();
    }
}
