using MeshAgent.Integration.Tests.Harness;

namespace MeshAgent.Integration.Tests.StaticMode;

/// <summary>
/// The real <c>meshagent run --wg-config FILE --interface NAME --state-dir DIR</c> process in a
/// namespace. The config and the state directory live in a private temporary directory (mode
/// 0700, config 0600) that <see cref="DisposeAsync"/> removes. <see cref="StartAsync"/> returns
/// once the agent reported the tunnel up and the link has the UP flag; <see cref="StopAsync"/> is
/// the asserting shutdown, <see cref="DisposeAsync"/> the never-throwing cleanup.
/// </summary>
public sealed class StaticAgent : IAsyncDisposable
{
    public const int SIGINT = 2;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(20);

    private readonly DirectoryInfo _directory;
    private int _disposed;

    private StaticAgent(NetworkNamespace ns, string interfaceName, DirectoryInfo directory, ProcessHandle process)
    {
        Namespace = ns;
        InterfaceName = interfaceName;
        _directory = directory;
        Process = process;
    }

    public NetworkNamespace Namespace { get; }

    public string InterfaceName { get; }

    /// <summary>The agent process (for <see cref="ProcessHandle.RecentOutput"/> and the exit status).</summary>
    public ProcessHandle Process { get; }

    public string ConfigPath => Path.Combine(_directory.FullName, InterfaceName + ".conf");

    public string StateDirectory => Path.Combine(_directory.FullName, "state");

