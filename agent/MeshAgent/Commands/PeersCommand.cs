using System.CommandLine;
using System.Globalization;
using System.Text;
using MeshAgent.Engine.Control;

namespace MeshAgent.Commands;

/// <summary><c>meshagent peers</c>: every other member as an aligned table; <c>--json</c> prints the API's member list.</summary>
public static class PeersCommand
{
    public static readonly string[] Headers = ["NAME", "OVERLAY IPv4", "OVERLAY IPv6", "STATE", "PATH", "HANDSHAKE", "RX", "TX"];

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the members as JSON, exactly as the local API returns them (indented)." };
        Option<string> socket = DaemonCli.CreateSocketOption();
        var command = new Command("peers", "List the other members: addresses, state, path (direct ADDRESS, relay ADDRESS, or none), last handshake, traffic.")
        {
            json, socket,
        };
        DaemonCli.SetAction(command, socket, call => RunAsync(call, call.Parse.GetValue(json)));
        return command;
    }

    /// <summary>
    /// The table: a header row and one row per member, columns separated by at least two spaces and padded to
    /// their widest cell (RX and TX right-aligned); handshake ages are relative to <paramref name="now"/>.
    /// </summary>
    public static string FormatTable(IReadOnlyList<MemberInfo> members, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(members);
        var rows = new List<string[]> { Headers };
        rows.AddRange(members.Select(m => new[]
        {
            m.Name,
            m.OverlayIPv4,
            m.OverlayIPv6,
            m.State,
            FormatPath(m),
            FormatAge(m.LastHandshake, now),
            FormatBytes(m.RxBytes),
            FormatBytes(m.TxBytes),
        }));

        int columns = Headers.Length;
        int[] widths = Enumerable.Range(0, columns).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (string[] row in rows)
        {
            var line = new StringBuilder();
            for (int c = 0; c < columns; c++)
            {
                bool rightAligned = c >= columns - 2;
                line.Append(rightAligned ? row[c].PadLeft(widths[c]) : row[c].PadRight(widths[c]));
                if (c < columns - 1)
                {
                    line.Append("  ");
                }
            }

            text.Append(line.ToString().TrimEnd()).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// The path column: "direct 203.0.113.10:41820" (the member's address traffic goes to), "relay 198.51.100.1:3478"
    /// (the relay's address; the API's endpoint "relay HOST:PORT" loses its prefix here), "peer-relay …", or "none"
    /// without a session.
    /// </summary>
    public static string FormatPath(MemberInfo member)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (member.Path is "none" or "self" || member.Endpoint is not { Length: > 0 } endpoint)
        {
            return member.Path;
        }

        string prefix = member.Path + " ";
        return prefix + (endpoint.StartsWith(prefix, StringComparison.Ordinal) ? endpoint[prefix.Length..] : endpoint);
    }

    /// <summary>"never", "12s ago", "5m ago", "3h ago", "2d ago" (a time ahead of <paramref name="now"/>, from clock skew, is "just now").</summary>
    public static string FormatAge(DateTimeOffset? time, DateTimeOffset now)
    {
        if (time is not { } at)
        {
            return "never";
        }

        TimeSpan age = now - at;
        return age switch
        {
            { Ticks: < 0 } => "just now",
            { TotalSeconds: < 60 } => $"{(int)age.TotalSeconds}s ago",
            { TotalMinutes: < 60 } => $"{(int)age.TotalMinutes}m ago",
            { TotalHours: < 24 } => $"{(int)age.TotalHours}h ago",
            _ => $"{(int)age.TotalDays}d ago",
        };
    }

    /// <summary>Bytes in binary units: "0 B", "512 B", "1.5 KiB", "12.3 MiB", "2.0 GiB".</summary>
    public static string FormatBytes(long bytes)
    {
        string[] units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        if (bytes < 1024)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{Math.Max(bytes, 0)} B");
        }

        double value = bytes;
        int unit = -1;
        do
        {
            value /= 1024;
            unit++;
        }
        while (value >= 1024 && unit < units.Length - 1);

        // 1023.95 KiB would print as "1024.0 KiB": move it up a unit instead.
        if (Math.Round(value, 1) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    private static async Task<int> RunAsync(DaemonCall call, bool json)
    {
        if (json)
        {
            call.Output.WriteLine(DaemonCli.Indent(await call.Client.GetJsonAsync("v1/peers", call.CancellationToken)));
            return ExitCodes.Success;
        }

        IReadOnlyList<MemberInfo> members = await call.Client.GetPeersAsync(call.CancellationToken);
        if (members.Count == 0)
        {
            call.Output.WriteLine("no other member known yet — invite one with 'meshagent invite', or check 'meshagent status'");
            return ExitCodes.Success;
        }

        call.Output.Write(FormatTable(members, DateTimeOffset.UtcNow));
        return ExitCodes.Success;
    }
}
