using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Trust;

namespace MeshAgent.Relay;

/// <summary>One raw setting: a key, its text value, and where it came from ("relay.conf:3" or "--listen") for error messages.</summary>
internal readonly record struct RelaySetting(string Key, string Value, string Origin);

/// <summary>
/// Turns settings from a config file and the command line into <see cref="RelayOptions"/>. One vocabulary for both:
/// the file's keys are the long option names without dashes.
/// <code>
/// # /etc/meshrelay.conf — '#' starts a comment; one "key = value" per line; list keys repeat
/// listen = 0.0.0.0:3478
/// listen = [::]:3478
/// tcp-listen = 0.0.0.0:443
/// accept-root = meshroot1:…
/// state-dir = /var/lib/meshrelay
/// max-clients = 10000
/// </code>
/// A key given on the command line replaces the file's values for that key. With no listen endpoint anywhere the
/// relay listens on 0.0.0.0:3478. Errors name the file and line (or the option) and are all reported at once.
/// </summary>
internal static class RelaySettings
{
    public static readonly IReadOnlyList<string> ListKeys = ["listen", "tcp-listen", "accept-root"];

    public static readonly IReadOnlyList<string> ScalarKeys =
        ["state-dir", "max-clients", "client-packets-per-second", "client-bytes-per-second", "idle-timeout", "tcp-queue-bytes"];

    /// <summary>The endpoint used when none is configured.</summary>
    public static readonly IPEndPoint DefaultListen = new(IPAddress.Any, RelayOptions.DefaultPort);

    /// <summary>Reads the lines of a config file into <paramref name="settings"/>; problems go to <paramref name="errors"/> as "path:line: …".</summary>
    public static void ParseFile(string text, string path, List<RelaySetting> settings, List<string> errors)
    {
        var scalarLines = new Dictionary<string, int>(StringComparer.Ordinal);
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNumber = i + 1;
            string line = lines[i];
            int comment = line.IndexOf('#', StringComparison.Ordinal);
            if (comment >= 0)
            {
                line = line[..comment];
            }

            line = line.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            string origin = $"{path}:{lineNumber}";
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                errors.Add($"{origin}: expected 'key = value', got '{line}'");
                continue;
            }

            string key = line[..equals].Trim().ToLowerInvariant();
            string value = line[(equals + 1)..].Trim();
            if (!ListKeys.Contains(key) && !ScalarKeys.Contains(key))
            {
                errors.Add($"{origin}: unknown key '{key}' (known: {string.Join(", ", ListKeys.Concat(ScalarKeys))})");
                continue;
            }

            if (value.Length == 0)
            {
                errors.Add($"{origin}: '{key}' has no value");
                continue;
            }

            if (ScalarKeys.Contains(key))
            {
                if (scalarLines.TryGetValue(key, out int first))
                {
                    errors.Add($"{origin}: '{key}' is already set on line {first}; give it once");
                    continue;
                }

                scalarLines[key] = lineNumber;
            }

