using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MeshAgent.Core.Net;

namespace MeshAgent.Core.Config;

/// <summary>
/// Line parser behind <see cref="WgQuickConfig.TryParse"/>. One instance per parse; not thread-safe.
/// </summary>
/// <remarks>
/// Total over all input: every branch either records a value, a warning or an error, so that a
/// file with ten mistakes is fixed in one round trip. Secret values (PrivateKey, PresharedKey)
/// are never quoted in messages, and any long base64-looking run in quoted text is masked,
/// because these messages end up in logs.
/// </remarks>
internal sealed partial class WgQuickParser
{
    private static readonly string[] InterfaceKeys =
        ["PrivateKey", "ListenPort", "FwMark", "Address", "MTU", "DNS", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig"];

    private static readonly string[] PeerKeys =
        ["PublicKey", "PresharedKey", "Endpoint", "AllowedIPs", "PersistentKeepalive"];

    private readonly string _source;
    private readonly List<ConfigError> _errors = [];
    private readonly List<ConfigWarning> _warnings = [];
    private readonly List<IgnoredKey> _ignored = [];

    // [Interface] state. A second [Interface] is an error, but its keys are still checked into this state.
    private int? _interfaceLine;
    private WireGuardPrivateKey? _privateKey;
    private int? _listenPort;
    private uint? _fwMark;
    private int? _mtu;
    private readonly List<InterfaceAddress> _addresses = [];
    private readonly Dictionary<string, int> _interfaceKeyLines = new(StringComparer.OrdinalIgnoreCase);

    private readonly List<PeerBuilder> _peers = [];
    private Section _section;

    public WgQuickParser(string source) => _source = source;

    private enum Section
    {
        None,
        Interface,
        Peer,

        // After an unknown header: its keys would each report a misleading error, so they are skipped.
        Unknown,
    }

    public bool TryParse(string text, out WgQuickConfig? config, out IReadOnlyList<ConfigError> errors)
    {
        // Lines end at '\n' only, as for getline(3) in wg and `read` in wg-quick; a '\r' before it is whitespace.
        int lineNumber = 0;
        int start = 0;
        while (start <= text.Length)
        {
            int end = text.IndexOf('\n', start);
            if (end < 0)
            {
                end = text.Length;
            }

            lineNumber++;
            ParseLine(lineNumber, text[start..end]);
            start = end + 1;
        }

        Finish();

        // Stable: file-level errors (no line) first, then by line in the order found.
        errors = _errors.Select((e, i) => (e, i)).OrderBy(t => t.e.Line ?? 0).ThenBy(t => t.i).Select(t => t.e).ToArray();
        if (errors.Count > 0)
        {
            config = null;
            return false;
        }

        config = new WgQuickConfig
        {
            SourceName = _source,
            PrivateKey = _privateKey!.Value,
            ListenPort = _listenPort,
            FwMark = _fwMark,
            Addresses = _addresses.ToArray(),
            Mtu = _mtu,
            Peers = _peers.Select(p => p.Build()).ToArray(),
            IgnoredKeys = _ignored.ToArray(),
            Warnings = _warnings.ToArray(),
        };
        return true;
    }

    private void ParseLine(int line, string raw)
    {
        int hash = raw.IndexOf('#');
        string content = (hash < 0 ? raw : raw[..hash]).Trim();
        if (content.Length == 0)
        {
            return;
        }

        if (content[0] == '[')
        {
            ParseSectionHeader(line, content);
            return;
        }

        int equals = content.IndexOf('=');
        if (equals < 0)
        {
            Error(line, $"expected 'Key = Value' or a section header like [Peer], got '{Echo(content)}'");
            return;
        }

        // wg(8) deletes every whitespace character of a line before matching keys.
        string key = RemoveWhitespace(content[..equals]);
        string value = content[(equals + 1)..].Trim();
        if (key.Length == 0)
        {
            Error(line, $"missing key before '=' in '{Echo(content)}'");
            return;
        }

        switch (_section)
        {
            case Section.None:
                Error(line, $"key '{Echo(key)}' appears before any section; put it under [Interface] or [Peer]");
                break;
            case Section.Interface:
                ParseInterfaceKey(line, key, value, raw);
                break;
            case Section.Peer:
                ParsePeerKey(line, _peers[^1], key, value);
                break;
            case Section.Unknown:
                break;
        }
    }

    private void ParseSectionHeader(int line, string content)
    {
        string header = RemoveWhitespace(content);
        if (header.Equals("[Interface]", StringComparison.OrdinalIgnoreCase))
        {
            if (_interfaceLine is int first)
            {
                // wg(8): "only one Interface section may be specified". Two usually means two files pasted together.
                Error(line, $"second [Interface] section (the first is at line {first}); only one is allowed, merge them");
            }
            else
            {
                _interfaceLine = line;
            }

            _section = Section.Interface;
        }
        else if (header.Equals("[Peer]", StringComparison.OrdinalIgnoreCase))
        {
            _peers.Add(new PeerBuilder(line));
            _section = Section.Peer;
        }
        else
        {
            string? suggestion = header.Length > 2 && header[^1] == ']'
                ? Suggest(header[1..^1], ["Interface", "Peer"])
                : null;
            Error(line, suggestion is not null
                ? $"unknown section '{Echo(content)}' — did you mean '[{suggestion}]'?"
                : $"unknown section '{Echo(content)}'; the sections are [Interface] and [Peer]");

            _section = Section.Unknown;
        }
    }

    private void ParseInterfaceKey(int line, string key, string value, string raw)
    {
        string? canonical = Canonical(key, InterfaceKeys);
        if (canonical is null)
        {
            UnknownKey(line, key, "[Interface]", InterfaceKeys, "[Peer]", PeerKeys);
            return;
        }

        bool singleValued = canonical is "PrivateKey" or "ListenPort" or "FwMark" or "MTU" or "Table" or "SaveConfig";
        if (singleValued)
        {
            if (_interfaceKeyLines.TryGetValue(canonical, out int previous))
            {
                Warn(line, $"{canonical} is set again (first at line {previous}); the later value is used, as wg does");
            }

            _interfaceKeyLines[canonical] = line;
        }

        switch (canonical)
        {
            case "PrivateKey":
            {
                string text = RemoveWhitespace(value);
                if (WireGuardPrivateKey.TryParse(text, out WireGuardPrivateKey key32))
                {
                    _privateKey = key32;
                }
                else
                {
                    Error(line, $"PrivateKey {KeyBytes.DescribeInvalid(text)} — generate one with 'wg genkey'");
                }

                break;
            }

            case "ListenPort":
            {
                string text = RemoveWhitespace(value);
                if (TryParseUInt(text, 65535, out uint port))
                {
                    _listenPort = (int)port;
                }
                else
                {
                    Error(line, $"ListenPort '{Echo(text)}' is not a port number from 0 to 65535 (0 or no ListenPort picks a random port)");
                }

                break;
            }

            case "FwMark":
            {
                string text = RemoveWhitespace(value);
                if (TryParseFwMark(text, out uint mark))
                {
                    _fwMark = mark;
                    _ignored.Add(new IgnoredKey(line, canonical, text));
                }
                else
                {
                    Error(line, $"FwMark '{Echo(text)}' is neither 'off' nor a number from 0 to 0xffffffff");
                }

                break;
            }

            case "Address":
                ParseAddresses(line, value);
                break;

            case "MTU":
                // 68 is the IPv4 minimum (RFC 791); IPv6 needs 1280, checked in Finish once all addresses are known.
                if (TryParseUInt(value, 65535, out uint mtu) && mtu >= 68)
                {
                    _mtu = (int)mtu;
                }
                else
                {
                    Error(line, $"MTU '{Echo(value)}' is not a number from 68 to 65535 (usually 1420; leave MTU out to use the default)");
                }

                break;

            case "SaveConfig":
                // wg-quick refuses anything but true/false; a file it refuses should not load here either.
                if (!value.Equals("true", StringComparison.OrdinalIgnoreCase) && !value.Equals("false", StringComparison.OrdinalIgnoreCase))
                {
                    Error(line, $"SaveConfig '{Echo(value)}' is neither 'true' nor 'false'");
                }
                else
                {
                    _ignored.Add(new IgnoredKey(line, canonical, value));
                }

                break;

            case "PreUp" or "PostUp" or "PreDown" or "PostDown":
            {
                // wg-quick hands the hook to bash uncut, '#' included; keep exactly that text.
                int equals = raw.IndexOf('=');
                _ignored.Add(new IgnoredKey(line, canonical, raw[(equals + 1)..].Trim()));
                break;
            }

            default: // DNS, Table
                _ignored.Add(new IgnoredKey(line, canonical, value));
                break;
        }
    }

    private void ParsePeerKey(int line, PeerBuilder peer, string key, string value)
    {
        string? canonical = Canonical(key, PeerKeys);
        if (canonical is null)
        {
            UnknownKey(line, key, "[Peer]", PeerKeys, "[Interface]", InterfaceKeys);
            return;
        }

        if (canonical != "AllowedIPs")
        {
            if (peer.KeyLines.TryGetValue(canonical, out int previous))
            {
                Warn(line, $"{canonical} is set again in the [Peer] at line {peer.Line} (first at line {previous}); the later value is used, as wg does");
            }

            peer.KeyLines[canonical] = line;
        }

        // wg(8) ignores all whitespace inside these values.
        string text = RemoveWhitespace(value);
        switch (canonical)
        {
            case "PublicKey":
                if (WireGuardPublicKey.TryParse(text, out WireGuardPublicKey publicKey))
                {
                    peer.PublicKey = publicKey;
                    peer.PublicKeyLine = line;
                }
                else
                {
                    Error(line, $"PublicKey {KeyBytes.DescribeInvalid(text)} — copy it from 'wg pubkey' or 'wg show' on that peer");
                }

                break;

            case "PresharedKey":
                if (PresharedKey.TryParse(text, out PresharedKey psk))
                {
                    peer.PresharedKey = psk;
                }
                else
                {
                    Error(line, $"PresharedKey {KeyBytes.DescribeInvalid(text)} — generate one with 'wg genpsk' and use the same on both sides");
                }

                break;

            case "Endpoint":
                if (PeerEndpoint.TryParse(text, out PeerEndpoint? endpoint, out string? endpointError))
                {
                    peer.Endpoint = endpoint;
                }
                else
                {
                    Error(line, $"Endpoint '{Echo(text)}' {endpointError}");
                }

                break;

            case "PersistentKeepalive":
                if (text.Equals("off", StringComparison.OrdinalIgnoreCase))
                {
                    peer.PersistentKeepalive = 0;
                }
                else if (TryParseUInt(text, 65535, out uint seconds))
                {
                    peer.PersistentKeepalive = (ushort)seconds;
                }
                else
                {
                    Error(line, $"PersistentKeepalive '{Echo(text)}' is neither 'off' nor a number of seconds from 0 to 65535 (25 is usual behind NAT)");
                }

                break;

            case "AllowedIPs":
                ParseAllowedIps(line, peer, value);
                break;
        }
    }

    private void ParseAddresses(int line, string value)
    {
        // wg-quick splits Address on commas and whitespace alike.
        foreach (string item in value.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IpPrefix.TryParse(item, out IPAddress? address, out int prefixLength))
            {
                _addresses.Add(new InterfaceAddress(address!, prefixLength));
            }
            else
            {
                Error(line, $"Address '{Echo(item)}' is not an IP address with prefix length (e.g. 10.0.0.1/24 or fd00::1/64)");
            }
        }
    }