    /// <summary>Starts the agent on <paramref name="wgQuickConfig"/> and waits until <paramref name="interfaceName"/> is up.</summary>
    public static async Task<StaticAgent> StartAsync(NetworkNamespace ns, string interfaceName, string wgQuickConfig)
    {
        DirectoryInfo directory = CreatePrivateDirectory(interfaceName, wgQuickConfig);
        ProcessHandle process;
        try
        {
            string config = Path.Combine(directory.FullName, interfaceName + ".conf");
            process = ns.StartProcess(
                $"meshagent {interfaceName}",
                MeshAgentExecutable.Command("run", "--wg-config", config, "--interface", interfaceName, "--state-dir", Path.Combine(directory.FullName, "state")));
        }
        catch
        {
            directory.Delete(recursive: true);
            throw;
        }

        var agent = new StaticAgent(ns, interfaceName, directory, process);
        try
        {
            await ProcessRunner.WaitUntilAsync(
                async () => process.OutputContains($"{interfaceName} is up") && await agent.IsLinkUpAsync(),
                StartTimeout,
                $"meshagent to bring {interfaceName} up in {ns.Name} (\"{interfaceName} is up\" printed and the link flagged UP)",
                [process]);
            return agent;
        }
        catch
        {
            await agent.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs <c>meshagent run</c> on <paramref name="wgQuickConfig"/> to completion, for configs or
    /// situations where it must fail at start. Fails (CommandFailedException) if it is still
    /// running after <paramref name="timeout"/> (default 20 s): then it came up when it should not.
    /// </summary>
    public static async Task<ProcessResult> RunToExitAsync(NetworkNamespace ns, string interfaceName, string wgQuickConfig, TimeSpan? timeout = null)
    {
        DirectoryInfo directory = CreatePrivateDirectory(interfaceName, wgQuickConfig);
        try
        {
            return await ns.ExecAsync(
                MeshAgentExecutable.Command("run", "--wg-config", Path.Combine(directory.FullName, interfaceName + ".conf"), "--interface", interfaceName, "--state-dir", Path.Combine(directory.FullName, "state")),
                new RunOptions { Check = false, Timeout = timeout ?? TimeSpan.FromSeconds(20) });
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>True if <paramref name="interfaceName"/> exists in <paramref name="ns"/> (<c>ip -n NS link show dev NAME</c> succeeds).</summary>
    public static async Task<bool> InterfaceExistsAsync(NetworkNamespace ns, string interfaceName)
        => (await ProcessRunner.RunAsync(["ip", "-n", ns.Name, "link", "show", "dev", interfaceName], new RunOptions { Check = false })).ExitCode == 0;

    /// <summary>IPv4 and IPv6 routes of all tables in <paramref name="ns"/> that name <paramref name="interfaceName"/> as their device.</summary>
    public static async Task<IReadOnlyList<string>> RoutesViaAsync(NetworkNamespace ns, string interfaceName)
    {
        var routes = new List<string>();
        foreach (string family in new[] { "-4", "-6" })
        {
            ProcessResult show = await ns.IpAsync(family, "route", "show", "table", "all");
            routes.AddRange(show.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(line => line.Contains($" dev {interfaceName} ", StringComparison.Ordinal) || line.EndsWith($" dev {interfaceName}", StringComparison.Ordinal)));
        }

        return routes;
    }

    /// <summary>
    /// Stops the agent with <paramref name="signal"/> (SIGTERM by default) and asserts that it
    /// exits with status 0 within 10 s and that its interface and every route through it are gone.
    /// </summary>
    public async Task StopAsync(int signal = Libc.SIGTERM)
    {
        Assert.False(Process.HasExited, $"meshagent {InterfaceName} exited (status {Process.ExitCode}) before it was told to stop\n{Process.RecentOutput()}");
        Process.Signal(signal);
        bool exited = await Process.WaitForExitAsync(StopTimeout);
        Assert.True(exited, $"meshagent {InterfaceName} still runs {StopTimeout.TotalSeconds:0} s after signal {signal}\n{Process.RecentOutput()}");
        Assert.True(Process.ExitCode == 0, $"meshagent {InterfaceName} exited with status {Process.ExitCode} after signal {signal}, expected 0\n{Process.RecentOutput()}");
        Assert.False(await InterfaceExistsAsync(Namespace, InterfaceName), $"{InterfaceName} still exists in {Namespace.Name} after meshagent exited\n{Process.RecentOutput()}");
        IReadOnlyList<string> left = await RoutesViaAsync(Namespace, InterfaceName);
        Assert.True(left.Count == 0, $"routes via {InterfaceName} left in {Namespace.Name}:\n{string.Join('\n', left)}");
    }

    /// <summary>Stops the process if still running (no assertions) and deletes the temporary directory. Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await Process.StopAsync();
        }
        catch (Exception e)
        {
            Namespace.Log.Write($"warning: stopping {Process} failed: {e.Message}");
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

    public override string ToString() => $"meshagent {InterfaceName} in {Namespace.Name} (pid {Process.Pid})";

    private async Task<bool> IsLinkUpAsync()
    {
        // "4: mesh0: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> mtu 1420 …": a TUN's operstate is
        // UNKNOWN, so the administrative UP flag is what says the agent brought it up.
        ProcessResult show = await ProcessRunner.RunAsync(["ip", "-n", Namespace.Name, "-o", "link", "show", "dev", InterfaceName], new RunOptions { Check = false });
        int open = show.StandardOutput.IndexOf('<', StringComparison.Ordinal);
        int close = show.StandardOutput.IndexOf('>', StringComparison.Ordinal);
        return show.ExitCode == 0 && open >= 0 && close > open
            && show.StandardOutput[(open + 1)..close].Split(',').Contains("UP");
    }

    // mkdtemp gives mode 0700; the config (with its private key) is 0600 inside it.
    private static DirectoryInfo CreatePrivateDirectory(string interfaceName, string wgQuickConfig)
    {
        DirectoryInfo directory = Directory.CreateTempSubdirectory("meshagent-static-");
        try
        {
            using var stream = new FileStream(Path.Combine(directory.FullName, interfaceName + ".conf"), new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            using var writer = new StreamWriter(stream);
            writer.Write(wgQuickConfig);
            return directory;
        }
        catch
        {
            directory.Delete(recursive: true);
            throw;
        }
    }
}
