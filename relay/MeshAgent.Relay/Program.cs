using System.CommandLine;

namespace MeshAgent.Relay;

/// <summary>
/// Entry point of the <c>meshrelay</c> executable (DESIGN §1): <c>meshrelay run</c> serves; <c>meshrelay key</c>
/// prints the relay's public key (for clients that pin it).
/// </summary>
public static class Program
{
    public static int Main(string[] args) => CreateRootCommand().Parse(args).Invoke();

    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("meshrelay: relay (UDP and TCP) for MeshAgent networks; forwards end-to-end encrypted packets between members it authenticates");
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(RunCommand.CreateKeyCommand());
        return root;
    }
}

/// <summary>Process exit codes, as the agent's: scripts can tell failures apart.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Any failure without a more specific code (a socket that cannot be opened, an unreadable state file).</summary>
    public const int Failure = 1;

    /// <summary>The configuration is invalid; nothing was started.</summary>
    public const int InvalidInput = 2;

    /// <summary>A required system component is missing (libsodium); the message names the package.</summary>
    public const int MissingDependency = 3;
}
