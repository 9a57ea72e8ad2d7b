using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using MeshAgent.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.StaticMode;

/// <summary>Throughput of one iperf3 TCP run, as the client's JSON report (<c>end.sum_received</c>) states it.</summary>
public sealed record Iperf3Result(long BytesReceived, double BitsPerSecond, double Seconds)
{
    public double Mbps => BitsPerSecond / 1e6;
}

/// <summary>Traffic checks through a tunnel and the diagnostics printed when one fails.</summary>
public static class TunnelChecks
{
    private const int IperfPort = 5201;
    private static readonly TimeSpan FirstPingTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <paramref name="from"/> pings <paramref name="to"/>: single pings until one is answered
    /// (the first one may wait for a handshake), then 3 more that must all be answered.
    /// </summary>
    public static async Task PingAsync(NetworkNamespace from, IPAddress to, IEnumerable<ProcessHandle> mustStayUp, TimeSpan? firstTimeout = null)
    {
        await ProcessRunner.WaitUntilAsync(
            () => from.TryPingAsync(to),
            firstTimeout ?? FirstPingTimeout,
            $"{from.Label} pings {to} through the tunnel",
            mustStayUp);
        await from.PingAsync(to, count: 3);
    }

    /// <summary>
    /// One iperf3 TCP run of <paramref name="seconds"/> from <paramref name="client"/> to
    /// <paramref name="server"/>'s <paramref name="serverAddress"/>: <c>iperf3 -s -1</c> as a tracked
    /// process, <c>iperf3 -c … -J</c> to completion. Throws with both sides' output on failure.
    /// </summary>
    public static async Task<Iperf3Result> Iperf3Async(NetworkNamespace server, IPAddress serverAddress, NetworkNamespace client, IEnumerable<ProcessHandle> mustStayUp, int seconds = 3)
    {
        if (Requirements.FindInPath("iperf3") is null)
        {
            throw new RequirementsNotMetException("command 'iperf3' not found in PATH: install the Debian package iperf3 (.ci/run does)");
        }

        string port = IperfPort.ToString(CultureInfo.InvariantCulture);
        ProcessHandle iperfServer = server.StartProcess("iperf3 -s", ["iperf3", "-s", "-1", "-B", serverAddress.ToString(), "-p", port]);
        try
        {
            ProcessHandle[] watched = [iperfServer, .. mustStayUp];
            await ProcessRunner.WaitUntilAsync(
                async () => (await server.ExecAsync(["ss", "-Hltn", "sport", "=", $":{port}"], RunOptions.Default)).StandardOutput.Trim().Length > 0,
                TimeSpan.FromSeconds(10),
                $"iperf3 server listening on {serverAddress} port {port} in {server.Name}",
                watched);

            ProcessResult run = await client.ExecAsync(
                ["iperf3", "-c", serverAddress.ToString(), "-p", port, "-t", seconds.ToString(CultureInfo.InvariantCulture), "-J"],
                new RunOptions { Check = false, Timeout = TimeSpan.FromSeconds(seconds + 30) });
            string context = $"iperf3 {client.Label} -> {server.Label} ({serverAddress}): exit {run.ExitCode}\n"
                + $"client stdout:\n{run.StandardOutput}\nclient stderr:\n{run.StandardError}\nserver output:\n{iperfServer.RecentOutput()}";
            Assert.True(run.ExitCode == 0, context);

            using JsonDocument json = JsonDocument.Parse(run.StandardOutput);
            JsonElement received = json.RootElement.GetProperty("end").GetProperty("sum_received");
            return new Iperf3Result(
                received.GetProperty("bytes").GetInt64(),
                received.GetProperty("bits_per_second").GetDouble(),
                received.GetProperty("seconds").GetDouble());
        }
        finally
        {
            // With -1 the server exits after its one test; this only acts after a failure.
            await iperfServer.StopAsync();
        }
    }

    /// <summary>
    /// Runs <paramref name="test"/>; if it throws, writes the diagnostics to the test output
    /// first (addresses and routes of each namespace, recent output of each process), then rethrows.
    /// </summary>
    public static async Task WithDiagnosticsAsync(ITestOutputHelper output, Func<IEnumerable<NetworkNamespace>> namespaces, Func<IEnumerable<ProcessHandle>> processes, Func<Task> test)
    {
        try
        {
            await test();
        }
        catch
        {
            string diagnostics;
            try
            {
                diagnostics = await DescribeAsync(namespaces(), processes());
            }
            catch (Exception e)
            {
                diagnostics = $"(collecting diagnostics failed: {e.Message})";
            }

            output.WriteLine("===== diagnostics after the failure =====\n" + diagnostics);
            throw;
        }
    }

    /// <summary><c>ip -n NS addr</c>, <c>ip -n NS route</c>, <c>ip -n NS -6 route</c> of each namespace and each process's recent output.</summary>
    public static async Task<string> DescribeAsync(IEnumerable<NetworkNamespace> namespaces, IEnumerable<ProcessHandle> processes)
    {
        var text = new StringBuilder();
        foreach (NetworkNamespace ns in namespaces.Where(n => !n.IsDisposed))
        {
            foreach (string[] command in new[] { new[] { "addr" }, ["route"], ["-6", "route"] })
            {
                ProcessResult result = await ProcessRunner.RunAsync(["ip", "-n", ns.Name, .. command], new RunOptions { Check = false });
                text.Append(CultureInfo.InvariantCulture, $"--- {result.CommandLine} (exit {result.ExitCode})\n{result.StandardOutput}{result.StandardError}");
            }
        }

        foreach (ProcessHandle process in processes)
        {
            string state = process.HasExited ? $"exited with status {process.ExitCode}" : "running";
            text.Append(CultureInfo.InvariantCulture, $"--- recent output of {process.Label} (pid {process.Pid}, {state}): {process.CommandLine}\n{process.RecentOutput()}");
        }

        return text.ToString();
    }
}