    private void ParseAllowedIps(int line, PeerBuilder peer, string value)
    {
        // An empty AllowedIPs is legal in wg: the peer gets no prefixes.
        if (value.Length == 0)
        {
            return;
        }

        foreach (string rawItem in value.Split(','))
        {
            string item = rawItem.Trim();
            if (item.Length == 0)
            {
                Error(line, "AllowedIPs has an empty entry (a stray or doubled comma?); separate prefixes with single commas");
                continue;
            }

            if (item.AsSpan().IndexOfAny(' ', '\t') >= 0)
            {
                Error(line, $"AllowedIPs entry '{Echo(item)}' contains a space; separate prefixes with commas");
                continue;
            }

            if (item[0] is '+' or '-')
            {
                Error(line, $"AllowedIPs entry '{Echo(item)}' starts with '{item[0]}'; incremental +/- prefixes are for 'wg set', write plain prefixes in a file");
                continue;
            }

            if (!IpPrefix.TryParse(item, out IPAddress? address, out int prefixLength))
            {
                Error(line, $"AllowedIPs entry '{Echo(item)}' is not an IP prefix (e.g. 10.0.0.0/24, fd00::/64, 0.0.0.0/0)");
                continue;
            }

            IPNetwork prefix = IpPrefix.Create(address!, prefixLength);
            if (IpPrefix.HasHostBits(address!, prefixLength))
            {
                Warn(line, $"AllowedIPs entry '{item}' has host bits set; using {prefix}, as WireGuard does");
            }

            if (!peer.AllowedIps.Contains(prefix))
            {
                peer.AllowedIps.Add(prefix);
                peer.AllowedIpLines[prefix] = line;
            }
        }
    }

