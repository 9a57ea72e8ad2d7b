using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Commands;
using MeshAgent.Engine.Control;
using MeshAgent.Tests.Api;

namespace MeshAgent.Tests.Cli;

/// <summary>The human formats of the CLI: durations, ages, byte counts, the peers table, the member count.</summary>
public sealed class FormattingTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 30 * 60)]
    [InlineData("1h", 3600)]
    [InlineData("2d", 2 * 86400)]
    [InlineData("1h30m", 5400)]
    [InlineData("1d12h", 36 * 3600)]
    [InlineData("2H", 7200)]
    [InlineData(" 45m ", 45 * 60)]
    [InlineData("30d", 30 * 86400)]
    [InlineData("1s", 1)]
    public void Durations_with_units_parse(string text, int seconds)
    {
        Assert.True(InviteCommand.TryParseDuration(text, out TimeSpan duration, out string? problem), problem);
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("", "an empty duration")]
    [InlineData("10", "a number without a unit")]
    [InlineData("1w", "has the unit 'w'")]
    [InlineData("h", "is not a duration")]
    [InlineData("-5m", "is not a duration")]
    [InlineData("1.5h", "has the unit '.'")]
    [InlineData("30m1h", "puts a smaller one first")]
    [InlineData("1h1h", "repeats a unit")]
    [InlineData("0m", "no time at all")]
    [InlineData("30d1s", "longer than the 30d a token may last")]
    [InlineData("99999999999d", "far longer than the 30d")]
    public void Durations_without_a_valid_unit_or_range_are_refused_with_the_reason(string text, string reason)
    {
        Assert.False(InviteCommand.TryParseDuration(text, out _, out string? problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_duration_within_the_limit_formats_and_parses_back()
    {
        Check.QuickThrowOnFailure(Prop.ForAll(
            Arb.From(Gen.Choose(1, 30 * 86400)),
            (int seconds) =>
            {
                TimeSpan duration = TimeSpan.FromSeconds(seconds);
                string text = InviteCommand.FormatDuration(duration);
                return InviteCommand.TryParseDuration(text, out TimeSpan parsed, out _) && parsed == duration;
            }));
    }

    [Theory]
    [InlineData(null, "never")]
    [InlineData(0, "0s ago")]
    [InlineData(12, "12s ago")]
    [InlineData(59, "59s ago")]
    [InlineData(60, "1m ago")]
    [InlineData(3599, "59m ago")]
    [InlineData(3600, "1h ago")]
    [InlineData(86399, "23h ago")]
    [InlineData(86400 * 3, "3d ago")]
    [InlineData(-5, "just now")]
    public void Handshake_ages_read_like_a_person_would_say_them(int? secondsAgo, string expected)
    {
        DateTimeOffset? at = secondsAgo is { } s ? SampleData.Now.AddSeconds(-s) : null;
        Assert.Equal(expected, PeersCommand.FormatAge(at, SampleData.Now));
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1024, "1.0 KiB")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(1_048_525, "1.0 MiB")] // 1023.9506 KiB would round to "1024.0 KiB"
    [InlineData(12_897_485, "12.3 MiB")]
    [InlineData(2L * 1024 * 1024 * 1024, "2.0 GiB")]
    [InlineData(long.MaxValue, "8.0 EiB")]
    public void Byte_counts_use_binary_units(long bytes, string expected)
    {
        Assert.Equal(expected, PeersCommand.FormatBytes(bytes));
    }

    [Fact]
    public void Peers_table_columns_line_up_under_their_headers()
    {
        IReadOnlyList<MemberInfo> members = SampleData.RunningStatus().Members;

        string table = PeersCommand.FormatTable(members, SampleData.Now);

        string[] lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(members.Count + 1, lines.Length);
        string header = lines[0];
        // Every left-aligned cell starts exactly where its header starts.
        string[][] cells =
        [
            ["laptop", "100.96.0.2", "fd7a:115c:a1e0::2", "alive", "direct 203.0.113.10:41820", "12s ago"],
            ["phone", "100.96.0.3", "fd7a:115c:a1e0::3", "suspect", "relay 198.51.100.7:3478", "5m ago"],
            ["build-server-07", "100.96.0.4", "fd7a:115c:a1e0::4", "alive", "none", "never"],
        ];
        for (int row = 0; row < cells.Length; row++)
        {
            for (int column = 0; column < cells[row].Length; column++)
            {
                int at = header.IndexOf(PeersCommand.Headers[column], StringComparison.Ordinal);
                Assert.True(
                    string.CompareOrdinal(lines[row + 1], at, cells[row][column] + " ", 0, cells[row][column].Length + 1) == 0,
                    $"'{cells[row][column]}' is not under {PeersCommand.Headers[column]} in:\n{table}");
            }
        }

        // RX and TX are right-aligned: each line ends where the header ends.
        Assert.All(lines, line => Assert.Equal(header.Length, line.Length));
        Assert.EndsWith("1.5 KiB  12.3 MiB", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("0 B     512 B", lines[2], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("direct", "203.0.113.10:41820", "direct 203.0.113.10:41820")]
    [InlineData("relay", "relay 198.51.100.1:3478", "relay 198.51.100.1:3478")] // the daemon's endpoint text for a relayed peer
    [InlineData("relay", "198.51.100.1:3478", "relay 198.51.100.1:3478")]
    [InlineData("direct", "[2001:db8::7]:41820", "direct [2001:db8::7]:41820")]
    [InlineData("none", "203.0.113.10:41820", "none")] // an endpoint being tried is not a path
    [InlineData("none", null, "none")]
    [InlineData("relay", null, "relay")]
    public void Peers_path_column_names_the_path_and_its_address(string path, string? endpoint, string expected)
    {
        MemberInfo member = SampleData.Member("laptop", "alive") with { Path = path, Endpoint = endpoint };

        Assert.Equal(expected, PeersCommand.FormatPath(member));
    }

    [Fact]
    public void Status_names_this_nodes_nat_its_public_endpoints_and_the_relays()
    {
        NodeStatus status = SampleData.RunningStatus() with
        {
            Nat = "endpoint-dependent",
            PublicEndpoints = ["203.0.113.40:51750", "203.0.113.40:62001"],
            Relays = [new RelayInfo { Address = "198.51.100.10:3478", State = "connected (udp)" }],
        };

        string text = StatusCommand.Format(status);
        Assert.Contains("NAT:", text, StringComparison.Ordinal);
        Assert.Contains("endpoint-dependent (symmetric", text, StringComparison.Ordinal);
        Assert.Contains("public 203.0.113.40:51750, 203.0.113.40:62001", text, StringComparison.Ordinal);
        Assert.Contains("198.51.100.10:3478 connected (udp)", text, StringComparison.Ordinal);

        string unknown = StatusCommand.Format(SampleData.RunningStatus());
        Assert.Contains("unknown (not measured yet", unknown, StringComparison.Ordinal);
        Assert.DoesNotContain("relays:", unknown, StringComparison.Ordinal);
    }

    [Fact]
    public void Member_count_groups_states_in_a_fixed_order()
    {
        MemberInfo[] members =
        [
            SampleData.Member("a", "dead"), SampleData.Member("b", "alive"), SampleData.Member("c", "revoked"),
            SampleData.Member("d", "alive"), SampleData.Member("e", "suspect"), SampleData.Member("f", "left"),
        ];

        Assert.Equal("6 others known: 2 alive, 1 suspect, 1 dead, 1 left, 1 revoked", StatusCommand.CountMembers(members));
        Assert.Equal("1 other known: 1 alive", StatusCommand.CountMembers([SampleData.Member("b", "alive")]));
        Assert.Equal("no other member known yet", StatusCommand.CountMembers([]));
    }
}
