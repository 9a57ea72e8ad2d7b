using System.Text.Json;
using MeshAgent.Commands;
using MeshAgent.Engine.Control;
using MeshAgent.Tests.Api;

namespace MeshAgent.Tests.Cli;

/// <summary>`meshagent ping`: its checks, its lines and summary, and the real command against the real API server (fake node).</summary>
public sealed class PingCommandTests
{
    private static PingReply Reply(bool replied, string path = "direct", string? endpoint = "203.0.113.10:41820", double? rtt = 0.42, string? detail = null) => new()
    {
        Peer = "nas",
        OverlayIPv4 = "100.96.0.3",
        OverlayIPv6 = "fd7a:115c:a1e0::3",
        Replied = replied,
        Path = path,
        Endpoint = endpoint,
        RttMilliseconds = replied ? rtt : null,
        Detail = detail,
    };

    [Theory]
    [InlineData("nas", 4, 1.0, 2.0, null)]
    [InlineData("100.96.0.3", 1, 0.1, 60.0, null)]
    [InlineData("fd7a:115c:a1e0::3", 100000, 60.0, 0.01, null)]
    [InlineData("", 4, 1.0, 2.0, "no peer given")]
    [InlineData("100.96.0.256", 4, 1.0, 2.0, "not an IPv4 or IPv6 address")]
    [InlineData("n@s", 4, 1.0, 2.0, "neither a member name")]
    [InlineData("nas", 0, 1.0, 2.0, "--count 0 is out of range")]
    [InlineData("nas", 100001, 1.0, 2.0, "--count 100001 is out of range")]
    [InlineData("nas", 4, 0.05, 2.0, "--interval 0.05 is out of range")]
    [InlineData("nas", 4, 61.0, 2.0, "--interval 61 is out of range")]
    [InlineData("nas", 4, double.NaN, 2.0, "--interval NaN is out of range")]
    [InlineData("nas", 4, 1.0, 0.0, "--timeout 0 is out of range")]
    [InlineData("nas", 4, 1.0, -1.0, "--timeout -1 is out of range")]
    [InlineData("nas", 4, 1.0, 61.0, "--timeout 61 is out of range")]
    public void Validate_accepts_good_options_and_says_what_is_wrong_with_bad_ones(string peer, int count, double interval, double timeout, string? problem)
    {
        string? error = PingCommand.Validate(peer, count, interval, timeout);

        if (problem is null)
        {
            Assert.Null(error);
        }
        else
        {
            Assert.Contains(problem, error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Reply_lines_name_the_member_the_path_and_the_time()
    {
        Assert.Equal("pong from nas (100.96.0.3) via direct 203.0.113.10:41820 in 0.42 ms", PingCommand.FormatReply(Reply(true)));
        Assert.Equal("pong from nas (100.96.0.3) via relay 198.51.100.1:3478 in 1.9 ms", PingCommand.FormatReply(Reply(true, "relay", "198.51.100.1:3478", 1.93)));
        Assert.Equal("pong from nas (fd7a:115c:a1e0::3) via direct 203.0.113.10:41820 in 0.42 ms", PingCommand.FormatReply(Reply(true), showIPv6: true));
        Assert.Equal(
            "no reply from nas (100.96.0.3) via relay 198.51.100.1:3478: no reply within 2 s",
            PingCommand.FormatReply(Reply(false, "relay", "198.51.100.1:3478", detail: "no reply within 2 s")));
        Assert.Equal(
            "no reply from nas (100.96.0.3): no path to 'nas'",
            PingCommand.FormatReply(Reply(false, "none", null, detail: "no path to 'nas'")));
    }

    [Theory]
    [InlineData(0.0, "0.00")]
    [InlineData(0.4249, "0.42")]
    [InlineData(1.93, "1.9")]
    [InlineData(23.44, "23.4")]
    [InlineData(99.94, "99.9")]
    [InlineData(187.3, "187")]
    public void Milliseconds_keep_the_precision_that_means_something(double value, string expected)
    {
        Assert.Equal(expected, PingCommand.FormatMilliseconds(value));
    }

    [Fact]
    public void The_summary_counts_and_takes_rtt_statistics_over_answers_only()
    {
        PingStatistics statistics = PingCommand.Summarize([Reply(true, rtt: 0.5), Reply(false, detail: "lost"), Reply(true, rtt: 1.5), Reply(true, rtt: 1.0)]);

        Assert.Equal(new PingStatistics { Sent = 4, Received = 3, LossPercent = 25, RttMinMilliseconds = 0.5, RttAvgMilliseconds = 1.0, RttMaxMilliseconds = 1.5 }, statistics);
        Assert.Equal("--- nas (100.96.0.3) ping statistics ---\n4 sent, 3 received, 25% loss, rtt min/avg/max 0.50/1.0/1.5 ms\n", PingCommand.FormatSummary("nas (100.96.0.3)", statistics));
        Assert.Equal(ExitCodes.Success, PingCommand.ExitCodeOf(statistics));
    }

    [Fact]
    public void A_run_without_answers_has_no_rtt_and_exits_1()
    {
        PingStatistics statistics = PingCommand.Summarize([Reply(false), Reply(false), Reply(false)]);

        Assert.Equal("--- nas ping statistics ---\n3 sent, 0 received, 100% loss\n", PingCommand.FormatSummary("nas", statistics));
        Assert.Equal(ExitCodes.Failure, PingCommand.ExitCodeOf(statistics));
        Assert.Equal(33.3, PingCommand.Summarize([Reply(false), Reply(true), Reply(true)]).LossPercent);
    }

    [Fact]
    public async Task Ping_prints_a_line_per_probe_and_a_summary()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();

        CliRunner.Result run = await CliRunner.RunAsync("ping", "nas", "-c", "3", "--interval", "0.1", "--timeout", "1.5", "--socket", server.SocketPath);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(
            """
            pong from nas (100.96.0.2) via direct 203.0.113.10:41820 in 0.42 ms
            pong from nas (100.96.0.2) via direct 203.0.113.10:41820 in 0.42 ms
            pong from nas (100.96.0.2) via direct 203.0.113.10:41820 in 0.42 ms
            --- nas (100.96.0.2) ping statistics ---
            3 sent, 3 received, 0% loss, rtt min/avg/max 0.42/0.42/0.42 ms

            """,
            run.Output);
        Assert.Empty(run.Error);
        Assert.Equal(3, server.Control.Calls.Count);
        Assert.All(server.Control.Calls, call => Assert.Equal(new PingRequest { Peer = "nas", Timeout = TimeSpan.FromSeconds(1.5) }, call.Request));
    }

    [Fact]
    public async Task Ping_without_any_answer_exits_1_and_says_where_to_look()
    {
        var control = new FakeMeshControl { Ping = (_, _) => Task.FromResult(Reply(false, "relay", "198.51.100.1:3478", detail: "no reply within 1 s")) };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);

        CliRunner.Result run = await CliRunner.RunAsync("ping", "nas", "-c", "2", "--interval", "0.1", "--timeout", "1", "--socket", server.SocketPath);

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("no reply from nas (100.96.0.3) via relay 198.51.100.1:3478: no reply within 1 s\n", run.Output, StringComparison.Ordinal);
        Assert.Contains("2 sent, 0 received, 100% loss", run.Output, StringComparison.Ordinal);
        Assert.Contains("ping: no answer from nas (100.96.0.3) to 2 probe(s)", run.Error, StringComparison.Ordinal);
        Assert.Contains("meshagent peers", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ping_to_an_unknown_member_exits_2_with_the_daemons_message()
    {
        var control = new FakeMeshControl
        {
            Ping = (_, _) => throw new MeshControlException(ControlErrorKind.NotFound, "no member named 'ghost' in network 'acme' — 'meshagent peers' lists the members"),
        };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);

        CliRunner.Result run = await CliRunner.RunAsync("ping", "ghost", "--socket", server.SocketPath);

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.Output);
        Assert.Equal("ping: no member named 'ghost' in network 'acme' — 'meshagent peers' lists the members\n", run.Error);
        Assert.Single(server.Control.Calls); // asked once, not once per --count
    }

    [Theory]
    [InlineData("n@s")]
    [InlineData("nas", "-c", "0")]
    [InlineData("nas", "--interval", "0.01")]
    [InlineData("nas", "--timeout", "90")]
    public async Task Bad_input_exits_2_without_asking_the_daemon(params string[] args)
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();

        CliRunner.Result run = await CliRunner.RunAsync(["ping", .. args, "--socket", server.SocketPath]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("ping: ", run.Error, StringComparison.Ordinal);
        Assert.Empty(server.Control.Calls);
    }

    [Fact]
    public async Task Ping_json_prints_every_reply_and_the_statistics()
    {
        int n = 0;
        var control = new FakeMeshControl
        {
            Ping = (_, _) => Task.FromResult(Interlocked.Increment(ref n) == 1 ? Reply(false, detail: "lost") : Reply(true, "relay", "198.51.100.1:3478", 2.0)),
        };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);

        CliRunner.Result run = await CliRunner.RunAsync("ping", "100.96.0.3", "-c", "2", "--interval", "0.1", "--json", "--socket", server.SocketPath);

        Assert.True(run.ExitCode == 0, run.ToString());
        JsonElement report = JsonDocument.Parse(run.Output).RootElement;
        Assert.Equal("nas", report.GetProperty("peer").GetString());
        JsonElement[] replies = [.. report.GetProperty("replies").EnumerateArray()];
        Assert.Equal([false, true], replies.Select(r => r.GetProperty("replied").GetBoolean()));
        Assert.Equal("relay", replies[1].GetProperty("path").GetString());
        Assert.Equal("198.51.100.1:3478", replies[1].GetProperty("endpoint").GetString());
        Assert.Equal(2.0, replies[1].GetProperty("rttMilliseconds").GetDouble());
        JsonElement statistics = report.GetProperty("statistics");
        Assert.Equal(2, statistics.GetProperty("sent").GetInt32());
        Assert.Equal(1, statistics.GetProperty("received").GetInt32());
        Assert.Equal(50, statistics.GetProperty("lossPercent").GetDouble());
    }
}
