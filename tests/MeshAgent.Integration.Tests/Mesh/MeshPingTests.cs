using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using MeshAgent.Integration.Tests.Harness;
using MeshAgent.Integration.Tests.Relay;
using Xunit;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Mesh;

/// <summary>
/// <c>meshagent ping</c> and the path column of <c>meshagent peers</c> with real daemons, a real meshrelay and real
/// NATs: A (public) creates the network with <c>--relay</c>, B and C (behind two symmetric NATs) join. From B, A is
/// reached directly (a public peer) and C only through the relay (the lab's punch matrix: symmetric↔symmetric does
/// not punch, and birthday probing needs one easy side): each ping line must name that path and the address behind it, the
/// summary must count every answer, and a name no member has exits 2 with a message that says where names are listed.
/// <c>meshagent netcheck</c> on B names the symmetric mapping, B's public address and the latency to the daemon's relay.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class MeshPingTests(ITestOutputHelper output)
{
    private const int RelayPort = 3478;
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Ping_shows_the_direct_or_relay_path_of_each_reply_and_refuses_unknown_members()
    {
        var clock = Stopwatch.StartNew();
        await using Lab lab = await Lab.CreateAsync(output);
        LabHost relayHost = await lab.AddPublicHostAsync("relay");
        LabHost aHost = await lab.AddPublicHostAsync("a");
        NatSite cone = await lab.AddNatSiteAsync("sym0", NatType.Symmetric); // B: symmetric too, so B ↔ C has no direct path
        NatSite symmetric = await lab.AddNatSiteAsync("sym", NatType.Symmetric);
        DirectoryInfo relayState = Directory.CreateTempSubdirectory("meshrelay-ping-");
        var daemons = new List<MeshDaemon>();
        ProcessHandle? relay = null;
        try
        {
            MeshDaemon a = await MeshDaemon.StartAsync("a", aHost.Namespace);
            daemons.Add(a);
            string relayText = $"{relayHost.Address}:{RelayPort}";
            output.WriteLine(await a.CliOkAsync("init", "--network", "pinglab", "--name", "a", "--relay", relayText));
            string root = (await a.StatusAsync()).GetProperty("network").GetProperty("rootPublicKey").GetString()!;
            relay = relayHost.Namespace.StartProcess("meshrelay", MeshRelayExecutable.Command(
                "run", "--listen", $"0.0.0.0:{RelayPort}", "--accept-root", root, "--state-dir", relayState.FullName));
            await ProcessRunner.WaitUntilAsync(() => relay.OutputContains("meshrelay started"), Convergence, "meshrelay reports it started", [relay]);

            MeshDaemon b = await MeshDaemon.StartAsync("b", cone.Hosts[0].Namespace);
            daemons.Add(b);
            MeshDaemon c = await MeshDaemon.StartAsync("c", symmetric.Hosts[0].Namespace);
            daemons.Add(c);
            IEnumerable<ProcessHandle> Processes() => [.. daemons.Select(x => x.Process), relay];
            foreach (MeshDaemon joiner in new[] { b, c })
            {
                string token = (await a.CliOkAsync("invite", "--name", joiner.Name)).Trim();
                output.WriteLine(await joiner.CliOkAsync("join", token));
            }

            foreach (MeshDaemon x in daemons)
            {
                await ProcessRunner.WaitUntilAsync(() => x.Process.OutputContains($"relay {relayText}: connected"), Convergence,
                    $"{x.Name} to authenticate to the relay", Processes());
            }

            await ProcessRunner.WaitUntilAsync(async () => (await b.MemberStatesAsync()) is var s && s.Count == 2 && s.Values.All(v => v == "alive"),
                Convergence, "b to see a and c alive", Processes());

            // B → A: a public peer, so the path upgrades to direct; ping then goes (and comes back) that way.
            await ProcessRunner.WaitUntilAsync(async () => (await b.PathToAsync("a")).Path == "direct", Convergence, "b's path to a to become direct", Processes());
            string aOverlay = await a.OverlayIPv4Async();
            ProcessResult toA = await b.CliAsync("ping", "a", "-c", "3", "--interval", "0.2", "--timeout", "2");
            output.WriteLine($"b: meshagent ping a → exit {toA.ExitCode}\n{toA.StandardOutput}{toA.StandardError}");
            Assert.Equal(0, toA.ExitCode);
            AssertReplies(toA.StandardOutput, $"a ({aOverlay})", $"direct {aHost.Address}:{MeshDaemon.Port}", 3);

            // B → C by overlay address: symmetric ↔ symmetric stays on the relay.
            string cOverlay = await c.OverlayIPv4Async();
            await ProcessRunner.WaitUntilAsync(async () => (await b.PathToAsync("c")).Path == "relay", Convergence, "b to have a session with c (through the relay)", Processes());
            ProcessResult toC = await b.CliAsync("ping", cOverlay, "-c", "3", "--interval", "0.2", "--timeout", "2");
            output.WriteLine($"b: meshagent ping {cOverlay} → exit {toC.ExitCode}\n{toC.StandardOutput}{toC.StandardError}");
            Assert.Equal(0, toC.ExitCode);
            AssertReplies(toC.StandardOutput, $"c ({cOverlay})", $"relay {relayText}", 3);

            // --json: the same answers for scripts.
            ProcessResult json = await b.CliAsync("ping", "c", "-c", "2", "--interval", "0.2", "--json");
            Assert.True(json.ExitCode == 0, json.StandardError);
            JsonElement report = JsonDocument.Parse(json.StandardOutput).RootElement;
            Assert.Equal(2, report.GetProperty("statistics").GetProperty("received").GetInt32());
            Assert.All(report.GetProperty("replies").EnumerateArray(), r => Assert.Equal("relay", r.GetProperty("path").GetString()));

            // The peers table names the same paths.
            string peers = await b.CliOkAsync("peers");
            output.WriteLine(peers);
            Assert.Matches($@"(?m)^a\s.*\sdirect {Regex.Escape($"{aHost.Address}:{MeshDaemon.Port}")}\s", peers);
            Assert.Matches($@"(?m)^c\s.*\srelay {Regex.Escape(relayText)}\s", peers);

            // netcheck from B: the cone NAT's mapping and public address from two STUN servers (the relay and A, whose
            // agent answers STUN on its port), and the latency to the relay the daemon names.
            ProcessResult netcheck = await b.CliAsync("netcheck", "--stun", relayText, "--stun", $"{aHost.Address}:{MeshDaemon.Port}", "--timeout", "2");
            output.WriteLine($"b: meshagent netcheck → exit {netcheck.ExitCode}\n{netcheck.StandardOutput}{netcheck.StandardError}");
            Assert.Equal(0, netcheck.ExitCode);
            Assert.Contains("mapping: endpoint-dependent", netcheck.StandardOutput, StringComparison.Ordinal);
            Assert.Contains($"public endpoint {cone.PublicAddress}:", netcheck.StandardOutput, StringComparison.Ordinal);
            Assert.Matches($@"(?m)^  relay {Regex.Escape(relayText)}, connected: rtt \d+\.\d ms$", netcheck.StandardOutput);

            // The daemon's own view (status): B's STUN rounds to the relay and A found the symmetric NAT and its address.
            await ProcessRunner.WaitUntilAsync(async () => (await b.StatusAsync()).GetProperty("nat").GetString() == "endpoint-dependent", Convergence,
                "b's status to report its endpoint-dependent NAT", Processes());
            Assert.Contains((await b.StatusAsync()).GetProperty("publicEndpoints").EnumerateArray(), e => e.GetString()!.StartsWith($"{cone.PublicAddress}:", StringComparison.Ordinal));

            // A name nobody has: bad input (exit 2), and the message says where to see the names.
            ProcessResult ghost = await b.CliAsync("ping", "ghost", "-c", "1");
            output.WriteLine($"b: meshagent ping ghost → exit {ghost.ExitCode}\n{ghost.StandardOutput}{ghost.StandardError}");
            Assert.Equal(2, ghost.ExitCode);
            Assert.Contains("no member named 'ghost'", ghost.StandardError, StringComparison.Ordinal);
            Assert.Contains("meshagent peers", ghost.StandardError, StringComparison.Ordinal);
            Assert.Empty(ghost.StandardOutput);
            output.WriteLine($"test body took {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            foreach (MeshDaemon daemon in daemons)
            {
                output.WriteLine($"--- {daemon.Name}\n{daemon.Process.RecentOutput(30)}");
                await daemon.DisposeAsync();
            }

            if (relay is not null)
            {
                output.WriteLine($"--- meshrelay\n{relay.RecentOutput(10)}");
                await relay.DisposeAsync();
            }

            relayState.Delete(recursive: true);
        }
    }

    /// <summary>Exactly <paramref name="count"/> "pong from WHO via PATH in N ms" lines, then a summary counting them all.</summary>
    private static void AssertReplies(string text, string who, string via, int count)
    {
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(count + 2, lines.Length);
        foreach (string line in lines.Take(count))
        {
            Assert.Matches($@"^pong from {Regex.Escape(who)} via {Regex.Escape(via)} in \d+(\.\d+)? ms$", line);
        }

        Assert.Equal($"--- {who} ping statistics ---", lines[count]);
        Assert.StartsWith($"{count} sent, {count} received, 0% loss, rtt min/avg/max ", lines[count + 1], StringComparison.Ordinal);
    }
}