    private void Finish()
    {
        if (_interfaceLine is not int interfaceLine)
        {
            Error(null, "no [Interface] section; a configuration needs [Interface] with at least 'PrivateKey = <output of wg genkey>'");
        }
        else if (_privateKey is null && !_interfaceKeyLines.ContainsKey("PrivateKey"))
        {
            Error(interfaceLine, "[Interface] has no PrivateKey; add 'PrivateKey = <output of wg genkey>'");
        }

        if (_mtu is < 1280 && _addresses.Any(a => a.Address.AddressFamily == AddressFamily.InterNetworkV6))
        {
            Warn(_interfaceKeyLines["MTU"], $"MTU {_mtu} is below 1280, the IPv6 minimum (RFC 8200 section 5), but the interface has IPv6 addresses; IPv6 will not work");
        }

        var seenKeys = new Dictionary<WireGuardPublicKey, PeerBuilder>();
        var prefixOwners = new Dictionary<IPNetwork, PeerBuilder>();
        foreach (PeerBuilder peer in _peers)
        {
            if (peer.PublicKey is not WireGuardPublicKey key)
            {
                // A PublicKey line that failed to parse already has its own error.
                if (!peer.KeyLines.ContainsKey("PublicKey"))
                {
                    Error(peer.Line, "[Peer] has no PublicKey; add 'PublicKey = <the peer's wg pubkey output>'");
                }

                continue;
            }

            if (seenKeys.TryGetValue(key, out PeerBuilder? first))
            {
                Error(peer.PublicKeyLine, $"PublicKey {key} is already used by the [Peer] at line {first.Line}; merge the two sections into one");
                continue;
            }

            seenKeys[key] = peer;
            foreach (IPNetwork prefix in peer.AllowedIps)
            {
                if (prefixOwners.TryGetValue(prefix, out PeerBuilder? owner))
                {
                    Warn(peer.AllowedIpLines[prefix], $"AllowedIPs {prefix} is also in the [Peer] at line {owner.Line}; the later peer gets it, as in wg");
                }

                prefixOwners[prefix] = peer;
            }
        }
    }

