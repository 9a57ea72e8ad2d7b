using MeshAgent.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.StaticMode;

/// <summary>
/// <c>meshagent run --wg-config</c> start and stop as a process: what a signal leaves behind, and
/// how it refuses a bad config or an interface that another agent already runs. One namespace, no peer.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class StaticRunLifecycleTests(ITestOutputHelper output)
{
    private const string Interface = "mesh0";

    // Outside the interface's own subnets: these routes exist only because the agent added them.
    private static readonly WgQuickOptions WithRoutes = new() { ExtraAllowedIps = ["10.78.0.0/16", "fd78::/64"] };

    [Fact]
    public async Task Sigterm_and_sigint_stop_it_with_status_0_removing_interface_addresses_and_routes()
    {
        await using Lab lab = await Lab.CreateAsync(output);
        NetworkNamespace ns = await lab.AddNamespaceAsync("a");
        StaticConfigPair pair = await StaticConfigPair.GenerateAsync();
        string config = pair.ConfigA(WithRoutes);

        foreach (int signal in new[] { Libc.SIGTERM, StaticAgent.SIGINT })
        {
            // The second round also shows the name is free again for a restart.
            await using StaticAgent agent = await StaticAgent.StartAsync(ns, Interface, config);
            await TunnelChecks.WithDiagnosticsAsync(output, () => [ns], () => [agent.Process], async () =>
            {
                await AssertConfiguredAsync(ns, pair);
                await agent.StopAsync(signal);
                Assert.True(agent.Process.OutputContains($"{Interface} removed"), $"meshagent did not report {Interface} removed\n{agent.Process.RecentOutput()}");
            });
        }
    }

    [Fact]
    public async Task A_config_error_exits_2_naming_the_line_and_creates_no_interface()
    {
        await using Lab lab = await Lab.CreateAsync(output);
        NetworkNamespace ns = await lab.AddNamespaceAsync("a");
        StaticConfigPair pair = await StaticConfigPair.GenerateAsync();

        // A truncated private key (43 base64 characters) — a copy-and-paste slip.
        string truncated = pair.A.PrivateKey[..^1];
        string[] lines = pair.ConfigA().Split('\n');
        int keyLine = Array.FindIndex(lines, l => l.StartsWith("PrivateKey", StringComparison.Ordinal)) + 1;
        lines[keyLine - 1] = $"PrivateKey = {truncated}";

        ProcessResult run = await StaticAgent.RunToExitAsync(ns, Interface, string.Join('\n', lines));
        string context = $"{run.CommandLine}: exit {run.ExitCode}\nstdout:\n{run.StandardOutput}\nstderr:\n{run.StandardError}";
        output.WriteLine(context);

        Assert.True(run.ExitCode == 2, "expected exit status 2 (invalid input)\n" + context);
        Assert.True(run.StandardError.Contains($"line {keyLine}", StringComparison.Ordinal), $"the error does not name line {keyLine}\n" + context);
        Assert.False(run.StandardError.Contains(truncated, StringComparison.Ordinal) || run.StandardOutput.Contains(truncated, StringComparison.Ordinal),
            "the (bad) private key value was echoed\n" + context);
        Assert.False(await StaticAgent.InterfaceExistsAsync(ns, Interface), $"{Interface} exists after a config error\n" + context);
    }

    [Fact]
    public async Task A_second_agent_for_the_same_interface_exits_1_with_a_clear_message_and_leaves_the_first_alone()
    {
        await using Lab lab = await Lab.CreateAsync(output);
        NetworkNamespace ns = await lab.AddNamespaceAsync("a");
        StaticConfigPair pair = await StaticConfigPair.GenerateAsync();
        string config = pair.ConfigA(WithRoutes);

        await using StaticAgent first = await StaticAgent.StartAsync(ns, Interface, config);
        await TunnelChecks.WithDiagnosticsAsync(output, () => [ns], () => [first.Process], async () =>
        {
            ProcessResult second = await StaticAgent.RunToExitAsync(ns, Interface, config);
            string context = $"{second.CommandLine}: exit {second.ExitCode}\nstdout:\n{second.StandardOutput}\nstderr:\n{second.StandardError}";
            output.WriteLine(context);

            Assert.True(second.ExitCode == 1, "expected exit status 1 from the second agent\n" + context);
            Assert.True(second.StandardError.Contains(Interface, StringComparison.Ordinal) && second.StandardError.Contains("already", StringComparison.Ordinal),
                $"the second agent's error does not say that {Interface} is already in use\n" + context);

            Assert.False(first.Process.HasExited, $"the first agent exited when the second one failed\n{first.Process.RecentOutput()}");
            await AssertConfiguredAsync(ns, pair);
            await first.StopAsync();
        });
    }

    /// <summary>Node A's addresses, MTU and AllowedIPs routes (see <see cref="WithRoutes"/>) are on <see cref="Interface"/>.</summary>
    private static async Task AssertConfiguredAsync(NetworkNamespace ns, StaticConfigPair pair)
    {
        string link = (await ns.IpAsync("-o", "link", "show", "dev", Interface)).StandardOutput;
        Assert.Contains(" mtu 1420 ", link, StringComparison.Ordinal);

        string addresses = (await ns.IpAsync("-o", "addr", "show", "dev", Interface)).StandardOutput;
        Assert.Contains($" {pair.A.OverlayIpv4}/24 ", addresses, StringComparison.Ordinal);
        Assert.Contains($" {pair.A.OverlayIpv6}/64 ", addresses, StringComparison.Ordinal);

        IReadOnlyList<string> routes = await StaticAgent.RoutesViaAsync(ns, Interface);
        string all = string.Join('\n', routes);
        foreach (string prefix in new[] { "10.78.0.0/16 ", $"{pair.B.OverlayIpv4} ", "fd78::/64 ", $"{pair.B.OverlayIpv6} " })
        {
            Assert.True(routes.Any(r => r.StartsWith(prefix, StringComparison.Ordinal)), $"no route {prefix.Trim()} via {Interface}; routes via it:\n{all}");
        }
    }
}
