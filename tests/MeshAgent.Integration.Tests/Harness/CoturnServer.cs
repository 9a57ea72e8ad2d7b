using System.Globalization;
using System.Net;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// coturn's <c>turnserver</c> as a plain STUN server inside a lab namespace: STUN only (no TURN
/// allocations, so no credentials), UDP and TCP on one address and port, no TLS/DTLS, no CLI, log
/// to stdout (kept by the <see cref="ProcessHandle"/> for diagnostics). Its user database and pid
/// file go to a private temporary directory, deleted on dispose. The process is started through
/// <see cref="NetworkNamespace.StartProcess"/>, so the namespace also stops it (by PID) if the test
/// fails before disposing this. Same flags as the shared NAT lab's coturn (/work/shared/lab/netlab.sh).
/// </summary>
public sealed class CoturnServer : IAsyncDisposable
{
    /// <summary>The Debian package that ships <c>turnserver</c> and <c>turnutils_stunclient</c>.</summary>
    public const string Package = "coturn";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private readonly DirectoryInfo _stateDirectory;

    private CoturnServer(IPEndPoint endPoint, ProcessHandle process, DirectoryInfo stateDirectory)
    {
        EndPoint = endPoint;
        Process = process;
        _stateDirectory = stateDirectory;
    }

    /// <summary>Where the server listens (UDP and TCP).</summary>
    public IPEndPoint EndPoint { get; }

    public ProcessHandle Process { get; }

    /// <summary>
    /// Fails (never skips) with <see cref="RequirementsNotMetException"/> naming the package when
    /// coturn's programs are missing. The harness's own <see cref="Requirements"/> list covers
    /// what every netns test needs; coturn is needed by the STUN tests only.
    /// </summary>
    public static void EnsureInstalled()
    {
        string[] missing = [.. new[] { "turnserver", "turnutils_stunclient" }.Where(c => Requirements.FindInPath(c) is null)];
        if (missing.Length > 0)
        {
            throw new RequirementsNotMetException(
                $"The STUN integration tests need coturn: command(s) {string.Join(", ", missing)} not found in PATH (nor /usr/sbin, /sbin).\n"
                + $"Install: apt-get install -y {Package}   (.ci/run should install it with the other test packages)");
        }
    }

    /// <summary>Starts <c>turnserver</c> in <paramref name="ns"/> on <paramref name="address"/>:<paramref name="port"/> and waits until it listens on UDP.</summary>
    public static async Task<CoturnServer> StartAsync(NetworkNamespace ns, IPAddress address, int port = 3478)
    {
        EnsureInstalled();
        DirectoryInfo state = Directory.CreateTempSubdirectory("ma-coturn-");
        ProcessHandle process;
        try
        {
            string portText = port.ToString(CultureInfo.InvariantCulture);
            process = ns.StartProcess("turnserver",
            [
                "turnserver", "-n", "--stun-only", "--no-cli", "--no-tls", "--no-dtls",
                "--listening-ip", address.ToString(), "--listening-port", portText,
                "--userdb", Path.Combine(state.FullName, "turndb"), "--pidfile", Path.Combine(state.FullName, "turnserver.pid"),
                "--log-file", "stdout", "--simple-log",
            ]);

            string listening = $"{address}:{portText} ";
            await ProcessRunner.WaitUntilAsync(
                async () =>
                {
                    ProcessResult sockets = await ns.ExecAsync(["ss", "-Hlun"], new RunOptions { Check = false });
                    return sockets.StandardOutput.Contains(listening, StringComparison.Ordinal);
                },
                StartTimeout,
                $"turnserver listening on UDP {address}:{port} in {ns.Name}",
                [process]);
        }
        catch
        {
            DeleteQuietly(state, ns.Log);
            throw;
        }

        return new CoturnServer(new IPEndPoint(address, port), process, state);
    }

    /// <summary>Stops the server (SIGTERM; coturn exits within ~0.1 s) and deletes its state directory. Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        await Process.StopAsync();
        DeleteQuietly(_stateDirectory, HarnessLog.None);
    }

    private static void DeleteQuietly(DirectoryInfo directory, HarnessLog log)
    {
        try
        {
            directory.Delete(recursive: true);
        }
        catch (IOException e)
        {
            log.Write($"warning: could not delete {directory.FullName}: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            log.Write($"warning: could not delete {directory.FullName}: {e.Message}");
        }
    }
}