    private void UnknownKey(int line, string key, string section, string[] keys, string otherSection, string[] otherKeys)
    {
        if (Canonical(key, otherKeys) is string other)
        {
            Error(line, $"{other} belongs in {otherSection}, not {section}; is a '{otherSection}' line missing above?");
            return;
        }

        string? suggestion = Suggest(key, keys);
        Error(line, suggestion is not null
            ? $"unknown key '{Echo(key)}' in {section} — did you mean '{suggestion}'?"
            : $"unknown key '{Echo(key)}' in {section}; the keys there are {string.Join(", ", keys)}");
    }

    private static string? Canonical(string key, string[] keys)
    {
        foreach (string candidate in keys)
        {
            if (candidate.Equals(key, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The closest name within a small edit distance (transpositions count once), or null.</summary>
    internal static string? Suggest(string input, string[] candidates)
    {
        if (input.Length > 64)
        {
            return null;
        }

        string lower = input.ToLowerInvariant();
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates)
        {
            int distance = OptimalStringAlignmentDistance(lower, candidate.ToLowerInvariant());
            int allowed = Math.Min(2, Math.Max(1, candidate.Length / 4));
            if (distance <= allowed && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best;
    }

    private static int OptimalStringAlignmentDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    private static bool TryParseUInt(string text, uint max, out uint value)
    {
        value = 0;
        if (text.Length is 0 or > 10 || !text.All(char.IsAsciiDigit))
        {
            return false;
        }

        return uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value <= max;
    }

    // wg(8) parse_fwmark: "off", decimal, or 0x-prefixed hex, up to 32 bits.
    private static bool TryParseFwMark(string text, out uint mark)
    {
        mark = 0;
        if (text.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (text.Length > 2 && text.StartsWith("0x", StringComparison.Ordinal))
        {
            string hex = text[2..];
            return hex.Length <= 8 && hex.All(char.IsAsciiHexDigit)
                && uint.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out mark);
        }

        return TryParseUInt(text, uint.MaxValue, out mark);
    }

    private static string RemoveWhitespace(string text)
    {
        if (!text.Any(char.IsWhiteSpace))
        {
            return text;
        }

        return string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
    }

    /// <summary>Input quoted in a message: long base64-like runs masked (they may be keys), length capped.</summary>
    private static string Echo(string text)
    {
        string masked = LongBase64Run().Replace(text, "(key hidden)");
        return masked.Length <= 60 ? masked : string.Concat(masked.AsSpan(0, 57), "...");
    }

    [GeneratedRegex("[A-Za-z0-9+/]{40,}=*")]
    private static partial Regex LongBase64Run();

    private void Error(int? line, string message)
    {
        _errors.Add(new ConfigError(_source, line, message));
    }

    private void Warn(int line, string message) => _warnings.Add(new ConfigWarning(_source, line, message));

    private sealed class PeerBuilder(int line)
    {
        public int Line { get; } = line;

        public WireGuardPublicKey? PublicKey { get; set; }

        public int PublicKeyLine { get; set; }

        public PresharedKey? PresharedKey { get; set; }

        public PeerEndpoint? Endpoint { get; set; }

        public ushort PersistentKeepalive { get; set; }

        public List<IPNetwork> AllowedIps { get; } = [];

        public Dictionary<IPNetwork, int> AllowedIpLines { get; } = [];

        public Dictionary<string, int> KeyLines { get; } = new(StringComparer.OrdinalIgnoreCase);

        public WgQuickPeer Build() => new()
        {
            PublicKey = PublicKey!.Value,
            PresharedKey = PresharedKey,
            Endpoint = Endpoint,
            AllowedIPs = AllowedIps.ToArray(),
            PersistentKeepalive = PersistentKeepalive,
            Line = Line,
        };
    }
}
