using System.CommandLine;
using System.Runtime.InteropServices;
using MeshAgent.Core.Config;
using MeshAgent.Engine.StaticMode;

namespace MeshAgent.Commands;

/// <summary>
/// `meshagent run`: the daemon. Today it runs static mode from a wg-quick config
/// (`--wg-config`); membership mode arrives with the gossip work.
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
            Description = "TUN interface name (default: the config file name without .conf, like wg-quick; at most 15 characters).",
        };
        var stateDir = new Option<string>("--state-dir")
        {
            Description = "Directory for persistent state (the handshake timestamp floor).",
            DefaultValueFactory = _ => "/var/lib/meshagent",
        };

        var command = new Command("run", "Run the agent (daemon): bring the tunnel up and forward traffic until SIGINT/SIGTERM.")
        {
            wgConfig, interfaceName, stateDir,
        };
        command.SetAction(parse => Run(parse.GetValue(wgConfig), parse.GetValue(interfaceName), parse.GetValue(stateDir)!, Console.Out, Console.Error));
        return command;
    }

    public static int Run(FileInfo? configFile, string? interfaceName, string stateDirectory, TextWriter output, TextWriter error)
    {
        if (configFile is null)
        {
            error.WriteLine("run: no configuration given — pass --wg-config FILE (a wg-quick config); membership mode is not available yet");
            return ExitCodes.InvalidInput;
        }

        if (!configFile.Exists)
        {
            error.WriteLine($"run: the configuration file {configFile.FullName} does not exist — check the path");
            return ExitCodes.InvalidInput;
        }

        string name = interfaceName ?? Path.GetFileNameWithoutExtension(configFile.Name);
        if (name.Length is 0 or > 15 || name.Any(c => char.IsWhiteSpace(c) || c == '/'))
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
