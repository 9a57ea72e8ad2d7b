using System.CommandLine;
using MeshAgent.Engine.Control;

namespace MeshAgent.Commands;

/// <summary><c>meshagent admin grant NAME</c>: make another member an admin (admins only).</summary>
public static class AdminCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The member to make an admin." };
        Option<string> socket = DaemonCli.CreateSocketOption();
        var grant = new Command("grant", "Make a member an admin: it receives the network root key inside its encrypted session and can then invite and revoke.")
        {
            name, socket,
        };
        DaemonCli.SetAction(grant, socket, call => GrantAsync(call, call.Parse.GetValue(name)!), "admin grant");

        return new Command("admin", "Manage the network's admins.") { grant };
    }

    private static async Task<int> GrantAsync(DaemonCall call, string name)
    {
        if (DaemonCli.DescribeNodeName(name) is { } problem)
        {
            return call.Invalid(problem);
        }

        MemberInfo member = await call.Client.GrantAdminAsync(new GrantAdminRequest { Name = name }, call.CancellationToken);
        call.Output.WriteLine($"{member.Name} ({member.NodeKey}) is now an admin");
        return ExitCodes.Success;
    }
}
