using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MeshAgent.Api;
using MeshAgent.Engine.Control;

namespace MeshAgent.Tests.Api;

/// <summary>The real ApiServer on a real Unix socket, spoken to with plain HTTP: routes, JSON shape, error mapping, socket lifecycle.</summary>
public sealed class ApiServerTests
{
    private static readonly string[] NoRoutes = [];

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string route, string body)
    {
        using HttpResponseMessage response = await http.PostAsync(route, new StringContent(body, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static void AssertError(JsonElement body, string kind, string messagePart)
    {
        JsonElement error = body.GetProperty("error");
        Assert.Equal(kind, error.GetProperty("kind").GetString());
        Assert.Contains(messagePart, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_is_camel_case_json_with_enum_names_and_ipv_words_kept_whole()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();
        using HttpClient http = server.CreateRawClient();

        using HttpResponseMessage response = await http.GetAsync("v1/status");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        JsonElement root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal("running", root.GetProperty("phase").GetString());
        Assert.Equal("100.96.0.0/16", root.GetProperty("network").GetProperty("ipv4Network").GetString());
        Assert.Equal("fd7a:115c:a1e0::/64", root.GetProperty("network").GetProperty("ipv6Prefix").GetString());
        Assert.Equal(SampleData.RootKey, root.GetProperty("network").GetProperty("rootPublicKey").GetString());
        Assert.Equal("nas", root.GetProperty("self").GetProperty("name").GetString());
        Assert.True(root.GetProperty("self").GetProperty("isAdmin").GetBoolean());
        Assert.Equal("100.96.0.1", root.GetProperty("self").GetProperty("overlayIPv4").GetString());
        JsonElement laptop = root.GetProperty("members")[0];
        Assert.Equal("2025-06-01T11:59:48+00:00", laptop.GetProperty("lastHandshake").GetString());
        Assert.Equal(12_897_485, laptop.GetProperty("txBytes").GetInt64());
        Assert.Equal("192.168.1.0/24", laptop.GetProperty("routes")[0].GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("members")[2].GetProperty("lastHandshake").ValueKind);
        Assert.Equal(41820, root.GetProperty("listenPort").GetInt32());
    }

    [Fact]
    public async Task Not_joined_status_has_null_network_and_self()
    {
        var control = new FakeMeshControl { Status = new NodeStatus { Phase = NodePhase.NotJoined, InterfaceName = "mesh0", ListenPort = 41820 } };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);
        using ApiClient client = server.CreateClient();

        string json = await client.GetJsonAsync("v1/status");
        JsonElement root = JsonDocument.Parse(json).RootElement;
        Assert.Equal("notJoined", root.GetProperty("phase").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("network").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("self").ValueKind);
        Assert.Equal(0, root.GetProperty("members").GetArrayLength());
    }

    [Fact]
    public async Task Client_reads_back_exactly_what_the_node_reported()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();
        using ApiClient client = server.CreateClient();
        NodeStatus expected = server.Control.Status;

        NodeStatus status = await client.GetStatusAsync();
        IReadOnlyList<MemberInfo> peers = await client.GetPeersAsync();

        Assert.Equal(expected.Phase, status.Phase);
        Assert.Equal(expected.Network, status.Network);
        Assert.Equal(expected.Self! with { Routes = NoRoutes }, status.Self! with { Routes = NoRoutes });
        Assert.Equal(expected.InterfaceName, status.InterfaceName);
        Assert.Equal(expected.ListenPort, status.ListenPort);
        foreach (IReadOnlyList<MemberInfo> list in new[] { status.Members, peers })
        {
            Assert.Equal(expected.Members.Count, list.Count);
            for (int i = 0; i < list.Count; i++)
            {
                Assert.Equal(expected.Members[i].Routes, list[i].Routes);
                Assert.Equal(expected.Members[i] with { Routes = NoRoutes }, list[i] with { Routes = NoRoutes });
            }
        }
    }

    [Fact]
    public async Task Post_routes_pass_the_request_through_and_return_the_answer()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();
        using ApiClient client = server.CreateClient();

        await client.InitAsync(new InitRequest { Network = "home", IPv4Network = "10.77.0.0/16", NodeName = "nas" });
        InviteResult invite = await client.InviteAsync(new InviteRequest { Name = "laptop", Expires = TimeSpan.FromMinutes(30) });
        RevokeResult revoked = await client.RevokeAsync(new RevokeRequest { Name = "phone", Reason = "lost" });
        MemberInfo admin = await client.GrantAdminAsync(new GrantAdminRequest { Name = "laptop" });
        NodeStatus afterLeave = await client.LeaveAsync();

        var calls = server.Control.Calls.ToArray();
        Assert.Equal(["init", "invite", "revoke", "admins", "leave", "status"], calls.Select(c => c.Method));
        Assert.Equal(new InitRequest { Network = "home", IPv4Network = "10.77.0.0/16", NodeName = "nas" }, calls[0].Request);
        Assert.Equal(new InviteRequest { Name = "laptop", Expires = TimeSpan.FromMinutes(30) }, calls[1].Request);
        Assert.Equal(new RevokeRequest { Name = "phone", Reason = "lost" }, calls[2].Request);
        Assert.Equal(new GrantAdminRequest { Name = "laptop" }, calls[3].Request);
        Assert.Equal("laptop", invite.Name);
        Assert.Equal("phone", revoked.Name);
        Assert.Equal(SampleData.Now, revoked.RevokedAt);
        Assert.True(admin.IsAdmin);
        Assert.Equal(NodePhase.Running, afterLeave.Phase);
    }

    [Fact]
    public async Task Invite_expiry_travels_as_a_constant_format_timespan()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();
        using HttpClient http = server.CreateRawClient();

        (HttpStatusCode status, JsonElement body) = await PostAsync(http, "v1/invite", """{"name":"laptop","expires":"2.00:30:00"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("laptop", body.GetProperty("name").GetString());
        var request = (InviteRequest)Assert.Single(server.Control.Calls).Request!;
        Assert.Equal(TimeSpan.FromDays(2) + TimeSpan.FromMinutes(30), request.Expires);
    }

    [Theory]
    [InlineData(ControlErrorKind.InvalidInput, 400, "invalidInput")]
    [InlineData(ControlErrorKind.Forbidden, 403, "forbidden")]
    [InlineData(ControlErrorKind.NotFound, 404, "notFound")]
    [InlineData(ControlErrorKind.Conflict, 409, "conflict")]
    [InlineData(ControlErrorKind.Remote, 502, "remote")]
    [InlineData(ControlErrorKind.Local, 500, "local")]
    public async Task Each_control_error_kind_has_its_status_and_an_error_body(ControlErrorKind kind, int expectedStatus, string expectedKind)
    {
        string message = $"refused for a reason of kind {kind} — do something else";
        var control = new FakeMeshControl { Failure = new MeshControlException(kind, message) };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);
        using HttpClient http = server.CreateRawClient();

        (HttpStatusCode status, JsonElement body) = await PostAsync(http, "v1/revoke", """{"name":"phone"}""");

        Assert.Equal(expectedStatus, (int)status);
        AssertError(body, expectedKind, message);

        // And the client turns it back into the same exception.
        using ApiClient client = server.CreateClient();
        MeshControlException e = await Assert.ThrowsAsync<MeshControlException>(() => client.GetStatusAsync());
        Assert.Equal(kind, e.Kind);
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("{\"network\": ", "is not a valid InitRequest JSON object")]
    [InlineData("not json", "is not a valid InitRequest JSON object")]
    [InlineData("", "is not a valid InitRequest JSON object")]
    [InlineData("{}", "missing required properties including: 'network'")]
    [InlineData("{\"network\": 42}", "is not a valid InitRequest JSON object")]
    [InlineData("null", "the request body is null")]
    public async Task Malformed_request_bodies_are_400_with_a_message_and_never_reach_the_node(string requestBody, string messagePart)
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();
        using HttpClient http = server.CreateRawClient();

        (HttpStatusCode status, JsonElement body) = await PostAsync(http, "v1/init", requestBody);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertError(body, "invalidInput", messagePart);
        Assert.Empty(server.Control.Calls);
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_refused_with_413()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();
        using HttpClient http = server.CreateRawClient();
        string huge = "{\"network\":\"" + new string('a', 70_000) + "\"}";

        (HttpStatusCode status, JsonElement body) = await PostAsync(http, "v1/init", huge);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("invalidInput", body.GetProperty("error").GetProperty("kind").GetString());
        Assert.Empty(server.Control.Calls);
    }

    [Fact]
    public async Task Unknown_routes_are_404_and_wrong_methods_405_with_error_bodies()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();
        using HttpClient http = server.CreateRawClient();

        using HttpResponseMessage unknown = await http.GetAsync("v1/routes");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        AssertError(JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement, "invalidInput", "GET /v1/routes is not a route");

        using HttpResponseMessage wrongMethod = await http.GetAsync("v1/init");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        AssertError(JsonDocument.Parse(await wrongMethod.Content.ReadAsStringAsync()).RootElement, "invalidInput", "GET is not allowed on /v1/init");
    }

    [Fact]
    public async Task An_unexpected_exception_is_500_logged_and_the_server_keeps_serving()
    {
        var control = new FakeMeshControl
        {
            Invite = (_, _) => throw new InvalidOperationException("the invitation store is in a state nobody expected"),
        };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);
        using ApiClient client = server.CreateClient();

        MeshControlException e = await Assert.ThrowsAsync<MeshControlException>(() => client.InviteAsync(new InviteRequest()));

        Assert.Equal(ControlErrorKind.Local, e.Kind);
        Assert.Contains("internal error in the daemon (InvalidOperationException: the invitation store is in a state nobody expected)", e.Message, StringComparison.Ordinal);
        Assert.Contains("POST /v1/invite failed unexpectedly: System.InvalidOperationException", server.Log.ToString(), StringComparison.Ordinal);
        Assert.Equal(NodePhase.Running, (await client.GetStatusAsync()).Phase);
    }

    [Fact]
    public async Task Join_streams_each_progress_line_as_it_happens_then_the_result()
    {
        // The node only goes on after the client has SEEN the previous line: if the server buffered the
        // stream, the first line would never arrive and the test would time out instead of passing.
        var seen = new[] { new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource() };
        var control = new FakeMeshControl
        {
            Join = async (request, progress, cancellationToken) =>
            {
                string[] steps = ["reaching the inviter at 203.0.113.10:41820", "proving the token secret", "received certificate for laptop"];
                for (int i = 0; i < steps.Length; i++)
                {
                    progress.Report(steps[i]);
                    await seen[i].Task.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
                }

                return SampleData.RunningStatus() with { Self = SampleData.Member("laptop", "self", 2) };
            },
        };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);
        using ApiClient client = server.CreateClient();
        var lines = new List<string>();

        NodeStatus result = await client.JoinAsync(
            new JoinRequestModel { Token = "mesh1:whatever", NodeName = "laptop" },
            line =>
            {
                lines.Add(line);
                seen[lines.Count - 1].SetResult();
            });

        Assert.Equal(["reaching the inviter at 203.0.113.10:41820", "proving the token secret", "received certificate for laptop"], lines);
        Assert.Equal("laptop", result.Self!.Name);
        Assert.Equal(new JoinRequestModel { Token = "mesh1:whatever", NodeName = "laptop" }, Assert.Single(server.Control.Calls).Request);
    }

    [Fact]
    public async Task Join_stream_is_ndjson_ending_in_an_error_line_when_the_join_fails()
    {
        var control = new FakeMeshControl
        {
            Join = (_, progress, _) =>
            {
                progress.Report("reaching the inviter at 203.0.113.10:41820");
                progress.Report("the inviter answered");
                throw new MeshControlException(ControlErrorKind.Conflict, "this token was already used — ask for a new one");
            },
        };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);
        using HttpClient http = server.CreateRawClient();

        using HttpResponseMessage response = await http.PostAsync("v1/join", new StringContent("""{"token":"mesh1:x"}""", Encoding.UTF8, "application/json"));
        string[] lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ApiJson.NdjsonMediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            [
                """{"progress":"reaching the inviter at 203.0.113.10:41820"}""",
                """{"progress":"the inviter answered"}""",
                """{"error":{"kind":"conflict","message":"this token was already used — ask for a new one"}}""",
            ],
            lines);

        using ApiClient client = server.CreateClient();
        var progress = new List<string>();
        MeshControlException e = await Assert.ThrowsAsync<MeshControlException>(() => client.JoinAsync(new JoinRequestModel { Token = "mesh1:x" }, progress.Add));
        Assert.Equal(ControlErrorKind.Conflict, e.Kind);
        Assert.Equal(2, progress.Count);
    }

    [Fact]
    public async Task Join_with_a_malformed_body_is_a_plain_400_not_a_stream()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();
        using HttpClient http = server.CreateRawClient();

        (HttpStatusCode status, JsonElement body) = await PostAsync(http, "v1/join", """{"nodeName":"laptop"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertError(body, "invalidInput", "'token'");
        Assert.Empty(server.Control.Calls);
    }

    [Fact]
    public async Task A_client_that_goes_away_cancels_the_join()
    {
        var cancelled = new TaskCompletionSource();
        var control = new FakeMeshControl
        {
            Join = async (_, progress, cancellationToken) =>
            {
                using CancellationTokenRegistration registration = cancellationToken.Register(() => cancelled.TrySetResult());
                progress.Report("waiting for the inviter");
                await Task.Delay(Timeout.Infinite, cancellationToken);
                throw new InvalidOperationException("unreachable");
            },
        };
        await using ApiTestServer server = await ApiTestServer.StartAsync(control);
        using ApiClient client = server.CreateClient();
        using var stop = new CancellationTokenSource();

        Task join = client.JoinAsync(new JoinRequestModel { Token = "mesh1:x" }, _ => stop.Cancel(), stop.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => join);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(NodePhase.Running, (await client.GetStatusAsync()).Phase);
    }

    [Fact]
    public async Task Socket_is_mode_0660_in_a_directory_created_0755_and_the_start_line_is_the_only_output()
    {
        await using ApiTestServer server = await ApiTestServer.StartAsync();

        Assert.Equal(ApiServer.SocketMode, FileModes.Of(server.SocketPath));
        Assert.Equal((UnixFileMode)Convert.ToInt32("660", 8), FileModes.Of(server.SocketPath));
        Assert.Equal((UnixFileMode)Convert.ToInt32("755", 8), FileModes.Of(Path.GetDirectoryName(server.SocketPath)!));
        Assert.Equal($"meshagent: local API on {server.SocketPath}{Environment.NewLine}", server.Log.ToString());
    }

    [Fact]
    public async Task Disposing_removes_the_socket_file_and_the_client_then_finds_no_daemon()
    {
        ApiTestServer server = await ApiTestServer.StartAsync();
        string path = server.SocketPath;
        try
        {
            await server.Server.DisposeAsync();
            Assert.False(File.Exists(path));

            using var client = new ApiClient(path);
            DaemonUnreachableException e = await Assert.ThrowsAsync<DaemonUnreachableException>(() => client.GetStatusAsync());
            Assert.Equal("no such socket", e.Reason);
            Assert.Equal(
                $"cannot reach the meshagent daemon at {path} (no such socket) — is it running? start it with `systemctl start meshagent` or `meshagent run`; pass --socket PATH if it listens elsewhere",
                e.Message);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_stale_socket_left_by_a_dead_daemon_is_reported_as_refused_then_replaced()
    {
        string directory = ApiTestServer.NewDirectory();
        string path = Path.Combine(directory, "meshagent.sock");
        try
        {
            MakeStaleSocket(path);
            using (var client = new ApiClient(path))
            {
                DaemonUnreachableException e = await Assert.ThrowsAsync<DaemonUnreachableException>(() => client.GetStatusAsync());
                Assert.Equal("connection refused: nothing listens on it", e.Reason);
            }

            await using ApiServer server = await ApiServer.StartAsync(new FakeMeshControl(), path, TextWriter.Null);
            using var working = new ApiClient(path);
            Assert.Equal(NodePhase.Running, (await working.GetStatusAsync()).Phase);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_second_daemon_on_the_same_socket_is_refused_and_the_first_keeps_serving()
    {
        await using ApiTestServer first = await ApiTestServer.StartAsync();

        IOException e = await Assert.ThrowsAsync<IOException>(() => ApiServer.StartAsync(new FakeMeshControl(), first.SocketPath, TextWriter.Null));

        Assert.Contains($"another meshagent daemon is already listening on {first.SocketPath}", e.Message, StringComparison.Ordinal);
        using ApiClient client = first.CreateClient();
        Assert.Equal(NodePhase.Running, (await client.GetStatusAsync()).Phase);
    }

    [Fact]
    public async Task A_file_with_content_at_the_socket_path_is_never_deleted()
    {
        string directory = ApiTestServer.NewDirectory();
        string path = Path.Combine(directory, "meshagent.sock");
        try
        {
            File.WriteAllText(path, "someone's notes");

            IOException e = await Assert.ThrowsAsync<IOException>(() => ApiServer.StartAsync(new FakeMeshControl(), path, TextWriter.Null));

            Assert.Contains("exists and is not a socket", e.Message, StringComparison.Ordinal);
            Assert.Equal("someone's notes", File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Permission_denied_says_to_run_as_root_or_join_the_group()
    {
        var e = new DaemonUnreachableException("/run/meshagent/meshagent.sock", DaemonUnreachableException.ReasonFor(new SocketException((int)SocketError.AccessDenied), "/run/meshagent/meshagent.sock"));

        Assert.Equal(
            "cannot reach the meshagent daemon at /run/meshagent/meshagent.sock (permission denied) — run as root or as a member of the socket's group (ls -l /run/meshagent/meshagent.sock)",
            e.Message);
    }

    /// <summary>
    /// A socket file nothing listens on, as a SIGKILLed daemon leaves it: .NET unlinks a socket it bound when
    /// it closes, so bind one, move the file away from the unlink, and close the listener.
    /// </summary>
    private static void MakeStaleSocket(string path)
    {
        string bound = path + ".bound";
        using (var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            listener.Bind(new UnixDomainSocketEndPoint(bound));
            listener.Listen();
            File.Move(bound, path);
        }

        Assert.True(File.Exists(path));
    }
}
