using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MeshAgent.Integration.Tests.Harness;
using MeshAgent.Integration.Tests.Relay;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Mesh;

/// <summary>
/// Members behind NATs (DESIGN §5) with real daemons and a real meshrelay: A (public host) creates the network
/// with <c>--relay</c>; B and D behind two port-restricted cone NATs, C and E behind two symmetric NATs join it.
/// Each learns its reflexive endpoint from the relay's STUN; traffic starts on the relay and every pair the lab's
/// punch matrix (Harness/README.md) calls direct — A with anyone, cone with cone (B↔D, by a call-me-maybe
/// through the relay) — upgrades to a direct path; the others (cone↔symmetric, symmetric↔symmetric) stay on the
/// relay. Then UDP between B's and D's sites is cut: both fall back to the relay within 3 s and traffic goes on;
/// after the heal they return to direct. Times to first packet, to direct, to fallback and back are written to the
/// test output.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class MeshNatTests(ITestOutputHelper output)
{
    private const int RelayPort = 3478;
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(45);

    /// <summary>PathConfig.DirectPathTimeout (2.5 s) after the last heartbeat pong, plus a loop turn and a status round trip.</summary>
    private static readonly TimeSpan FallbackLimit = TimeSpan.FromSeconds(3);

    /// <summary>Discovery on the relay backs off from 5 s to 30 s (PathConfig): a healed path is found within one round.</summary>
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task Members_behind_cone_and_symmetric_nats_reach_each_other_through_the_relay()
    {
        await using Lab lab = await Lab.CreateAsync(output);
        LabHost relayHost = await lab.AddPublicHostAsync("relay");
        LabHost aHost = await lab.AddPublicHostAsync("a");
        NatSite cone = await lab.AddNatSiteAsync("cone", NatType.Cone);
        NatSite symmetric = await lab.AddNatSiteAsync("sym", NatType.Symmetric);
        NatSite cone2 = await lab.AddNatSiteAsync("cone2", NatType.Cone);
        NatSite symmetric2 = await lab.AddNatSiteAsync("sym2", NatType.Symmetric);
        DirectoryInfo relayState = Directory.CreateTempSubdirectory("meshrelay-nat-");
        var daemons = new List<MeshDaemon>();
        ProcessHandle? relay = null;
        try
        {
            MeshDaemon a = await MeshDaemon.StartAsync("a", aHost.Namespace);
            daemons.Add(a);
            string relayText = $"{relayHost.Address}:{RelayPort}";
            output.WriteLine(await a.CliOkAsync("init", "--network", "natlab", "--name", "a", "--relay", relayText));
            string root = (await a.StatusAsync()).GetProperty("network").GetProperty("rootPublicKey").GetString()!;

            relay = relayHost.Namespace.StartProcess("meshrelay", MeshRelayExecutable.Command(
                "run", "--listen", $"0.0.0.0:{RelayPort}", "--accept-root", root, "--state-dir", relayState.FullName));
            await ProcessRunner.WaitUntilAsync(() => relay.OutputContains("meshrelay started"), Convergence, "meshrelay reports it started", [relay]);
            await ProcessRunner.WaitUntilAsync(() => a.Process.OutputContains($"relay {relayHost.Address}:{RelayPort}: connected"), Convergence,
                "a to authenticate to the relay", [a.Process, relay]);

            MeshDaemon b = await MeshDaemon.StartAsync("b", cone.Hosts[0].Namespace);
            daemons.Add(b);
            MeshDaemon c = await MeshDaemon.StartAsync("c", symmetric.Hosts[0].Namespace);
            daemons.Add(c);
            MeshDaemon d = await MeshDaemon.StartAsync("d", cone2.Hosts[0].Namespace);
            daemons.Add(d);
            MeshDaemon e = await MeshDaemon.StartAsync("e", symmetric2.Hosts[0].Namespace);
            daemons.Add(e);
            var natOf = new Dictionary<MeshDaemon, NatType> { [a] = NatType.None, [b] = NatType.Cone, [c] = NatType.Symmetric, [d] = NatType.Cone, [e] = NatType.Symmetric };
            IEnumerable<ProcessHandle> Processes() => [.. daemons.Select(x => x.Process), relay];
            foreach (MeshDaemon joiner in new[] { b, c, d, e })
            {
                string token = (await a.CliOkAsync("invite", "--name", joiner.Name)).Trim();
                output.WriteLine(await joiner.CliOkAsync("join", token));
            }

            var sinceJoined = Stopwatch.StartNew();

            // The relay list travelled in the snapshot: the joiners authenticate to the relay too, and learn their
            // NATs' public addresses from its STUN answers.
            foreach ((MeshDaemon joiner, NatSite site) in new[] { (b, cone), (c, symmetric), (d, cone2), (e, symmetric2) })
            {
                await ProcessRunner.WaitUntilAsync(() => joiner.Process.OutputContains($"relay {relayHost.Address}:{RelayPort}: connected"), Convergence,
                    $"{joiner.Name} to authenticate to the relay (the joiner got the relay list from a)", Processes());
                await ProcessRunner.WaitUntilAsync(() => joiner.Process.OutputContains("reflexive endpoints") && joiner.Process.OutputContains($"{site.PublicAddress}:"),
                    Convergence, $"{joiner.Name} to learn its reflexive endpoint {site.PublicAddress}:* from the relay", Processes());
            }

            var v4 = new Dictionary<MeshDaemon, IPAddress>();
            foreach (MeshDaemon x in daemons)
            {
                v4[x] = IPAddress.Parse(await x.OverlayIPv4Async());
            }

            foreach (MeshDaemon x in daemons)
            {
                await ProcessRunner.WaitUntilAsync(async () => (await x.MemberStatesAsync()) is var s && s.Count == 4 && s.Values.All(v => v == "alive"),
                    Convergence, $"{x.Name} to see the 4 others alive", Processes());
            }

            var report = new List<string>();
            foreach (MeshDaemon from in daemons)
            {
                foreach (MeshDaemon to in daemons.Where(t => t != from))
                {
                    var clock = Stopwatch.StartNew();
                    await ProcessRunner.WaitUntilAsync(() => from.Namespace.TryPingAsync(v4[to]), Convergence, $"{from.Name} pings {to.Name} at {v4[to]}", Processes());
                    TimeSpan first = clock.Elapsed;
                    TimeSpan firstAt = sinceJoined.Elapsed;
                    string expected = DirectPossible(natOf[from], natOf[to]) ? "direct" : "relay";
                    if (expected == "direct")
                    {
                        await ProcessRunner.WaitUntilAsync(async () => (await PathAsync(from, to.Name)).Path == "direct", Convergence,
                            $"{from.Name} ({natOf[from]}) to upgrade its path to {to.Name} ({natOf[to]}) to direct", Processes());
                    }

                    (string path, string? endpoint) = await PathAsync(from, to.Name);
                    report.Add($"{from.Name} ({natOf[from]}) → {to.Name} ({natOf[to]}): first ping answered {firstAt.TotalSeconds:0.0} s after the last join ({first.TotalSeconds:0.0} s of pinging); path {path} ({endpoint}) seen {sinceJoined.Elapsed.TotalSeconds:0.0} s after the last join");
                }
            }

            // Pairs without a direct path in the lab's matrix stay on the relay even after discovery rounds ran.
            foreach (MeshDaemon from in daemons)
            {
                foreach (MeshDaemon to in daemons.Where(t => t != from && !DirectPossible(natOf[from], natOf[t])))
                {
                    Assert.Equal("relay", (await PathAsync(from, to.Name)).Path);
                }
            }

            foreach (string line in report)
            {
                output.WriteLine(line);
            }

            // Cut UDP between the two cone sites: both sides fall back to the relay within 3 s, traffic goes on;
            // after the heal both return to the direct path.
            await lab.CutAsync(cone.PublicAddresses, cone2.PublicAddresses);
            var sinceCut = Stopwatch.StartNew();
            foreach ((MeshDaemon x, MeshDaemon y) in new[] { (b, d), (d, b) })
            {
                await ProcessRunner.WaitUntilAsync(async () => (await PathAsync(x, y.Name)).Path == "relay", Convergence,
                    $"{x.Name} to fall back to the relay for {y.Name} after the cut", Processes());
            }

            TimeSpan fallback = sinceCut.Elapsed;
            output.WriteLine($"cut b↔d: both on the relay {fallback.TotalSeconds:0.0} s after the cut");
            Assert.True(fallback <= FallbackLimit, $"b↔d fell back to the relay {fallback.TotalSeconds:0.0} s after the cut; limit {FallbackLimit.TotalSeconds} s");
            await ProcessRunner.WaitUntilAsync(() => b.Namespace.TryPingAsync(v4[d]), TimeSpan.FromSeconds(10), "b pings d through the relay during the cut", Processes());

            await lab.HealAsync(cone.PublicAddresses, cone2.PublicAddresses);
            var sinceHeal = Stopwatch.StartNew();
            foreach ((MeshDaemon x, MeshDaemon y) in new[] { (b, d), (d, b) })
            {
                await ProcessRunner.WaitUntilAsync(async () => (await PathAsync(x, y.Name)).Path == "direct", RecoveryLimit,
                    $"{x.Name} to return to the direct path to {y.Name} after the heal", Processes());
            }

            output.WriteLine($"heal b↔d: both direct again {sinceHeal.Elapsed.TotalSeconds:0.0} s after the heal");
            Assert.True(await b.Namespace.TryPingAsync(v4[d]), "b pings d after the heal");
            output.WriteLine(await b.CliOkAsync("peers"));
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

    /// <summary>The lab's punch matrix for these types: a public host reaches anyone; two port-restricted cones punch; anything with a symmetric NAT on the other side of a NAT does not.</summary>
    private static bool DirectPossible(NatType x, NatType y) =>
        x == NatType.None || y == NatType.None || x == NatType.Cone || y == NatType.Cone; // cone ↔ symmetric: hard-NAT probing

    private static async Task<(string Path, string? Endpoint)> PathAsync(MeshDaemon from, string to)
    {
        foreach (JsonElement member in (await from.StatusAsync()).GetProperty("members").EnumerateArray())
        {
            if (member.GetProperty("name").GetString() == to)
            {
                return (member.GetProperty("path").GetString()!, member.TryGetProperty("endpoint", out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null);
            }
        }

        return ("unknown", null);
    }
}
