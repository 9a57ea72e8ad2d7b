using System.CommandLine;
using System.Globalization;
using MeshAgent.Engine.Control;

namespace MeshAgent.Commands;

/// <summary><c>meshagent revoke NAME</c>: revoke a member (admins only); the revocation spreads by gossip and is kept forever.</summary>
public static class RevokeCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The member to revoke." };
        var reason = new Option<string?>("--reason")
        {
            Description = "Why (kept with the revocation, shown to the other admins).",
            HelpName = "TEXT",
        };
        Option<string> socket = DaemonCli.CreateSocketOption();
        var command = new Command("revoke", "Revoke a member (admins only): every node stops talking to it, for good; it cannot rejoin with the same identity.")
        {
            name, reason, socket,
        };
        DaemonCli.SetAction(command, socket, call => RunAsync(call, call.Parse.GetValue(name)!, call.Parse.GetValue(reason)));
        return command;
    }

    private static async Task<int> RunAsync(DaemonCall call, string name, string? reason)
    {
        if (DaemonCli.DescribeNodeName(name) is { } problem)
        {
            return call.Invalid(problem);
        }

        RevokeResult result = await call.Client.RevokeAsync(new RevokeRequest { Name = name, Reason = reason }, call.CancellationToken);
        call.Output.WriteLine(
            $"revoked {result.Name} ({result.NodeKey}) at {result.RevokedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC; the revocation is spreading to every member");
        return ExitCodes.Success;
    }
}
