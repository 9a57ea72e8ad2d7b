using System.CommandLine;
using MeshAgent.Core.Invitations;
using MeshAgent.Engine.Control;

namespace MeshAgent.Commands;

/// <summary>
/// <c>meshagent join TOKEN</c>: join the network a token names. The token's format is checked here first
/// (a mistyped or truncated token fails at once with what is wrong); its expiry and one-time use are judged
/// by the inviter. Each step the daemon reports is printed as it happens.
/// </summary>
public static class JoinCommand
{
    public static Command Create()
    {
        var token = new Argument<string>("TOKEN")
        {
            Description = "The join token (mesh1:…) from 'meshagent invite' on an admin node.",
        };
        var name = new Option<string?>("--name")
        {
            Description = "The name to ask for (default: the token's suggestion, else the host name).",
            HelpName = "NODE",
        };
        Option<string> socket = DaemonCli.CreateSocketOption();

        var command = new Command("join", "Join a network with a one-time token from 'meshagent invite'.")
        {
            token, name, socket,
        };
        DaemonCli.SetAction(command, socket, call => RunAsync(call, call.Parse.GetValue(token)!, call.Parse.GetValue(name)));
        return command;
    }

    private static async Task<int> RunAsync(DaemonCall call, string text, string? name)
    {
        if (!JoinToken.TryParse(text, out JoinToken? token, out JoinTokenError error))
        {
            return call.Invalid(error.Message);
        }

        if (name is not null && DaemonCli.DescribeNodeName(name) is { } nameProblem)
        {
            return call.Invalid($"--name: {nameProblem}");
        }

        TextWriter output = call.Output;
        NodeStatus status = await call.Client.JoinAsync(
            new JoinRequestModel { Token = token!.ToString(), NodeName = name },
            line =>
            {
                output.WriteLine(line);
                output.Flush();
            },
            call.CancellationToken);

        string network = status.Network is { } info ? $"{info.Name} ({info.RootPublicKey})" : token.NetworkName;
        output.WriteLine($"joined network {network}");
        if (status.Self is { } self)
        {
            output.WriteLine($"this node: {self.Name}, {self.OverlayIPv4}, {self.OverlayIPv6}");
        }

        output.WriteLine("see the other members with 'meshagent peers'");
        return ExitCodes.Success;
    }
}
