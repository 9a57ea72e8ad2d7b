using System.Net;
using System.Text.Json;
using MeshAgent.Integration.Tests.Harness;
using MeshAgent.Integration.Tests.Relay;
using MeshAgent.Integration.Tests.StaticMode;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Mesh;

/// <summary>
/// Bulk TCP (iperf3, 2 s) over each kind of path the agent can end up on — direct from the main socket, direct
/// through a hard-NAT probe socket, and the UDP relay — so every path carries more than pings and small echoes.
/// The rates are printed, not asserted (STYLE: performance numbers live in benchmarks and notes): meshrelay public,
/// A public, B behind a cone NAT, C and E behind symmetric NATs.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class PathThroughputTests(ITestOutputHelper output)
{
    private const int RelayPort = 3478;
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Bulk_tcp_flows_over_a_direct_a_probe_socket_and_a_relayed_path()
    {
        await using Lab lab = await Lab.CreateAsync(output);
        LabHost relayHost = await lab.AddPublicHostAsync("relay");
        LabHost aHost = await lab.AddPublicHostAsync("a");
        NatSite cone = await lab.AddNatSiteAsync("cone", NatType.Cone);
        NatSite symmetric = await lab.AddNatSiteAsync("sym", NatType.Symmetric);
        NatSite symmetric2 = await lab.AddNatSiteAsync("sym2", NatType.Symmetric);
        DirectoryInfo relayState = Directory.CreateTempSubdirectory("meshrelay-tput-");
        var daemons = new List<MeshDaemon>();
        ProcessHandle? relay = null;
        try
        {
            MeshDaemon a = await MeshDaemon.StartAsync("a", aHost.Namespace);
            daemons.Add(a);
            output.WriteLine(await a.CliOkAsync("init", "--network", "tput", "--name", "a", "--relay", $"{relayHost.Address}:{RelayPort}"));
            string root = (await a.StatusAsync()).GetProperty("network").GetProperty("rootPublicKey").GetString()!;
            relay = relayHost.Namespace.StartProcess("meshrelay", MeshRelayExecutable.Command(
                "run", "--listen", $"0.0.0.0:{RelayPort}", "--accept-root", root, "--state-dir", relayState.FullName));
            await ProcessRunner.WaitUntilAsync(() => relay.OutputContains("meshrelay started"), Convergence, "meshrelay reports it started", [relay]);

            MeshDaemon b = await MeshDaemon.StartAsync("b", cone.Hosts[0].Namespace);
            MeshDaemon c = await MeshDaemon.StartAsync("c", symmetric.Hosts[0].Namespace);
            MeshDaemon e = await MeshDaemon.StartAsync("e", symmetric2.Hosts[0].Namespace);
            daemons.AddRange([b, c, e]);
            IEnumerable<ProcessHandle> Processes() => [.. daemons.Select(x => x.Process), relay];
            foreach (MeshDaemon joiner in new[] { b, c, e })
            {
                output.WriteLine(await joiner.CliOkAsync("join", (await a.CliOkAsync("invite", "--name", joiner.Name)).Trim()));
            }

            var v4 = new Dictionary<MeshDaemon, IPAddress>();
            foreach (MeshDaemon x in daemons)
            {
                v4[x] = IPAddress.Parse(await x.OverlayIPv4Async());
            }

            var report = new List<string>();
            foreach ((MeshDaemon from, MeshDaemon to, string path, string kind) in new[]
            {
                (b, a, "direct", "direct, main socket"),
                (c, b, "direct", "direct through a probe socket (cone ↔ symmetric)"),
                (c, e, "relay", "UDP relay (symmetric ↔ symmetric)"),
            })
            {
                await ProcessRunner.WaitUntilAsync(() => from.Namespace.TryPingAsync(v4[to]), Convergence, $"{from.Name} pings {to.Name}", Processes());
                await ProcessRunner.WaitUntilAsync(async () => (await from.PathToAsync(to.Name)).Path == path, Convergence,
                    $"{from.Name}'s path to {to.Name} to be {path}", Processes());
                Iperf3Result result = await TunnelChecks.Iperf3Async(to.Namespace, v4[to], from.Namespace, Processes(), seconds: 2);
                Assert.True(result.BytesReceived > 0, $"iperf3 {from.Name} → {to.Name} moved no data");
                report.Add($"{from.Name} → {to.Name} over {kind}: {result.BitsPerSecond / 1e6:0.0} Mbit/s ({result.BytesReceived / 1_000_000.0:0.0} MB in {result.Seconds:0.0} s)");
            }

            foreach (string line in report)
            {
                output.WriteLine(line);
            }
        }
        finally
        {
            foreach (MeshDaemon daemon in daemons)
            {
                output.WriteLine($"--- {daemon.Name}\n{daemon.Process.RecentOutput(15)}");
                await daemon.DisposeAsync();
            }

            if (relay is not null)
            {
                await relay.DisposeAsync();
            }

            relayState.Delete(recursive: true);
        }
    }
}
