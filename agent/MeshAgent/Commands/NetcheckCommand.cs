using System.CommandLine;
using System.Net;
using MeshAgent.Core.Net;
using System.Net.Sockets;
using MeshAgent.Api;
using MeshAgent.Engine.Control;
using MeshAgent.Engine.Nat;
using MeshAgent.Engine.Paths;

namespace MeshAgent.Commands;

/// <summary>
/// <c>meshagent netcheck</c>: what the NAT in front of this machine does to UDP, from two STUN servers —
/// the public endpoint each saw, its round-trip time, and the mapping behaviour (endpoint-independent
/// "cone" vs endpoint-dependent "symmetric", RFC 4787 §4.1), which decides whether direct paths can be
/// punched; then the round trip to each of the network's relays (asked of the daemon, or given with --relay). Runs
/// on its own socket, so it works with or without the daemon (without one, relays are measured only when given).
/// </summary>
public static class NetcheckCommand
{
    /// <summary>Two operators, two addresses: a NAT that maps per destination address shows up as dependent.</summary>
    public static readonly string[] DefaultServers = ["stun.l.google.com:19302", "stun.cloudflare.com:3478"];

    public static Command Create()
    {
        var servers = new Option<string[]>("--stun")
        {
            Description = $"A STUN server as host:port (give it twice; default {string.Join(" and ", DefaultServers)}). Any meshagent or meshrelay answers STUN on its UDP port.",
            AllowMultipleArgumentsPerToken = false,
        };
        var port = new Option<int>("--port")
        {
            Description = "Local UDP port to probe from (default: any free port; the daemon's own port is in use while it runs).",
        };
        var timeout = new Option<double>("--timeout")
        {
            Description = "Seconds to wait for each server (default 5).",
            DefaultValueFactory = _ => 5,
        };
        var relays = new Option<string[]>("--relay")
        {
            Description = "A relay to measure as HOST:PORT (repeatable; default: the network's relays, asked of the running daemon). Relays answer STUN on their UDP port.",
            AllowMultipleArgumentsPerToken = false,
        };
        Option<string> socket = DaemonCli.CreateSocketOption();
        var command = new Command("netcheck", "Check the NAT in front of this machine with two STUN servers (public endpoints, round-trip times, mapping behaviour) and the latency to the network's relays.")
        {
            servers, port, timeout, relays, socket,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(servers) ?? [], parse.GetValue(port), parse.GetValue(timeout), parse.GetValue(relays) ?? [], parse.GetValue(socket)!,
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken));
        return command;
    }

    /// <param name="relayTexts">Relays to measure; empty: ask the daemon on <paramref name="socketPath"/> for the network's (none when it does not answer).</param>
    public static async Task<int> RunAsync(string[] serverTexts, int port, double timeoutSeconds, string[] relayTexts, string socketPath, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        string[] texts = serverTexts.Length == 0 ? DefaultServers : serverTexts;
        if (texts.Length != 2)
        {
            error.WriteLine($"netcheck: give exactly two STUN servers with --stun (got {texts.Length}); the mapping check compares what two servers see");
            return ExitCodes.InvalidInput;
        }

        if (port is < 0 or > 65535 || timeoutSeconds is <= 0 or > 60)
        {
            error.WriteLine("netcheck: --port must be 0–65535 and --timeout between 0 and 60 seconds");
            return ExitCodes.InvalidInput;
        }

        var endpoints = new IPEndPoint[2];
        for (int i = 0; i < 2; i++)
        {
            if (await ResolveAsync(texts[i], error, cancellationToken) is not { } endpoint)
            {
                return ExitCodes.InvalidInput;
            }

            endpoints[i] = endpoint;
        }

        if (endpoints[0].Equals(endpoints[1]))
        {
            error.WriteLine($"netcheck: both servers are {endpoints[0]}; give two different servers");
            return ExitCodes.InvalidInput;
        }

        (List<(string Text, string? State)> relayList, string? relayNote) = relayTexts.Length > 0
            ? ([.. relayTexts.Select(t => (t, (string?)null))], null)
            : await DaemonRelaysAsync(socketPath, cancellationToken);
        var relays = new List<(string Text, string? State, IPEndPoint Endpoint)>();
        foreach ((string text, string? state) in relayList)
        {
            if (await ResolveAsync(text, error, cancellationToken) is not { } endpoint)
            {
                return ExitCodes.InvalidInput;
            }

            relays.Add((text, state, endpoint));
        }

        UdpStunSocket socket;
        try
        {
            IPAddress any = endpoints.Concat(relays.Select(r => r.Endpoint)).All(e => e.AddressFamily == AddressFamily.InterNetwork) ? IPAddress.Any : IPAddress.IPv6Any;
            socket = UdpStunSocket.Bind(new IPEndPoint(any, port), new StunClientOptions { Timeout = TimeSpan.FromSeconds(timeoutSeconds) });
        }
        catch (SocketException e)
        {
            error.WriteLine($"netcheck: cannot open UDP port {port} ({e.Message}) — pick another with --port, or 0 for any");
            return ExitCodes.Failure;
        }

        await using (socket)
        {
            NatMappingReport report = await NatProbe.DetectMappingAsync(socket.Client, endpoints[0], endpoints[1], cancellationToken);
            output.WriteLine($"local UDP port: {socket.LocalEndPoint.Port}");
            foreach ((string text, StunResult result) in new[] { (texts[0], report.First), (texts[1], report.Second) })
            {
                string server = text == result.Server.Unmapped().ToString() ? text : $"{text} ({result.Server.Unmapped()})";
                output.WriteLine(result.IsSuccess
                    ? $"  {server}: public endpoint {result.ReflexiveEndPoint!.Unmapped()}, rtt {result.RoundTripTime.TotalMilliseconds:0.0} ms"
                    : $"  {server}: {result}");
            }

            output.WriteLine($"mapping: {Describe(report.Mapping)}");
            output.WriteLine(report.ToString());
            if (relayNote is not null)
            {
                output.WriteLine($"relays: {relayNote}");
            }
            else
            {
                output.WriteLine("relay latency (STUN round trip to each relay's UDP port):");
                foreach ((string text, string? state, IPEndPoint endpoint) in relays)
                {
                    StunResult result = await socket.QueryAsync(endpoint, cancellationToken);
                    output.WriteLine(FormatRelay(text, endpoint, state, result, timeoutSeconds));
                }
            }

            return report.Mapping == NatMapping.UdpBlocked ? ExitCodes.Failure : ExitCodes.Success;
        }
    }

    /// <summary>"  relay 198.51.100.1:3478 (connected): rtt 1.2 ms", or what went wrong and what to check.</summary>
    public static string FormatRelay(string text, IPEndPoint endpoint, string? state, StunResult result, double timeoutSeconds)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(result);
        string shown = endpoint.Unmapped().ToString();
        string name = (text == shown ? text : $"{text} ({shown})") + (state is null ? "" : $", {state}");
        return result.IsSuccess
            ? $"  relay {name}: rtt {result.RoundTripTime.TotalMilliseconds:0.0} ms"
            : result.Status == StunResultStatus.Timeout
                ? $"  relay {name}: no STUN answer within {timeoutSeconds:0.#} s — UDP to the relay is blocked or the relay is down (members here would need its TCP port)"
                : $"  relay {name}: {result.Status}: {result.Problem}";
    }

    /// <summary>The running daemon's relays with their session state; or none and why (no daemon, no relay in the network).</summary>
    private static async Task<(List<(string Text, string? State)> Relays, string? Note)> DaemonRelaysAsync(string socketPath, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new ApiClient(socketPath, TimeSpan.FromSeconds(5));
            NodeStatus status = await client.GetStatusAsync(cancellationToken);
            return status.Relays.Count == 0
                ? ([], "the network has none (meshagent init --relay HOST:PORT configures them); give --relay HOST:PORT to measure one")
                : ([.. status.Relays.Select(r => (r.Address, (string?)r.State))], null);
        }
        catch (DaemonUnreachableException e)
        {
            return ([], $"not measured: no daemon answers on {e.SocketPath} ({e.Reason}) to name the network's relays; give --relay HOST:PORT (or --socket PATH)");
        }
        catch (MeshControlException e)
        {
            return ([], $"not measured: the daemon did not tell which ({e.Message}); give --relay HOST:PORT to measure one");
        }
    }

    private static string Describe(NatMapping mapping) => mapping switch
    {
        NatMapping.EndpointIndependent => "endpoint-independent (direct paths can be punched)",
        NatMapping.EndpointDependent => "endpoint-dependent (symmetric NAT: direct only with easy peers, else relay)",
        NatMapping.UdpBlocked => "no UDP (relay over TCP only)",
        _ => "unknown (only one server answered)",
    };

    private static async Task<IPEndPoint?> ResolveAsync(string text, TextWriter error, CancellationToken cancellationToken)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out int port) || port is < 1 or > 65535)
        {
            error.WriteLine($"netcheck: '{text}' is not host:port (for IPv6 use [addr]:port)");
            return null;
        }

        string host = text[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return new IPEndPoint(address, port);
        }

        try
        {
            IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
            IPAddress? chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            if (chosen is not null)
            {
                return new IPEndPoint(chosen, port);
            }
        }
        catch (SocketException e)
        {
            error.WriteLine($"netcheck: cannot resolve {host} ({e.Message}) — check DNS, or give the server's IP address");
            return null;
        }

        error.WriteLine($"netcheck: {host} has no address — give another server");
        return null;
    }

}
