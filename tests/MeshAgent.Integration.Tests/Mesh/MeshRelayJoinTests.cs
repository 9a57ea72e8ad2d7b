using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MeshAgent.Integration.Tests.Harness;
using MeshAgent.Integration.Tests.Relay;
using MeshAgent.Integration.Tests.StaticMode;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Mesh;

/// <summary>
/// Joining and living through the relay (issue 5, parts 2, 3, 7) with real daemons and a real meshrelay: A behind a
/// port-restricted cone NAT creates the network with <c>--relay</c> (no <c>tcp=</c>: the agent tries the relay's TCP
/// stream on the UDP port number, where this meshrelay listens). Nobody can reach A directly (its token lists only its
/// LAN address), so B (cone NAT) joins through the relay over UDP, and G — on a site that lets only TCP out — joins
/// through the relay's TCP stream, then runs its relay session over TCP: G pings A and B through the tunnel on the
/// relay path (status: <c>relay HOST:PORT (tcp)</c>), and an iperf3 TCP run from G to A goes through it.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class MeshRelayJoinTests(ITestOutputHelper output)
{
    private const int RelayPort = 3478;
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Joiners_behind_nat_and_without_udp_join_and_talk_through_the_relay()
    {
        var clock = Stopwatch.StartNew();
        await using Lab lab = await Lab.CreateAsync(output);
        LabHost relayHost = await lab.AddPublicHostAsync("relay");
        NatSite aSite = await lab.AddNatSiteAsync("a", NatType.Cone);
        NatSite bSite = await lab.AddNatSiteAsync("b", NatType.Cone);
        NatSite gSite = await lab.AddNatSiteAsync("g", NatType.UdpBlocked);
        DirectoryInfo relayState = Directory.CreateTempSubdirectory("meshrelay-join-");
        var daemons = new List<MeshDaemon>();
        ProcessHandle? relay = null;
        try
        {
            MeshDaemon a = await MeshDaemon.StartAsync("a", aSite.Hosts[0].Namespace);
            daemons.Add(a);
            string relayText = $"{relayHost.Address}:{RelayPort}";
            output.WriteLine(await a.CliOkAsync("init", "--network", "relayjoin", "--name", "a", "--relay", relayText));
            string root = (await a.StatusAsync()).GetProperty("network").GetProperty("rootPublicKey").GetString()!;

            relay = relayHost.Namespace.StartProcess("meshrelay", MeshRelayExecutable.Command(
                "run", "--listen", $"0.0.0.0:{RelayPort}", "--tcp-listen", $"0.0.0.0:{RelayPort}", "--accept-root", root, "--state-dir", relayState.FullName));
            IEnumerable<ProcessHandle> Processes() => [.. daemons.Select(x => x.Process), relay];
            await ProcessRunner.WaitUntilAsync(() => relay.OutputContains("meshrelay started"), Convergence, "meshrelay reports it started", [relay]);
            await ProcessRunner.WaitUntilAsync(() => a.Process.OutputContains($"relay {relayText}: connected (udp)"), Convergence,
                "a (cone NAT) to authenticate to the relay over UDP", Processes());

            // B: A's token lists A's LAN address only (unreachable from B's site) and the relay: the join goes through the relay over UDP.
            MeshDaemon b = await MeshDaemon.StartAsync("b", bSite.Hosts[0].Namespace);
            daemons.Add(b);
            string tokenB = (await a.CliOkAsync("invite", "--name", "b")).Trim();
            var joinClock = Stopwatch.StartNew();
            string joinB = await b.CliOkAsync("join", tokenB);
            output.WriteLine($"b joined in {joinClock.Elapsed.TotalSeconds:0.0} s:\n{joinB}");
            Assert.Contains($"the inviter answered through relay {relayText} (udp)", joinB);

            // G: no UDP leaves its site. The join falls back to the relay's TCP stream, and so does its relay session.
            MeshDaemon g = await MeshDaemon.StartAsync("g", gSite.Hosts[0].Namespace);
            daemons.Add(g);
            string tokenG = (await a.CliOkAsync("invite", "--name", "g")).Trim();
            joinClock.Restart();
            string joinG = await g.CliOkAsync("join", tokenG);
            output.WriteLine($"g joined in {joinClock.Elapsed.TotalSeconds:0.0} s:\n{joinG}");
            Assert.Contains($"trying the inviter through relay {relayText} (tcp)", joinG);
            Assert.Contains($"the inviter answered through relay {relayText} (tcp)", joinG);
            Assert.Contains("accepted 'g'", a.Process.RecentOutput());
            Assert.Contains("through the relay", a.Process.RecentOutput());

            await ProcessRunner.WaitUntilAsync(() => g.Process.OutputContains($"relay {relayText}: connected (tcp)"), Convergence,
                "g to authenticate to the relay over its TCP stream", Processes());
            Assert.False(g.Process.OutputContains($"relay {relayText}: connected (udp)"), "g's site blocks UDP, yet its relay session came up over UDP");

            var v4 = new Dictionary<MeshDaemon, IPAddress>();
            foreach (MeshDaemon x in daemons)
            {
                v4[x] = IPAddress.Parse(await x.OverlayIPv4Async());
            }

            foreach ((MeshDaemon from, MeshDaemon to) in new[] { (g, a), (g, b), (a, g), (b, g), (b, a) })
            {
                var pingClock = Stopwatch.StartNew();
                await ProcessRunner.WaitUntilAsync(() => from.Namespace.TryPingAsync(v4[to]), Convergence, $"{from.Name} pings {to.Name} at {v4[to]}", Processes());
                output.WriteLine($"{from.Name} → {to.Name}: first ping answered after {pingClock.Elapsed.TotalSeconds:0.0} s");
            }

            foreach (MeshDaemon to in new[] { a, b })
            {
                (string path, string? endpoint) = await g.PathToAsync(to.Name);
                Assert.Equal("relay", path);
                Assert.Equal($"relay {relayText} (tcp)", endpoint);
            }

            Iperf3Result transfer = await TunnelChecks.Iperf3Async(a.Namespace, v4[a], g.Namespace, Processes(), seconds: 2);
            output.WriteLine($"iperf3 g → a through the relay's TCP stream: {transfer.BytesReceived} bytes, {transfer.Mbps:0.0} Mbit/s");
            Assert.True(transfer.BytesReceived > 0, "iperf3 moved no data from g to a");

            output.WriteLine(await g.CliOkAsync("peers"));

            // Revoking g: the admin pushes the revocation to the relay, which drops g's session at once (not at g's
            // next authentication), so a revoked node loses the relay too.
            output.WriteLine(await a.CliOkAsync("revoke", "g", "--reason", "lab test"));
            await ProcessRunner.WaitUntilAsync(() => relay.OutputContains("accepted (pushed by") && relay.OutputContains("reason: lab test"), TimeSpan.FromSeconds(15),
                "the relay to accept the revocation of g pushed by a member", Processes());
            output.WriteLine($"whole test: {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            foreach (MeshDaemon daemon in daemons)
            {
                output.WriteLine($"--- {daemon.Name}\n{daemon.Process.RecentOutput(40)}");
                await daemon.DisposeAsync();
            }

            if (relay is not null)
            {
                output.WriteLine($"--- meshrelay\n{relay.RecentOutput(20)}");
                await relay.DisposeAsync();
            }

            relayState.Delete(recursive: true);
        }
    }
}
