using System.CommandLine;
using MeshAgent.Commands;

namespace MeshAgent;

/// <summary>
/// Entry point of the <c>meshagent</c> executable. Each command lives in its own file under
/// <c>Commands/</c> and exposes a static <c>Create()</c>; adding a command means adding one line to
/// <see cref="CreateRootCommand"/>.
/// </summary>
public static class Program
{
    public static int Main(string[] args) => CreateRootCommand().Parse(args).Invoke();

    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("meshagent: a peer-to-peer mesh VPN agent that speaks the WireGuard protocol");
        Add(root, KeyCommands.Create());
        Add(root, RunCommand.Create());
        Add(root, InitCommand.Create(), InviteCommand.Create(), JoinCommand.Create(), LeaveCommand.Create());
        Add(root, RevokeCommand.Create(), AdminCommand.Create());
        Add(root, StatusCommand.Create(), PeersCommand.Create(), PingCommand.Create(), NetcheckCommand.Create());
        return root;
    }

    private static void Add(RootCommand root, params IEnumerable<Command> commands)
    {
        foreach (Command command in commands)
        {
            root.Subcommands.Add(command);
        }
    }
}

/// <summary>
/// Process exit codes shared by every command, so scripts can tell failures apart.
/// Parse errors (unknown command or option) are reported by System.CommandLine with <see cref="Failure"/>.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Any failure without a more specific code.</summary>
    public const int Failure = 1;

    /// <summary>The input (stdin, a file, an argument value) is malformed; nothing was changed.</summary>
    public const int InvalidInput = 2;

    /// <summary>A required system component is missing (e.g. libsodium); the message names the package to install.</summary>
    public const int MissingDependency = 3;

    /// <summary>No daemon answers on the local API socket (not running, another --socket, or no permission); the message says which.</summary>
    public const int DaemonUnreachable = 4;
}
