using System.Net.Sockets;
using MeshAgent.Api;
using MeshAgent.Engine.Control;
using MeshAgent.Engine.Mesh;

namespace MeshAgent.Daemon;

/// <summary>
/// <c>meshagent run</c> in membership mode: the mesh node plus its local API, until asked to stop.
/// Start order: state directory check → <see cref="MeshNode"/> → <see cref="ApiServer"/> → READY=1 to systemd.
/// Stop order (the reverse): STOPPING=1 → API stopped (no new requests reach a node going away) → node disposed.
/// </summary>
public static class MembershipDaemon
{
    private const UnixFileMode StateDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Runs until <paramref name="stopping"/> is cancelled (the caller wires SIGINT/SIGTERM to it). Startup failures are
    /// one line on <paramref name="error"/> and a non-zero exit code; a clean stop is <see cref="ExitCodes.Success"/>.
    /// </summary>
    public static async Task<int> RunAsync(MeshNodeOptions options, string socketPath, SystemdNotifier notifier, TextWriter output, TextWriter error, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(notifier);
        if (CheckStateDirectory(options.StateDirectory) is { } problem)
        {
            error.WriteLine($"run: {problem}");
            return ExitCodes.Failure;
        }

        MeshNode node;
        try
        {
            node = await MeshNode.StartAsync(options, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }
        catch (MeshControlException e)
        {
            error.WriteLine($"run: starting the mesh node failed: {e.Message}");
            return DaemonExitCode(e.Kind);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            error.WriteLine($"run: UDP port {options.ListenPort} is already in use — stop what uses it (ss -ulpn 'sport = :{options.ListenPort}') or pass --listen-port PORT");
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
        {
            error.WriteLine($"run: starting the mesh node failed: {e.Message}");
            return ExitCodes.Failure;
        }

        await using (node)
        {
            ApiServer api;
            try
            {
                api = await ApiServer.StartAsync(node, socketPath, output, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return ExitCodes.Success;
            }
            catch (IOException e)
            {
                error.WriteLine($"run: {e.Message}");
                return ExitCodes.Failure;
            }

            await using (api)
            {
                notifier.NotifyReady($"local API on {api.SocketPath}");
                try
                {
                    await Task.Delay(Timeout.Infinite, stopping);
                }
                catch (OperationCanceledException)
                {
                    // Asked to stop.
                }

                notifier.NotifyStopping("stopping");
                output.WriteLine("meshagent: stopping");
                await api.StopAsync(CancellationToken.None);
            }
        }

        output.WriteLine("meshagent: stopped");
        return ExitCodes.Success;
    }

    /// <summary>Creates the state directory (0700) when missing and proves it writable, so a bad --state-dir fails at start with its path.</summary>
    internal static string? CheckStateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the daemon runs on Linux");
        }

        try
        {
            if (!Directory.Exists(path))
            {
                Directory.CreateDirectory(path, StateDirectoryMode);
            }

            string probe = Path.Combine(path, $".meshagent-write-test-{Environment.ProcessId}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }

            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"the state directory {path} is not usable ({e.Message}) — run as root (the service does), or pass --state-dir DIR that you may write";
        }
    }

    private static int DaemonExitCode(ControlErrorKind kind) => kind == ControlErrorKind.InvalidInput ? ExitCodes.InvalidInput : ExitCodes.Failure;
}
