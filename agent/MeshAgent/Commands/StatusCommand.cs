using System.CommandLine;
using MeshAgent.Engine.Control;

namespace MeshAgent.Commands;

/// <summary><c>meshagent status</c>: the network, this node and a member count; <c>--json</c> prints the API's NodeStatus.</summary>
public static class StatusCommand
{
    /// <summary>Member states in the order the count line lists them.</summary>
    private static readonly string[] StateOrder = ["alive", "suspect", "dead", "left", "revoked"];

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the daemon's NodeStatus as JSON, exactly as the local API returns it (indented)." };
        Option<string> socket = DaemonCli.CreateSocketOption();
        var command = new Command("status", "Show the network, this node (name, addresses, phase, interface, port) and how many members it knows.")
        {
            json, socket,
        };
        DaemonCli.SetAction(command, socket, call => RunAsync(call, call.Parse.GetValue(json)));
        return command;
    }

    /// <summary>The human form of <paramref name="status"/>: "label: value" lines.</summary>
    public static string Format(NodeStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var lines = new List<(string Label, string Value)>();
        if (status.Network is { } network)
        {
            lines.Add(("network", $"{network.Name} ({network.RootPublicKey})"));
            lines.Add(("overlay", $"{network.IPv4Network}, {network.IPv6Prefix}"));
        }

        if (status.Self is { } self)
        {
            lines.Add(("node", self.IsAdmin ? $"{self.Name} (admin)" : self.Name));
            lines.Add(("addresses", $"{self.OverlayIPv4}, {self.OverlayIPv6}"));
        }

        lines.Add(("phase", DescribePhase(status.Phase)));
        lines.Add(("interface", $"{status.InterfaceName}, UDP port {status.ListenPort}"));
        if (status.Phase != NodePhase.NotJoined)
        {
            lines.Add(("members", CountMembers(status.Members)));
        }

        if (status.Phase == NodePhase.Running)
        {
            lines.Add(("NAT", DescribeNat(status.Nat) + (status.PublicEndpoints.Count > 0 ? $"; public {string.Join(", ", status.PublicEndpoints)}" : "")));
            if (status.Relays.Count > 0)
            {
                lines.Add(("relays", string.Join(", ", status.Relays.Select(r => $"{r.Address} {r.State}"))));
            }
        }

        int width = lines.Max(l => l.Label.Length) + 2;
        return string.Concat(lines.Select(l => (l.Label + ":").PadRight(width) + l.Value + "\n"));
    }

    /// <summary>"3 others known: 2 alive, 1 suspect", or "no other member known yet".</summary>
    public static string CountMembers(IReadOnlyList<MemberInfo> members)
    {
        if (members.Count == 0)
        {
            return "no other member known yet";
        }

        IEnumerable<string> counts = members
            .GroupBy(m => m.State, StringComparer.OrdinalIgnoreCase)
            .OrderBy(g => Array.IndexOf(StateOrder, g.Key.ToLowerInvariant()) is var i && i >= 0 ? i : StateOrder.Length)
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Count()} {g.Key}");
        return $"{members.Count} {(members.Count == 1 ? "other" : "others")} known: {string.Join(", ", counts)}";
    }

    private static string DescribeNat(string nat) => nat switch
    {
        "none" => "none (public address)",
        "endpoint-independent" => "endpoint-independent (easy: direct paths punch)",
        "endpoint-dependent" => "endpoint-dependent (symmetric: direct only with easy or public peers, by birthday probing)",
        "udp-blocked" => "UDP blocked (relay over TCP)",
        _ => "unknown (not measured yet: needs answers from two public STUN servers, e.g. a relay and a public member)",
    };

    private static string DescribePhase(NodePhase phase) => phase switch
    {
        NodePhase.NotJoined => "not joined — create a network with 'meshagent init --network NAME' or join one with 'meshagent join TOKEN'",
        NodePhase.Running => "running",
        NodePhase.Left => "left the network — join again with a new token ('meshagent join TOKEN')",
        NodePhase.Revoked => "revoked by an admin — this identity cannot rejoin",
        _ => phase.ToString(),
    };

    private static async Task<int> RunAsync(DaemonCall call, bool json)
    {
        if (json)
        {
            call.Output.WriteLine(DaemonCli.Indent(await call.Client.GetJsonAsync("v1/status", call.CancellationToken)));
            return ExitCodes.Success;
        }

        call.Output.Write(Format(await call.Client.GetStatusAsync(call.CancellationToken)));
        return ExitCodes.Success;
    }
}
