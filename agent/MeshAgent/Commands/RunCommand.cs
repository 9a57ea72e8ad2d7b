using System.CommandLine;
using System.Runtime.InteropServices;
using MeshAgent.Api;
using MeshAgent.Core.Config;
using MeshAgent.Daemon;
using MeshAgent.Engine.Mesh;
using MeshAgent.Engine.StaticMode;

namespace MeshAgent.Commands;

/// <summary>
/// `meshagent run`: the daemon. Without `--wg-config` it runs membership mode (the mesh node and its
/// local API, <see cref="MembershipDaemon"/>); with it, static mode: one tunnel from a wg-quick config.
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var wgConfig = new Option<FileInfo>("--wg-config")
        {
            Description = "Run a static tunnel from a wg-quick configuration file ([Interface] + [Peer] sections).",
        };
        var interfaceName = new Option<string?>("--interface")
        {
            Description = "TUN interface name, at most 15 characters (default: mesh0; with --wg-config the config file name without .conf, like wg-quick).",
        };
        var stateDir = new Option<string>("--state-dir")
        {
            Description = "Directory for persistent state: keys, certificates, membership (static mode: the handshake timestamp floor).",
            DefaultValueFactory = _ => "/var/lib/meshagent",
        };
        Option<string> socket = DaemonCli.CreateSocketOption();
        socket.Description = $"Membership mode: where the local API listens (default {ApiServer.DefaultSocketPath}).";
        var listenPort = new Option<int>("--listen-port")
        {
            Description = $"Membership mode: the UDP port for WireGuard, join and STUN traffic (default {MeshNodeOptions.DefaultListenPort}; 0 picks a free one).",
            HelpName = "PORT",
            DefaultValueFactory = _ => MeshNodeOptions.DefaultListenPort,
        };

        var command = new Command(
            "run",
            "Run the agent (daemon) until SIGINT/SIGTERM: the mesh node and its local API, or with --wg-config one static tunnel.")
        {
            wgConfig, interfaceName, stateDir, socket, listenPort,
        };
        command.SetAction(parse =>
        {
            FileInfo? config = parse.GetValue(wgConfig);
            TextWriter output = parse.InvocationConfiguration.Output;
            TextWriter error = parse.InvocationConfiguration.Error;
            return config is null
                ? RunMembership(parse.GetValue(stateDir)!, parse.GetValue(interfaceName) ?? "mesh0", parse.GetValue(listenPort), parse.GetValue(socket)!, output, error)
                : Run(config, parse.GetValue(interfaceName), parse.GetValue(stateDir)!, output, error);
        });
        return command;
    }

    /// <summary>Membership mode until SIGINT or SIGTERM; see <see cref="MembershipDaemon"/>.</summary>
    public static int RunMembership(string stateDirectory, string interfaceName, int listenPort, string socketPath, TextWriter output, TextWriter error)
    {
        if (!IsValidInterfaceName(interfaceName))
        {
            error.WriteLine($"run: '{interfaceName}' is not a valid interface name (1–15 characters, no spaces or '/') — pass --interface NAME");
            return ExitCodes.InvalidInput;
        }

        if (listenPort is < 0 or > 65535)
        {
            error.WriteLine($"run: --listen-port {listenPort} is not a UDP port (0–65535)");
            return ExitCodes.InvalidInput;
        }

        // Our own handlers (not the runtime's default termination) so the API and the node stop in order.
        using var stopping = new CancellationTokenSource();
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stopping.Cancel(); });
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stopping.Cancel(); });
        using SystemdNotifier notifier = SystemdNotifier.FromEnvironment();

        var options = new MeshNodeOptions
        {
            StateDirectory = stateDirectory,
            InterfaceName = interfaceName,
            ListenPort = listenPort,
            Log = TextWriter.Synchronized(output),
        };
        return MembershipDaemon.RunAsync(options, socketPath, notifier, output, error, stopping.Token).GetAwaiter().GetResult();
    }

    private static bool IsValidInterfaceName(string name) => name.Length is > 0 and <= 15 && !name.Any(c => char.IsWhiteSpace(c) || c == '/');

    /// <summary>Static mode: one tunnel from a wg-quick configuration file until SIGINT or SIGTERM.</summary>
    public static int Run(FileInfo configFile, string? interfaceName, string stateDirectory, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(configFile);
        if (!configFile.Exists)
        {
            error.WriteLine($"run: the configuration file {configFile.FullName} does not exist — check the path");
            return ExitCodes.InvalidInput;
        }

        string name = interfaceName ?? Path.GetFileNameWithoutExtension(configFile.Name);
        if (!IsValidInterfaceName(name))
        {
            error.WriteLine($"run: '{name}' is not a valid interface name (1–15 characters, no spaces or '/') — pass --interface NAME");
            return ExitCodes.InvalidInput;
        }

        if (!WgQuickConfig.TryParse(File.ReadAllText(configFile.FullName), configFile.FullName, out WgQuickConfig? config, out IReadOnlyList<ConfigError> errors))
        {
            foreach (ConfigError configError in errors)
            {
                error.WriteLine($"{configFile.FullName}: {configError}");
            }

            error.WriteLine($"run: {errors.Count} error(s) in {configFile.FullName}; nothing was changed");
            return ExitCodes.InvalidInput;
        }

        foreach (ConfigWarning warning in config!.Warnings)
        {
            error.WriteLine($"{configFile.FullName}: warning: {warning}");
        }

        foreach (IgnoredKey ignored in config.IgnoredKeys)
        {
            error.WriteLine($"{configFile.FullName}: line {ignored.Line}: {ignored.Key} is a wg-quick setting that meshagent does not apply; ignored");
        }

        using var stop = new ManualResetEventSlim(false);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Set(); });
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Set(); });

        StaticTunnel tunnel;
        try
        {
            tunnel = StaticTunnel.StartAsync(config, name, stateDirectory, output).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EndpointResolutionException or ArgumentException or InvalidOperationException)
        {
            error.WriteLine($"run: bringing up {name} failed: {e.Message}");
            return ExitCodes.Failure;
        }

        int exitCode = ExitCodes.Success;
        using (tunnel)
        {
            // A fault on a data-plane thread is a bug; a tunnel that silently stopped forwarding is
            // worse than a restart, so report it and exit non-zero (systemd restarts the unit).
            while (!stop.Wait(TimeSpan.FromSeconds(1)))
            {
                if (tunnel.DataPlane.Faults.TryPeek(out Exception? fault))
                {
                    error.WriteLine($"run: the data plane of {name} failed and stopped forwarding: {fault}");
                    exitCode = ExitCodes.Failure;
                    break;
                }
            }

            output.WriteLine($"meshagent: stopping {name}");
        }

        output.WriteLine($"meshagent: {name} removed");
        return exitCode;
    }
}
