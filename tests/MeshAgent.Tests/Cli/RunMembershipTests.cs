using System.Net.Sockets;
using System.Text;
using MeshAgent.Daemon;
using MeshAgent.Engine.Mesh;
using MeshAgent.Tests.Api;

namespace MeshAgent.Tests.Cli;

/// <summary>
/// `meshagent run` in membership mode, in-process with the real MeshNode: READY=1 once the API answers, the CLI
/// talks to it, stopping sends STOPPING=1 and removes the socket, bad options fail at once with one line.
/// </summary>
public sealed class RunMembershipTests
{
    [Fact]
    public async Task Daemon_serves_the_cli_after_ready_and_stops_cleanly_when_asked()
    {
        string directory = ApiTestServer.NewDirectory();
        try
        {
            string socketPath = Path.Combine(directory, "run", "meshagent.sock");
            string notifyPath = Path.Combine(directory, "notify");
            using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            systemd.Bind(new UnixDomainSocketEndPoint(notifyPath));
            using var notifier = new SystemdNotifier(notifyPath);
            var output = new StringWriter();
            var error = new StringWriter();
            using var stop = new CancellationTokenSource();
            var options = new MeshNodeOptions { StateDirectory = Path.Combine(directory, "state"), InterfaceName = "mesh-test0", ListenPort = 0 };

            Task<int> daemon = Task.Run(() => MembershipDaemon.RunAsync(options, socketPath, notifier, TextWriter.Synchronized(output), error, stop.Token));
            string ready = await ReceiveAsync(systemd);

            Assert.Equal($"READY=1\nSTATUS=local API on {socketPath}", ready);
            Assert.Equal(ApiServerMode, FileModes.Of(socketPath));
            CliRunner.Result status = await CliRunner.RunAsync("status", "--json", "--socket", socketPath);
            Assert.True(status.ExitCode == 0, status.ToString());
            Assert.Contains("\"interfaceName\": \"mesh-test0\"", status.Output, StringComparison.Ordinal);
            Assert.True(Directory.Exists(options.StateDirectory));

            stop.Cancel();
            int exitCode = await daemon.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.True(exitCode == 0, error.ToString());
            Assert.StartsWith("STOPPING=1", await ReceiveAsync(systemd), StringComparison.Ordinal);
            Assert.False(File.Exists(socketPath));
            Assert.Equal($"meshagent: local API on {socketPath}\nmeshagent: stopping\nmeshagent: stopped\n", output.ToString().ReplaceLineEndings("\n"));
            Assert.Empty(error.ToString());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task An_unusable_state_directory_is_one_line_and_exit_1()
    {
        CliRunner.Result run = await CliRunner.RunAsync("run", "--state-dir", "/proc/meshagent-cannot-be-here", "--socket", "/tmp/meshagent-unused.sock", "--listen-port", "0");

        Assert.Equal(1, run.ExitCode);
        string line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("run: the state directory /proc/meshagent-cannot-be-here is not usable (", line, StringComparison.Ordinal);
        Assert.EndsWith("pass --state-dir DIR that you may write", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_socket_another_daemon_answers_on_is_one_line_and_exit_1()
    {
        await using ApiTestServer other = await ApiTestServer.StartAsync();
        string stateDirectory = Path.Combine(other.Directory, "state");

        CliRunner.Result run = await CliRunner.RunAsync("run", "--state-dir", stateDirectory, "--socket", other.SocketPath, "--listen-port", "0");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"run: another meshagent daemon is already listening on {other.SocketPath} — stop it first (systemctl stop meshagent), or give this one another --socket PATH\n", run.Error);
    }

    [Theory]
    [InlineData("--interface", "this-name-is-too-long", "is not a valid interface name")]
    [InlineData("--listen-port", "70000", "is not a UDP port")]
    public async Task Invalid_options_exit_2(string option, string value, string message)
    {
        CliRunner.Result run = await CliRunner.RunAsync("run", option, value, "--state-dir", "/tmp/meshagent-unused-state", "--socket", "/tmp/meshagent-unused.sock");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
    }

    private const UnixFileMode ApiServerMode = MeshAgent.Api.ApiServer.SocketMode;

    private static async Task<string> ReceiveAsync(Socket systemd)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int length = await systemd.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }
}
