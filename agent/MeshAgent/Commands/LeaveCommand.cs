using System.CommandLine;
using MeshAgent.Engine.Control;

namespace MeshAgent.Commands;

/// <summary><c>meshagent leave</c>: announce departure to the mesh and take the interface down.</summary>
public static class LeaveCommand
{
    public static Command Create()
    {
        Option<string> socket = DaemonCli.CreateSocketOption();
        var command = new Command("leave", "Leave the network: tell the other members, then take the interface down. Joining again needs a new token.")
        {
            socket,
        };
        DaemonCli.SetAction(command, socket, RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(DaemonCall call)
    {
        NodeStatus status = await call.Client.LeaveAsync(call.CancellationToken);
        call.Output.WriteLine(status.Network is { } network
            ? $"left network {network.Name}; {status.InterfaceName} is down"
            : $"left the network; {status.InterfaceName} is down");
        return ExitCodes.Success;
    }
}
