using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MeshAgent.Api;
using MeshAgent.Engine.Control;

namespace MeshAgent.Commands;

/// <summary>
/// <c>meshagent ping PEER</c>: probes a member through the daemon, one request per probe, and prints each answer
/// with the path it took (direct endpoint or relay) and its round-trip time, then a summary. The daemon sends the
/// probe as a path ping inside the member's WireGuard session on the member's current path, so this measures
/// the mesh path itself (no ICMP, no TUN, no firewall in between).
/// </summary>
/// <remarks>Exit codes: 0 at least one answer; 1 none; 2 bad input (including an unknown member); 4 no daemon.</remarks>
public static class PingCommand
{
    public const int DefaultCount = 4;
    public const int MaxCount = 100_000;
    public const double DefaultIntervalSeconds = 1;
    public const double MinIntervalSeconds = 0.1;
    public const double DefaultTimeoutSeconds = 2;
    public const double MaxSeconds = 60;

    public static Command Create()
    {
        var peer = new Argument<string>("PEER") { Description = "The member to probe: its name (as 'meshagent peers' lists it) or its overlay IPv4 or IPv6 address." };
        var count = new Option<int>("--count", "-c")
        {
            Description = $"How many probes to send (default {DefaultCount}, at most {MaxCount}).",
            DefaultValueFactory = _ => DefaultCount,
        };
        var interval = new Option<double>("--interval")
        {
            Description = $"Seconds between probes (default {DefaultIntervalSeconds}, at least {MinIntervalSeconds}).",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => DefaultIntervalSeconds,
        };
        var timeout = new Option<double>("--timeout")
        {
            Description = $"Seconds to wait for each answer, a first handshake included (default {DefaultTimeoutSeconds}, at most {MaxSeconds}).",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => DefaultTimeoutSeconds,
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON document at the end: every reply as the local API returned it, and the summary." };
        Option<string> socket = DaemonCli.CreateSocketOption();
        var command = new Command("ping", "Probe a member through the mesh: each answer with its path (direct endpoint or relay) and round-trip time, then a summary.")
        {
            peer, count, interval, timeout, json, socket,
        };
        DaemonCli.SetAction(command, socket, call => RunAsync(
            call,
            call.Parse.GetValue(peer) ?? string.Empty,
            call.Parse.GetValue(count),
            call.Parse.GetValue(interval),
            call.Parse.GetValue(timeout),
            call.Parse.GetValue(json)));
        return command;
    }

    /// <summary>Null when the options are usable, else what is wrong and what to give instead.</summary>
    public static string? Validate(string peer, int count, double intervalSeconds, double timeoutSeconds)
    {
        if (!PeerQuery.TryParse(peer, out _, out string? error))
        {
            return error;
        }

        if (count is < 1 or > MaxCount)
        {
            return $"--count {count} is out of range — give 1 to {MaxCount}";
        }

        if (!double.IsFinite(intervalSeconds) || intervalSeconds < MinIntervalSeconds || intervalSeconds > MaxSeconds)
        {
            return $"--interval {intervalSeconds.ToString(CultureInfo.InvariantCulture)} is out of range — give {MinIntervalSeconds.ToString(CultureInfo.InvariantCulture)} to {MaxSeconds} seconds";
        }

        if (!double.IsFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > MaxSeconds)
        {
            return $"--timeout {timeoutSeconds.ToString(CultureInfo.InvariantCulture)} is out of range — give more than 0 and at most {MaxSeconds} seconds";
        }

        return null;
    }

    /// <summary>
    /// One line per probe: "pong from nas (100.96.0.3) via direct 203.0.113.10:41820 in 0.42 ms", or for no answer
    /// "no reply from nas (100.96.0.3) via relay 198.51.100.1:3478: WHY". The overlay address shown is IPv6 when the
    /// member was named by its IPv6 address, else IPv4.
    /// </summary>
    public static string FormatReply(PingReply reply, bool showIPv6 = false)
    {
        ArgumentNullException.ThrowIfNull(reply);
        string who = $"{reply.Peer} ({(showIPv6 ? reply.OverlayIPv6 : reply.OverlayIPv4)})";
        string via = reply.Path == "none" ? "" : reply.Endpoint is { } endpoint ? $" via {reply.Path} {endpoint}" : $" via {reply.Path}";
        return reply.Replied && reply.RttMilliseconds is { } rtt
            ? $"pong from {who}{via} in {FormatMilliseconds(rtt)} ms"
            : $"no reply from {who}{via}: {reply.Detail ?? "no answer"}";
    }

    /// <summary>Milliseconds with the precision that means something: 0.42, 1.9, 23.4, 187.</summary>
    public static string FormatMilliseconds(double milliseconds) => milliseconds switch
    {
        < 1 => milliseconds.ToString("0.00", CultureInfo.InvariantCulture),
        < 100 => milliseconds.ToString("0.0", CultureInfo.InvariantCulture),
        _ => milliseconds.ToString("0", CultureInfo.InvariantCulture),
    };

    /// <summary>Counts and round-trip statistics over <paramref name="replies"/> (one per probe sent).</summary>
    public static PingStatistics Summarize(IReadOnlyList<PingReply> replies)
    {
        ArgumentNullException.ThrowIfNull(replies);
        double[] rtts = [.. replies.Where(r => r.Replied && r.RttMilliseconds is not null).Select(r => r.RttMilliseconds!.Value)];
        int sent = replies.Count;
        return new PingStatistics
        {
            Sent = sent,
            Received = rtts.Length,
            LossPercent = sent == 0 ? 0 : Math.Round(100.0 * (sent - rtts.Length) / sent, 1),
            RttMinMilliseconds = rtts.Length == 0 ? null : rtts.Min(),
            RttAvgMilliseconds = rtts.Length == 0 ? null : rtts.Average(),
            RttMaxMilliseconds = rtts.Length == 0 ? null : rtts.Max(),
        };
    }

    /// <summary>"--- nas (100.96.0.3) ping statistics ---" and "4 sent, 3 received, 25% loss, rtt min/avg/max 0.38/0.42/0.51 ms".</summary>
    public static string FormatSummary(string target, PingStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        string counts = $"{statistics.Sent} sent, {statistics.Received} received, {statistics.LossPercent.ToString("0.#", CultureInfo.InvariantCulture)}% loss";
        string rtt = statistics is { RttMinMilliseconds: { } min, RttAvgMilliseconds: { } avg, RttMaxMilliseconds: { } max }
            ? $", rtt min/avg/max {FormatMilliseconds(min)}/{FormatMilliseconds(avg)}/{FormatMilliseconds(max)} ms"
            : "";
        return $"--- {target} ping statistics ---\n{counts}{rtt}\n";
    }

    /// <summary>The exit code for a finished run: 0 when anything answered, else 1.</summary>
    public static int ExitCodeOf(PingStatistics statistics) => statistics.Received > 0 ? ExitCodes.Success : ExitCodes.Failure;

    private static async Task<int> RunAsync(DaemonCall call, string peer, int count, double intervalSeconds, double timeoutSeconds, bool json)
    {
        if (Validate(peer, count, intervalSeconds, timeoutSeconds) is { } problem)
        {
            return call.Invalid(problem);
        }

        PeerQuery.TryParse(peer, out PeerQuery query, out _);
        bool showIPv6 = query.Address?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        var request = new PingRequest { Peer = peer.Trim(), Timeout = TimeSpan.FromSeconds(timeoutSeconds) };
        TimeSpan interval = TimeSpan.FromSeconds(intervalSeconds);
        var replies = new List<PingReply>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            for (int i = 0; i < count; i++)
            {
                TimeSpan due = interval * i;
                if (clock.Elapsed < due)
                {
                    await Task.Delay(due - clock.Elapsed, call.CancellationToken);
                }

                PingReply reply;
                try
                {
                    reply = await call.Client.PingAsync(request, call.CancellationToken);
                }
                catch (MeshControlException e) when (e.Kind == ControlErrorKind.NotFound && replies.Count == 0)
                {
                    // An unknown member is a mistake in the input, like a malformed name.
                    return call.Invalid(e.Message);
                }

                replies.Add(reply);
                if (!json)
                {
                    call.Output.WriteLine(FormatReply(reply, showIPv6));
                }
            }
        }
        catch (OperationCanceledException) when (call.CancellationToken.IsCancellationRequested && replies.Count > 0)
        {
            // Ctrl+C: the summary of what was sent, as ping(8) does.
        }

        PingStatistics statistics = Summarize(replies);
        PingReply? first = replies.FirstOrDefault();
        string target = first is null ? peer : $"{first.Peer} ({(showIPv6 ? first.OverlayIPv6 : first.OverlayIPv4)})";
        if (json)
        {
            var report = new PingReport { Peer = first?.Peer ?? peer, Replies = replies, Statistics = statistics };
            call.Output.WriteLine(DaemonCli.Indent(JsonSerializer.Serialize(report, ApiJson.PingReport)));
        }
        else
        {
            call.Output.Write(FormatSummary(target, statistics));
        }

        if (statistics.Received == 0 && statistics.Sent > 0)
        {
            call.Fail($"no answer from {target} to {statistics.Sent} probe(s) — see why on each line above; 'meshagent peers' shows its state, path and last handshake, 'meshagent netcheck' what the NAT here does");
        }

        return ExitCodeOf(statistics);
    }
}

/// <summary>Counts and round-trip times of one <c>meshagent ping</c> run.</summary>
public sealed record PingStatistics
{
    public int Sent { get; init; }

    public int Received { get; init; }

    /// <summary>0–100, one decimal.</summary>
    public double LossPercent { get; init; }

    public double? RttMinMilliseconds { get; init; }

    public double? RttAvgMilliseconds { get; init; }

    public double? RttMaxMilliseconds { get; init; }
}

/// <summary>What <c>meshagent ping --json</c> prints: the member, every reply in order, the statistics.</summary>
public sealed record PingReport
{
    public required string Peer { get; init; }

    public IReadOnlyList<PingReply> Replies { get; init; } = [];

    [JsonPropertyOrder(1)]
    public required PingStatistics Statistics { get; init; }
}
