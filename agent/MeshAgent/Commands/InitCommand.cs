using System.CommandLine;
using System.Net.Sockets;
using MeshAgent.Engine.Control;
using MeshAgent.Engine.Mesh;

namespace MeshAgent.Commands;

/// <summary><c>meshagent init</c>: create a new network with this node as its first admin.</summary>
public static class InitCommand
{
    public const string DefaultIPv4Network = "100.96.0.0/16";

    public static Command Create()
    {
        var network = new Option<string>("--network")
        {
            Description = "The new network's name (shown to everyone who joins).",
            HelpName = "NAME",
            Required = true,
        };
        var cidr = new Option<string?>("--cidr")
        {
            Description = $"Overlay IPv4 network the members' addresses come from (default {DefaultIPv4Network}).",
            HelpName = "CIDR",
        };
        var ipv6Prefix = new Option<string?>("--ipv6-prefix")
        {
            Description = "Overlay IPv6 prefix, /64 or shorter (default: a ULA fd00::/8 prefix derived from the network's root key).",
            HelpName = "PREFIX",
        };
        var name = new Option<string?>("--name")
        {
            Description = "This node's name (default: the host name).",
            HelpName = "NODE",
        };
        var relay = new Option<string[]>("--relay")
        {
            Description = "A meshrelay the network uses when members cannot reach each other directly (repeatable, at most 4): HOST:PORT[,tcp=PORT][,key=KEY], KEY as 'meshrelay key' prints it.",
            HelpName = "RELAY",
            AllowMultipleArgumentsPerToken = false,
        };
        Option<string> socket = DaemonCli.CreateSocketOption();

        var command = new Command("init", "Create a new network with this node as its first admin; then invite others with 'meshagent invite'.")
        {
            network, cidr, ipv6Prefix, name, relay, socket,
        };
        DaemonCli.SetAction(command, socket, call => RunAsync(call, call.Parse.GetValue(network)!, call.Parse.GetValue(cidr), call.Parse.GetValue(ipv6Prefix), call.Parse.GetValue(name), call.Parse.GetValue(relay) ?? []));
        return command;
    }

    private static async Task<int> RunAsync(DaemonCall call, string network, string? cidr, string? ipv6Prefix, string? name, string[] relays)
    {
        if (string.IsNullOrWhiteSpace(network))
        {
            return call.Invalid("--network needs a name for the new network");
        }

        if (cidr is not null && DaemonCli.DescribeNetwork(cidr, AddressFamily.InterNetwork, "--cidr") is { } cidrProblem)
        {
            return call.Invalid(cidrProblem);
        }

        if (ipv6Prefix is not null)
        {
            if (DaemonCli.DescribeNetwork(ipv6Prefix, AddressFamily.InterNetworkV6, "--ipv6-prefix") is { } prefixProblem)
            {
                return call.Invalid(prefixProblem);
            }

            if (int.Parse(ipv6Prefix.AsSpan(ipv6Prefix.IndexOf('/', StringComparison.Ordinal) + 1), System.Globalization.CultureInfo.InvariantCulture) > 64)
            {
                return call.Invalid($"--ipv6-prefix '{ipv6Prefix}' is longer than /64; members' addresses need a /64 or a shorter prefix");
            }
        }

        if (name is not null && DaemonCli.DescribeNodeName(name) is { } nameProblem)
        {
            return call.Invalid($"--name: {nameProblem}");
        }

        foreach (string text in relays)
        {
            if (!NetworkRelay.TryParse(text, out _, out string? relayProblem))
            {
                return call.Invalid($"--relay: {relayProblem}");
            }
        }

        NodeStatus status = await call.Client.InitAsync(
            new InitRequest { Network = network, IPv4Network = cidr, IPv6Prefix = ipv6Prefix, NodeName = name, Relays = relays.Length == 0 ? null : relays },
            call.CancellationToken);

        TextWriter output = call.Output;
        output.WriteLine($"created network {status.Network?.Name ?? network}" + (status.Network is { } info ? $" ({info.RootPublicKey})" : string.Empty));
        if (status.Network is { } net)
        {
            output.WriteLine($"overlay: {net.IPv4Network}, {net.IPv6Prefix}");
        }

        if (status.Self is { } self)
        {
            output.WriteLine($"this node: {self.Name}, {self.OverlayIPv4}, {self.OverlayIPv6}{(self.IsAdmin ? " (admin)" : string.Empty)}");
        }

        foreach (string text in relays)
        {
            output.WriteLine($"relay: {text}");
        }

        output.WriteLine("next: invite a machine with 'meshagent invite --name NAME' and run 'meshagent join TOKEN' there");
        return ExitCodes.Success;
    }
}