            settings.Add(new RelaySetting(key, value, origin));
        }
    }

    /// <summary>
    /// Builds options from file settings overridden by command-line settings (per key). Returns null when anything is
    /// wrong, with every problem in <paramref name="errors"/>.
    /// </summary>
    public static RelayOptions? Build(IReadOnlyList<RelaySetting> file, IReadOnlyList<RelaySetting> commandLine, List<string> errors)
    {
        var fromCommandLine = commandLine.Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
        RelaySetting[] merged = [.. file.Where(s => !fromCommandLine.Contains(s.Key)), .. commandLine];
        int errorsBefore = errors.Count;

        var listen = new List<IPEndPoint>();
        var tcpListen = new List<IPEndPoint>();
        var roots = new List<NetworkRootPublicKey>();
        var options = new RelayOptions();
        foreach (RelaySetting setting in merged)
        {
            switch (setting.Key)
            {
                case "listen":
                    AddEndpoint(setting, listen, errors);
                    break;
                case "tcp-listen":
                    AddEndpoint(setting, tcpListen, errors);
                    break;
                case "accept-root":
                    if (NetworkRootPublicKey.TryParse(setting.Value, out NetworkRootPublicKey root))
                    {
                        roots.Add(root);
                    }
                    else
                    {
                        errors.Add($"{setting.Origin}: accept-root: {Describe(() => NetworkRootPublicKey.Parse(setting.Value))} — give the network's root public key as 'meshagent' prints it (meshroot1:…)");
                    }

                    break;
                case "state-dir":
                    options = options with { StateDirectory = setting.Value };
                    break;
                case "max-clients":
                    options = options with { MaxClients = (int)Integer(setting, 1, int.MaxValue, errors) };
                    break;
                case "client-packets-per-second":
                    options = options with { ClientPacketsPerSecond = (int)Integer(setting, 1, int.MaxValue, errors) };
                    break;
                case "client-bytes-per-second":
                    options = options with { ClientBytesPerSecond = Integer(setting, 1, long.MaxValue / 4, errors) };
                    break;
                case "idle-timeout":
                    options = options with { IdleTimeout = TimeSpan.FromSeconds(Integer(setting, 2, ushort.MaxValue, errors)) };
                    break;
                case "tcp-queue-bytes":
                    options = options with { TcpMaxQueuedBytes = (int)Integer(setting, 2 + Core.Relay.RelayProtocol.MaxFrameLength, int.MaxValue, errors) };
                    break;
                default:
                    errors.Add($"{setting.Origin}: unknown setting '{setting.Key}'");
                    break;
            }
        }

        if (listen.Count == 0 && !merged.Any(s => s.Key == "listen"))
        {
            listen.Add(DefaultListen);
        }

        TimeSpan keepalive = options.KeepaliveInterval < options.IdleTimeout
            ? options.KeepaliveInterval
            : TimeSpan.FromSeconds(Math.Max(1, (int)(options.IdleTimeout.TotalSeconds * 0.4)));
        options = options with { Listen = listen, TcpListen = tcpListen, AcceptedRoots = roots, KeepaliveInterval = keepalive };
        if (errors.Count > errorsBefore)
        {
            return null;
        }

        errors.AddRange(options.Validate());
        return errors.Count > errorsBefore ? null : options;
    }

    /// <summary>"0.0.0.0:3478", "[::]:3478", "192.0.2.1:443": an IP literal and an explicit port (0 = any free port).</summary>
    public static bool TryParseEndpoint(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        bool bracketed = text.StartsWith('[');
        bool hasPort = bracketed ? text.Contains("]:", StringComparison.Ordinal) : text.Count(c => c == ':') == 1;
        if (!hasPort || !IPEndPoint.TryParse(text, out IPEndPoint? parsed)
            || (parsed.AddressFamily == AddressFamily.InterNetworkV6 && !bracketed))
        {
            return false;
        }

        endpoint = parsed;
        return true;
    }

    private static void AddEndpoint(RelaySetting setting, List<IPEndPoint> endpoints, List<string> errors)
    {
        if (TryParseEndpoint(setting.Value, out IPEndPoint endpoint))
        {
            endpoints.Add(endpoint);
        }
        else
        {
            errors.Add($"{setting.Origin}: {setting.Key}: '{setting.Value}' is not an address:port — write e.g. 0.0.0.0:{RelayOptions.DefaultPort} or [::]:{RelayOptions.DefaultPort}");
        }
    }

    private static long Integer(RelaySetting setting, long min, long max, List<string> errors)
    {
        if (long.TryParse(setting.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value >= min && value <= max)
        {
            return value;
        }

        errors.Add($"{setting.Origin}: {setting.Key}: '{setting.Value}' is not a whole number in {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}");
        return min;
    }

    private static string Describe(Action parse)
    {
        try
        {
            parse();
            return "invalid";
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }
}
