using System.Net;
using System.Text.Json;
using MeshAgent.Commands;
using MeshAgent.Core.Invitations;
using MeshAgent.Engine.Control;
using MeshAgent.Tests.Api;

namespace MeshAgent.Tests.Cli;

/// <summary>The real CLI commands against the real ApiServer (serving a fake node) on a temporary socket.</summary>
public sealed class DaemonCommandsTests
{
    private static JoinToken ValidToken(string? suggestedName = "laptop") => new(
        "acme-production",
        Enumerable.Range(0x10, 32).Select(i => (byte)i).ToArray(),
        Enumerable.Range(0x40, 32).Select(i => (byte)i).ToArray(),
        [new IPEndPoint(IPAddress.Parse("203.0.113.10"), 41820)],
        [],
        Enumerable.Range(0xA0, 16).Select(i => (byte)i).ToArray(),
        DateTimeOffset.UtcNow.AddHours(1),
        suggestedName);

    [Fact]
    public async Task Status_prints_network_node_phase_interface_and_a_member_count()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();

        CliRunner.Result run = await CliRunner.RunAsync("status", "--socket", server.SocketPath);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(run.Error);
        Assert.Equal(
            $"""
            network:   acme-production ({SampleData.RootKey})
            overlay:   100.96.0.0/16, fd7a:115c:a1e0::/64
            node:      nas (admin)
            addresses: 100.96.0.1, fd7a:115c:a1e0::1
            phase:     running
            interface: mesh0, UDP port 41820
            members:   3 others known: 2 alive, 1 suspect
            NAT:       unknown (not measured yet: needs answers from two public STUN servers, e.g. a relay and a public member)

            """,
            run.Output);
    }

    [Fact]
    public async Task Status_of_a_node_in_no_network_says_what_to_do()
    {
        var control = new FakeMeshControl { Status = new NodeStatus { Phase = NodePhase.NotJoined, InterfaceName = "mesh0", ListenPort = 41820 } };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);

        CliRunner.Result run = await CliRunner.RunAsync("status", "--socket", server.SocketPath);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("phase:     not joined — create a network with 'meshagent init --network NAME' or join one with 'meshagent join TOKEN'", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("members:", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_json_is_the_api_document_indented()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();
        using HttpClient http = server.CreateRawClient();
        string raw = await http.GetStringAsync("v1/status");

        CliRunner.Result run = await CliRunner.RunAsync("status", "--json", "--socket", server.SocketPath);

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("{\n  \"phase\": \"running\",\n  \"network\": {\n    \"name\": \"acme-production\",", run.Output, StringComparison.Ordinal);
        // Same document: identical once both are written compactly.
        Assert.Equal(Compact(raw), Compact(run.Output));
    }

    [Fact]
    public async Task Peers_prints_an_aligned_table_and_peers_json_the_member_array()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();

        CliRunner.Result table = await CliRunner.RunAsync("peers", "--socket", server.SocketPath);
        CliRunner.Result json = await CliRunner.RunAsync("peers", "--json", "--socket", server.SocketPath);

        Assert.True(table.ExitCode == 0, table.ToString());
        string[] lines = table.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("NAME             OVERLAY IPv4  OVERLAY IPv6       STATE    PATH                       HANDSHAKE", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("laptop           100.96.0.2    fd7a:115c:a1e0::2  alive    direct 203.0.113.10:41820  ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("phone            100.96.0.3    fd7a:115c:a1e0::3  suspect  relay 198.51.100.7:3478    ", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("build-server-07  100.96.0.4    fd7a:115c:a1e0::4  alive    none                       never", lines[3], StringComparison.Ordinal);
        Assert.EndsWith("1.5 KiB  12.3 MiB", lines[1], StringComparison.Ordinal);

        Assert.Equal(0, json.ExitCode);
        JsonElement members = JsonDocument.Parse(json.Output).RootElement;
        Assert.Equal(JsonValueKind.Array, members.ValueKind);
        Assert.Equal(["laptop", "phone", "build-server-07"], members.EnumerateArray().Select(m => m.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Peers_with_no_members_says_so()
    {
        var control = new FakeMeshControl { Status = SampleData.RunningStatus() with { Members = [] } };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);

        CliRunner.Result run = await CliRunner.RunAsync("peers", "--socket", server.SocketPath);

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("no other member known yet", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invite_prints_the_token_alone_on_stdout_and_the_rest_on_stderr()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();

        CliRunner.Result run = await CliRunner.RunAsync("invite", "--name", "laptop", "--expires", "30m", "--socket", server.SocketPath);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(SampleData.Invite(null).Token + "\n", run.Output);
        Assert.Matches(@"^token for laptop: valid once, until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 1h\)\n", run.Error);
        Assert.Contains("meshagent join TOKEN", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(QrTerminal.Full.ToString(), run.Error, StringComparison.Ordinal);
        Assert.Equal(new InviteRequest { Name = "laptop", Expires = TimeSpan.FromMinutes(30) }, Assert.Single(server.Control.Calls).Request);
    }

    [Fact]
    public async Task Invite_qr_draws_the_upper_case_token_on_stderr_only()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();

        CliRunner.Result run = await CliRunner.RunAsync("invite", "--qr", "--socket", server.SocketPath);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(SampleData.Invite(null).Token + "\n", run.Output);
        Assert.Contains(QrTerminal.Render(SampleData.Invite(null).QrText), run.Error, StringComparison.Ordinal);
        Assert.Equal(new InviteRequest(), Assert.Single(server.Control.Calls).Request);
    }

    [Theory]
    [InlineData("invite", "--expires", "10")]
    [InlineData("invite", "--expires", "1w")]
    [InlineData("invite", "--expires", "31d")]
    [InlineData("invite", "--expires", "0s")]
    [InlineData("invite", "--name", "Build_Server")]
    [InlineData("init", "--network", "home", "--cidr", "100.96.1.0/16")]
    [InlineData("init", "--network", "home", "--cidr", "100.96.0.0")]
    [InlineData("init", "--network", "home", "--cidr", "fd00::/64")]
    [InlineData("init", "--network", "home", "--cidr", "300.1.0.0/16")]
    [InlineData("init", "--network", "home", "--ipv6-prefix", "fd00::/96")]
    [InlineData("init", "--network", "home", "--ipv6-prefix", "10.0.0.0/8")]
    [InlineData("init", "--network", "home", "--name", "NAS")]
    [InlineData("init", "--network", " ")]
    [InlineData("join", "mesh1:thisisnotatoken")]
    [InlineData("join", "hello")]
    [InlineData("revoke", "-phone")]
    [InlineData("admin", "grant", "Laptop")]
    public async Task Malformed_input_exits_2_without_contacting_the_daemon(params string[] args)
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();

        CliRunner.Result run = await CliRunner.RunAsync([.. args, "--socket", server.SocketPath]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Empty(run.Output);
        string line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith((args[0] == "admin" ? "admin grant" : args[0]) + ": ", line, StringComparison.Ordinal);
        Assert.Empty(server.Control.Calls);
    }

    [Fact]
    public async Task Bad_expires_names_the_problem()
    {
        CliRunner.Result run = await CliRunner.RunAsync("invite", "--expires", "90", "--socket", "/nonexistent/meshagent.sock");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("invite: --expires: '90' has a number without a unit; add s, m, h or d, like 90s, 30m, 1h, 2d or 1h30m\n", run.Error);
    }

    [Fact]
    public async Task A_damaged_token_is_refused_locally_with_the_parsers_message()
    {
        string token = ValidToken().ToString();
        string damaged = token[..^6];
        Assert.False(JoinToken.TryParse(damaged, out _, out JoinTokenError expected));

        CliRunner.Result run = await CliRunner.RunAsync("join", damaged, "--socket", "/nonexistent/meshagent.sock");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"join: {expected.Message}\n", run.Error);
    }

    [Fact]
    public async Task Init_sends_the_validated_request_and_prints_the_new_network()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();

        CliRunner.Result run = await CliRunner.RunAsync("init", "--network", "acme-production", "--cidr", "10.77.0.0/16", "--ipv6-prefix", "fd12:3456:789a:1::/64", "--name", "nas", "--socket", server.SocketPath);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(
            new InitRequest { Network = "acme-production", IPv4Network = "10.77.0.0/16", IPv6Prefix = "fd12:3456:789a:1::/64", NodeName = "nas" },
            Assert.Single(server.Control.Calls).Request);
        Assert.StartsWith($"created network acme-production ({SampleData.RootKey})\n", run.Output, StringComparison.Ordinal);
        Assert.Contains("this node: nas, 100.96.0.1, fd7a:115c:a1e0::1 (admin)\n", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Join_prints_progress_in_order_as_it_streams_then_the_result()
    {
        var control = new FakeMeshControl
        {
            Join = async (request, progress, cancellationToken) =>
            {
                progress.Report("reaching the inviter at 203.0.113.10:41820");
                await Task.Delay(50, cancellationToken);
                progress.Report("proving the token secret");
                await Task.Delay(50, cancellationToken);
                progress.Report("interface mesh0 is up");
                return SampleData.RunningStatus() with { Self = SampleData.Member(request.NodeName ?? "laptop", "self", 7) };
            },
        };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);
        JoinToken token = ValidToken();
        // Wrapped the way a chat client or terminal wraps it: the CLI sends the canonical token.
        string pasted = token.ToString().Insert(20, "\n ").ToUpperInvariant();

        CliRunner.Result run = await CliRunner.RunAsync("join", pasted, "--name", "laptop", "--socket", server.SocketPath);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(
            $"""
            reaching the inviter at 203.0.113.10:41820
            proving the token secret
            interface mesh0 is up
            joined network acme-production ({SampleData.RootKey})
            this node: laptop, 100.96.0.7, fd7a:115c:a1e0::7
            see the other members with 'meshagent peers'

            """,
            run.Output);
        Assert.Equal(new JoinRequestModel { Token = token.ToString(), NodeName = "laptop" }, Assert.Single(server.Control.Calls).Request);
    }

    [Fact]
    public async Task A_join_refused_after_progress_prints_the_progress_then_the_reason()
    {
        var control = new FakeMeshControl
        {
            Join = (_, progress, _) =>
            {
                progress.Report("reaching the inviter at 203.0.113.10:41820");
                throw new MeshControlException(ControlErrorKind.Remote, "the inviter did not answer at 203.0.113.10:41820 — is it online?");
            },
        };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);

        CliRunner.Result run = await CliRunner.RunAsync("join", ValidToken().ToString(), "--socket", server.SocketPath);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("reaching the inviter at 203.0.113.10:41820\n", run.Output);
        Assert.Equal("join: the inviter did not answer at 203.0.113.10:41820 — is it online?\n", run.Error);
    }

    [Fact]
    public async Task Leave_revoke_and_admin_grant_report_what_was_done()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();

        CliRunner.Result leave = await CliRunner.RunAsync("leave", "--socket", server.SocketPath);
        CliRunner.Result revoke = await CliRunner.RunAsync("revoke", "phone", "--reason", "lost on a train", "--socket", server.SocketPath);
        CliRunner.Result grant = await CliRunner.RunAsync("admin", "grant", "laptop", "--socket", server.SocketPath);

        Assert.Equal((0, "left network acme-production; mesh0 is down\n"), (leave.ExitCode, leave.Output));
        Assert.Equal(0, revoke.ExitCode);
        Assert.Equal("revoked phone (meshnode1:phonekey) at 2025-06-01 12:00:00 UTC; the revocation is spreading to every member\n", revoke.Output);
        Assert.Equal((0, "laptop (meshnode1:laptopkey) is now an admin\n"), (grant.ExitCode, grant.Output));
        Assert.Contains(server.Control.Calls, c => c.Request is RevokeRequest { Name: "phone", Reason: "lost on a train" });
        Assert.Contains(server.Control.Calls, c => c.Request is GrantAdminRequest { Name: "laptop" });
    }

    [Theory]
    [InlineData(ControlErrorKind.InvalidInput, 2)]
    [InlineData(ControlErrorKind.Forbidden, 1)]
    [InlineData(ControlErrorKind.NotFound, 1)]
    [InlineData(ControlErrorKind.Conflict, 1)]
    [InlineData(ControlErrorKind.Remote, 1)]
    [InlineData(ControlErrorKind.Local, 1)]
    public async Task A_refusal_by_the_daemon_is_its_message_on_stderr_and_the_kinds_exit_code(ControlErrorKind kind, int exitCode)
    {
        string message = $"refused ({kind}) — here is what to do next";
        var control = new FakeMeshControl { Failure = new MeshControlException(kind, message) };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);

        string[][] commands = [["revoke", "phone"], ["status"], ["peers", "--json"], ["admin", "grant", "laptop"], ["invite"], ["leave"]];
        foreach (string[] args in commands)
        {
            CliRunner.Result run = await CliRunner.RunAsync([.. args, "--socket", server.SocketPath]);

            Assert.True(run.ExitCode == exitCode, string.Join(' ', args) + ": " + run);
            Assert.Empty(run.Output);
            Assert.Equal($"{(args[0] == "admin" ? "admin grant" : args[0])}: {message}\n", run.Error);
        }
    }

    [Theory]
    [InlineData("status")]
    [InlineData("peers")]
    [InlineData("invite")]
    [InlineData("leave")]
    [InlineData("revoke", "phone")]
    [InlineData("admin", "grant", "laptop")]
    [InlineData("init", "--network", "home")]
    public async Task No_daemon_exits_4_saying_how_to_start_it(params string[] args)
    {
        string directory = ApiTestServer.NewDirectory();
        try
        {
            string path = Path.Combine(directory, "meshagent.sock");

            CliRunner.Result run = await CliRunner.RunAsync([.. args, "--socket", path]);

            Assert.True(run.ExitCode == ExitCodes.DaemonUnreachable, run.ToString());
            Assert.Equal(4, ExitCodes.DaemonUnreachable);
            Assert.Equal(
                $"{(args[0] == "admin" ? "admin grant" : args[0])}: cannot reach the meshagent daemon at {path} (no such socket) — is it running? start it with `systemctl start meshagent` or `meshagent run`; pass --socket PATH if it listens elsewhere\n",
                run.Error);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Join_with_no_daemon_exits_4_after_the_token_passes_its_local_check()
    {
        CliRunner.Result run = await CliRunner.RunAsync("join", ValidToken().ToString(), "--socket", "/tmp/meshagent-no-such-dir/meshagent.sock");

        Assert.Equal(ExitCodes.DaemonUnreachable, run.ExitCode);
        Assert.Contains("cannot reach the meshagent daemon at /tmp/meshagent-no-such-dir/meshagent.sock (no such socket)", run.Error, StringComparison.Ordinal);
    }

    private static string Compact(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return JsonSerializer.Serialize(document.RootElement);
    }
}
