using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using MeshAgent.Api;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Control;

namespace MeshAgent.Commands;

/// <summary>
/// What every CLI command that talks to the running daemon shares: the <c>--socket</c> option, one place
/// that turns failures into one line on stderr and an exit code, and local checks made before the daemon
/// is contacted (a malformed argument exits with <see cref="ExitCodes.InvalidInput"/> at once).
/// </summary>
/// <remarks>
/// Exit codes: 0 done; 2 (<see cref="ExitCodes.InvalidInput"/>) the input is malformed, whether the CLI or the
/// daemon found it (<see cref="ControlErrorKind.InvalidInput"/>); 4 (<see cref="ExitCodes.DaemonUnreachable"/>)
/// no daemon on the socket; 1 any other refusal or failure (forbidden, not found, conflict, remote, local).
/// </remarks>
public static class DaemonCli
{
    public static Option<string> CreateSocketOption() => new("--socket")
    {
        Description = $"The daemon's local API socket (default {ApiServer.DefaultSocketPath}).",
        HelpName = "PATH",
        DefaultValueFactory = _ => ApiServer.DefaultSocketPath,
    };

    /// <summary>Sets <paramref name="command"/>'s action to <paramref name="action"/>, run with failures mapped to exit codes.</summary>
    /// <param name="displayName">The name errors start with (default the command's; "admin grant" for a subcommand).</param>
    public static void SetAction(Command command, Option<string> socket, Func<DaemonCall, Task<int>> action, string? displayName = null)
    {
        string name = displayName ?? command.Name;
        command.SetAction((parse, cancellationToken) => RunAsync(name, parse, parse.GetValue(socket)!, action, cancellationToken));
    }

    public static async Task<int> RunAsync(string commandName, ParseResult parse, string socketPath, Func<DaemonCall, Task<int>> action, CancellationToken cancellationToken)
    {
        using var call = new DaemonCall(commandName, parse, socketPath, cancellationToken);
        try
        {
            return await action(call);
        }
        catch (DaemonUnreachableException e)
        {
            call.Fail(e.Message);
            return ExitCodes.DaemonUnreachable;
        }
        catch (MeshControlException e)
        {
            call.Fail(e.Message);
            return ExitCodeOf(e.Kind);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            call.Fail("interrupted; the daemon stops what it was doing for this command");
            return ExitCodes.Failure;
        }
    }

    public static int ExitCodeOf(ControlErrorKind kind) => kind == ControlErrorKind.InvalidInput ? ExitCodes.InvalidInput : ExitCodes.Failure;

    /// <summary>Null when <paramref name="name"/> is a valid node name, else why not (<see cref="NodeName"/> rules).</summary>
    public static string? DescribeNodeName(string name) => NodeName.Describe(name) is { } problem ? $"{problem} (names are DNS labels: a-z, 0-9, '-')" : null;

    /// <summary>
    /// Parses an IPv4 (or IPv6) network in CIDR notation, strictly: a prefix length is required and the address
    /// must be the network's first (10.1.2.0/16 is refused with "did you mean 10.1.0.0/16?", where
    /// <see cref="IPNetwork.TryParse(string, out IPNetwork)"/> would silently mask it).
    /// </summary>
    public static string? DescribeNetwork(string text, System.Net.Sockets.AddressFamily family, string what)
    {
        string familyName = family == System.Net.Sockets.AddressFamily.InterNetwork ? "IPv4" : "IPv6";
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out IPAddress? address) || !IPNetwork.TryParse(text, out IPNetwork network))
        {
            return $"{what} '{text}' is not an {familyName} network in CIDR notation (like {(family == System.Net.Sockets.AddressFamily.InterNetwork ? "100.96.0.0/16" : "fd12:3456:789a:1::/64")})";
        }

        if (address.AddressFamily != family)
        {
            return $"{what} '{text}' is not an {familyName} network";
        }

        if (!address.Equals(network.BaseAddress))
        {
            return $"{what} '{text}' has bits set after the prefix — did you mean {network}?";
        }

        return null;
    }

    /// <summary>Re-indents a JSON document exactly as received (unknown properties kept), for <c>--json</c>.</summary>
    public static string Indent(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>One CLI command's conversation with the daemon. The client is created on first use, so a command that fails its local checks never connects.</summary>
public sealed class DaemonCall(string commandName, ParseResult parse, string socketPath, CancellationToken cancellationToken) : IDisposable
{
    private ApiClient? _client;

    public string CommandName { get; } = commandName;

    public ParseResult Parse { get; } = parse;

    public string SocketPath { get; } = socketPath;

    public TextWriter Output => Parse.InvocationConfiguration.Output;

    public TextWriter Error => Parse.InvocationConfiguration.Error;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public ApiClient Client => _client ??= new ApiClient(SocketPath);

    /// <summary>Writes "command: message" on stderr.</summary>
    public void Fail(string message) => Error.WriteLine($"{CommandName}: {message}");

    /// <summary>Reports malformed input found before contacting the daemon.</summary>
    public int Invalid(string message)
    {
        Fail(message);
        return ExitCodes.InvalidInput;
    }

    public void Dispose() => _client?.Dispose();
}
