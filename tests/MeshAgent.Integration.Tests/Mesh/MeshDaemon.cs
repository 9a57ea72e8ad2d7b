using System.Text.Json;
using MeshAgent.Integration.Tests.Harness;
using MeshAgent.Integration.Tests.StaticMode;

namespace MeshAgent.Integration.Tests.Mesh;

/// <summary>
/// The real <c>meshagent run</c> daemon in membership mode, in a namespace, with its own state directory
/// and API socket in a private temporary directory; <see cref="CliAsync"/> runs CLI subcommands against
/// it. The state directory survives <see cref="KillAsync"/> so <see cref="RestartAsync"/> resumes it.
/// </summary>
public sealed class MeshDaemon : IAsyncDisposable
{
    public const string Interface = "mesh0";
    public const int Port = 41820;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly DirectoryInfo _directory;
    private int _disposed;

    private MeshDaemon(string name, NetworkNamespace ns, DirectoryInfo directory)
    {
        Name = name;
        Namespace = ns;
        _directory = directory;
    }

    public string Name { get; }

    public NetworkNamespace Namespace { get; }

    public ProcessHandle Process { get; private set; } = null!;

    public string Socket => Path.Combine(_directory.FullName, "api.sock");

    public string StateDirectory => Path.Combine(_directory.FullName, "state");

    public static async Task<MeshDaemon> StartAsync(string name, NetworkNamespace ns)
    {
        DirectoryInfo directory = Directory.CreateTempSubdirectory($"meshagent-{name}-");
        var daemon = new MeshDaemon(name, ns, directory);
        try
        {
            await daemon.RestartAsync();
            return daemon;
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the daemon on the existing state directory and waits until its API answers.</summary>
    public async Task RestartAsync()
    {
        Process = Namespace.StartProcess($"meshagent-{Name}", MeshAgentExecutable.Command(
            "run", "--state-dir", StateDirectory, "--socket", Socket, "--interface", Interface, "--listen-port", Port.ToString()));
        await ProcessRunner.WaitUntilAsync(async () => File.Exists(Socket) && (await CliAsync("status", "--json")).ExitCode == 0,
            StartTimeout, $"meshagent {Name} to answer on {Socket}", [Process]);
    }

    public Task<ProcessResult> CliAsync(params string[] arguments) =>
        Namespace.ExecAsync([.. MeshAgentExecutable.Command([.. arguments, "--socket", Socket])], new RunOptions { Check = false, Timeout = TimeSpan.FromSeconds(60) });

    /// <summary>Runs a CLI command that must succeed and returns its stdout.</summary>
    public async Task<string> CliOkAsync(params string[] arguments)
    {
        ProcessResult result = await CliAsync(arguments);
        if (result.ExitCode != 0)
        {
            throw new Xunit.Sdk.XunitException($"meshagent {string.Join(' ', arguments)} on {Name} exited {result.ExitCode}\nstdout:\n{result.StandardOutput}\nstderr:\n{result.StandardError}\n--- daemon:\n{Process.RecentOutput()}");
        }

        return result.StandardOutput;
    }

    public async Task<JsonElement> StatusAsync() => JsonDocument.Parse(await CliOkAsync("status", "--json")).RootElement.Clone();

    /// <summary>name → state ("alive", "dead", "revoked", …) of every member this node knows.</summary>
    public async Task<IReadOnlyDictionary<string, string>> MemberStatesAsync()
    {
        JsonElement status = await StatusAsync();
        var states = new Dictionary<string, string>();
        foreach (JsonElement member in status.GetProperty("members").EnumerateArray())
        {
            states[member.GetProperty("name").GetString()!] = member.GetProperty("state").GetString()!;
        }

        return states;
    }

    /// <summary>This node's path to member <paramref name="name"/> as status reports it ("direct", "relay", "peer-relay", "none"; "unknown" if not listed) and the address behind it.</summary>
    public async Task<(string Path, string? Endpoint)> PathToAsync(string name)
    {
        foreach (JsonElement member in (await StatusAsync()).GetProperty("members").EnumerateArray())
        {
            if (member.GetProperty("name").GetString() == name)
            {
                return (member.GetProperty("path").GetString()!, member.TryGetProperty("endpoint", out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null);
            }
        }

        return ("unknown", null);
    }

    public async Task<string> OverlayIPv4Async() => (await StatusAsync()).GetProperty("self").GetProperty("overlayIPv4").GetString()!;

    public async Task<string> OverlayIPv6Async() => (await StatusAsync()).GetProperty("self").GetProperty("overlayIPv6").GetString()!;

    /// <summary>SIGKILL: no leave, no cleanup — a crash or power loss.</summary>
    public async Task KillAsync()
    {
        Process.Signal(9);
        await Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        // The TUN device goes with the process; wait so a restart can create it again.
        await ProcessRunner.WaitUntilAsync(async () => (await Namespace.IpAsync("link", "show")).StandardOutput.Contains(Interface, StringComparison.Ordinal) == false,
            TimeSpan.FromSeconds(10), $"{Interface} to vanish after killing meshagent {Name}");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (Process is not null)
            {
                await Process.StopAsync();
            }
        }
        catch (Exception e)
        {
            Namespace.Log.Write($"warning: stopping meshagent {Name} failed: {e.Message}");
        }

        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException e)
        {
            Namespace.Log.Write($"warning: could not delete {_directory.FullName}: {e.Message}");
        }
    }
}
