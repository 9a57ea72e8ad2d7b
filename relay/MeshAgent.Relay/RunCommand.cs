using System.CommandLine;
using System.Runtime.InteropServices;
using MeshAgent.Core.Trust;
using Microsoft.Extensions.Logging;

namespace MeshAgent.Relay;

/// <summary><c>meshrelay run</c>: parse the configuration, open the sockets, serve until SIGINT/SIGTERM.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config") { Description = "Configuration file: 'key = value' lines with the keys of the options below (without '--'); options given here override it." };
        var listen = new Option<string[]>("--listen") { Description = $"UDP endpoint (relay and STUN), repeatable: 0.0.0.0:{RelayOptions.DefaultPort}, [::]:{RelayOptions.DefaultPort}. Default 0.0.0.0:{RelayOptions.DefaultPort}.", Arity = ArgumentArity.ZeroOrMore };
        var tcpListen = new Option<string[]>("--tcp-listen") { Description = "TCP endpoint of the stream relay for clients whose network blocks UDP, repeatable: 0.0.0.0:443.", Arity = ArgumentArity.ZeroOrMore };
        var acceptRoot = new Option<string[]>("--accept-root") { Description = "Root public key (meshroot1:…) of a network this relay serves, repeatable.", Arity = ArgumentArity.ZeroOrMore };
        var stateDir = new Option<string?>("--state-dir") { Description = "Directory for the relay key and revocations (default /var/lib/meshrelay)." };
        var maxClients = new Option<string?>("--max-clients") { Description = "Most authenticated clients at once (default 10000)." };
        var packets = new Option<string?>("--client-packets-per-second") { Description = "Frames per second one client may send (default 10000)." };
        var bytes = new Option<string?>("--client-bytes-per-second") { Description = "Bytes per second one client may send (default 12500000)." };
        var idle = new Option<string?>("--idle-timeout") { Description = "Seconds without a frame after which a session ends (default 60)." };
        var tcpQueue = new Option<string?>("--tcp-queue-bytes") { Description = "Bytes queued towards one TCP client before frames are dropped (default 262144)." };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least severe log level shown.", DefaultValueFactory = _ => LogLevel.Information };

        var command = new Command("run", "Run the relay until SIGINT/SIGTERM.")
        {
            config, listen, tcpListen, acceptRoot, stateDir, maxClients, packets, bytes, idle, tcpQueue, logLevel,
        };
        command.SetAction(parse =>
        {
            var settings = new List<RelaySetting>();
            AddList(settings, "listen", parse.GetValue(listen));
            AddList(settings, "tcp-listen", parse.GetValue(tcpListen));
            AddList(settings, "accept-root", parse.GetValue(acceptRoot));
            AddScalar(settings, "state-dir", parse.GetValue(stateDir));
            AddScalar(settings, "max-clients", parse.GetValue(maxClients));
            AddScalar(settings, "client-packets-per-second", parse.GetValue(packets));
            AddScalar(settings, "client-bytes-per-second", parse.GetValue(bytes));
            AddScalar(settings, "idle-timeout", parse.GetValue(idle));
            AddScalar(settings, "tcp-queue-bytes", parse.GetValue(tcpQueue));
            return Run(parse.GetValue(config), settings, parse.GetValue(logLevel), Console.Error);
        });
        return command;
    }

    public static Command CreateKeyCommand()
    {
        var stateDir = new Option<string>("--state-dir") { Description = "The relay's state directory.", DefaultValueFactory = _ => "/var/lib/meshrelay" };
        var command = new Command("key", "Print the relay's public key (creating the key if the state directory has none).") { stateDir };
        command.SetAction(parse =>
        {
            string directory = parse.GetValue(stateDir)!;
            try
            {
                StateFiles.EnsureDirectory(directory);
                using NodeIdentity identity = StateFiles.LoadOrCreateIdentity(directory, out _);
                Console.Out.WriteLine(identity.PublicKey);
                return ExitCodes.Success;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"key: {e.Message}");
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    /// <summary>Runs the relay; returns the exit code. <paramref name="commandLine"/> settings override the file's per key.</summary>
    internal static int Run(FileInfo? configFile, IReadOnlyList<RelaySetting> commandLine, LogLevel logLevel, TextWriter error)
    {
        var errors = new List<string>();
        var fileSettings = new List<RelaySetting>();
        if (configFile is not null)
        {
            if (!configFile.Exists)
            {
                error.WriteLine($"run: the configuration file {configFile.FullName} does not exist — check the path");
                return ExitCodes.InvalidInput;
            }

            RelaySettings.ParseFile(File.ReadAllText(configFile.FullName), configFile.FullName, fileSettings, errors);
        }

        RelayOptions? options = RelaySettings.Build(fileSettings, commandLine, errors);
        if (options is null)
        {
            foreach (string problem in errors)
            {
                error.WriteLine(problem);
            }

            error.WriteLine($"run: {errors.Count} configuration error(s); nothing was started");
            return ExitCodes.InvalidInput;
        }

        using ILoggerFactory loggers = LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(logLevel);
            if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 })
            {
                builder.AddSystemdConsole();
            }
            else
            {
                builder.AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
                    console.UseUtcTimestamp = true;
                });
            }
        });

        NodeIdentity identity;
        RelayServer server;
        try
        {
            StateFiles.EnsureDirectory(options.StateDirectory);
            identity = StateFiles.LoadOrCreateIdentity(options.StateDirectory, out bool created);
            if (created)
            {
                RelayLog.IdentityCreated(loggers.CreateLogger("meshrelay"), Path.Combine(options.StateDirectory, StateFiles.IdentityFileName));
            }

            server = RelayServer.Start(options, identity, loggers);
            // STUN on the relay's UDP port (DESIGN §1): agents learn their public endpoints from it.
            server.OtherDatagram = new MeshAgent.Core.Stun.StunResponder("meshrelay").Respond;
        }
        catch (DllNotFoundException e)
        {
            error.WriteLine($"run: a native library is missing ({e.Message}) — install libsodium (Debian: apt-get install libsodium23)");
            return ExitCodes.MissingDependency;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or Core.Net.NativeCallException)
        {
            error.WriteLine($"run: {e.Message}");
            return ExitCodes.Failure;
        }

        using var stop = new ManualResetEventSlim(false);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Set(); });
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Set(); });
        stop.Wait();
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        identity.Dispose();
        return ExitCodes.Success;
    }

    private static void AddList(List<RelaySetting> settings, string key, string[]? values)
    {
        foreach (string value in values ?? [])
        {
            settings.Add(new RelaySetting(key, value, $"--{key}"));
        }
    }

    private static void AddScalar(List<RelaySetting> settings, string key, string? value)
    {
        if (value is not null)
        {
            settings.Add(new RelaySetting(key, value, $"--{key}"));
        }
    }
}
