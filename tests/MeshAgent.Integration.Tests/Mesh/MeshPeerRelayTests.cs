using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MeshAgent.Integration.Tests.Harness;
using MeshAgent.Integration.Tests.StaticMode;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Mesh;

/// <summary>
/// Peer relays (DESIGN §5) with real daemons and no meshrelay at all: A owns a public address and creates the network;
/// C and E sit behind two symmetric NATs, so no direct path between them exists (lab punch matrix). A's STUN rounds
/// find no NAT, its call-me-maybes say so, and C and E relay through A: ping and a TCP transfer go through, both
/// sides report the path as <c>peer-relay</c> via a, and A counts what it forwarded.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class MeshPeerRelayTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Members_behind_two_symmetric_nats_reach_each_other_through_a_public_member()
    {
        await using Lab lab = await Lab.CreateAsync(output);
        LabHost aHost = await lab.AddPublicHostAsync("a");
        NatSite symmetric = await lab.AddNatSiteAsync("sym", NatType.Symmetric);
        NatSite symmetric2 = await lab.AddNatSiteAsync("sym2", NatType.Symmetric);
        var daemons = new List<MeshDaemon>();
        try
        {
            MeshDaemon a = await MeshDaemon.StartAsync("a", aHost.Namespace);
            daemons.Add(a);
            output.WriteLine(await a.CliOkAsync("init", "--network", "peerlab", "--name", "a"));
            MeshDaemon c = await MeshDaemon.StartAsync("c", symmetric.Hosts[0].Namespace);
            daemons.Add(c);
            MeshDaemon e = await MeshDaemon.StartAsync("e", symmetric2.Hosts[0].Namespace);
            daemons.Add(e);
            IEnumerable<ProcessHandle> Processes() => daemons.Select(x => x.Process);
            foreach (MeshDaemon joiner in new[] { c, e })
            {
                output.WriteLine(await joiner.CliOkAsync("join", (await a.CliOkAsync("invite", "--name", joiner.Name)).Trim()));
            }

            var sinceJoined = Stopwatch.StartNew();
            await ProcessRunner.WaitUntilAsync(() => a.Process.OutputContains("NAT mapping: none"), Convergence,
                "a to find from its STUN answers that it has a public address", Processes());

            IPAddress eAddress = IPAddress.Parse(await e.OverlayIPv4Async());
            IPAddress cAddress = IPAddress.Parse(await c.OverlayIPv4Async());
            await ProcessRunner.WaitUntilAsync(() => c.Namespace.TryPingAsync(eAddress), Convergence, "c pings e (through a)", Processes());
            TimeSpan firstPing = sinceJoined.Elapsed;
            await ProcessRunner.WaitUntilAsync(() => e.Namespace.TryPingAsync(cAddress), Convergence, "e pings c (through a)", Processes());

            foreach ((MeshDaemon from, MeshDaemon to) in new[] { (c, e), (e, c) })
            {
                await ProcessRunner.WaitUntilAsync(async () => (await from.PathToAsync(to.Name)) is ("peer-relay", "via a"), Convergence,
                    $"{from.Name} to report its path to {to.Name} as peer-relay via a", Processes());
            }

            Iperf3Result transfer = await TunnelChecks.Iperf3Async(e.Namespace, eAddress, c.Namespace, Processes(), seconds: 2);
            output.WriteLine($"c ↔ e through peer relay a: first ping {firstPing.TotalSeconds:0.0} s after the last join; TCP {transfer.BitsPerSecond / 1e6:0.0} Mbit/s ({transfer.BytesReceived} bytes)");
            Assert.True(transfer.BytesReceived > 0, "the TCP transfer through the peer relay moved no data");
            string ping = await c.CliOkAsync("ping", "e", "-c", "2", "--interval", "0.2");
            output.WriteLine(ping);
            Assert.Contains("via peer-relay a", ping);
            output.WriteLine(await c.CliOkAsync("peers"));
        }
        finally
        {
            foreach (MeshDaemon daemon in daemons)
            {
                output.WriteLine($"--- {daemon.Name}\n{daemon.Process.RecentOutput(30)}");
                await daemon.DisposeAsync();
            }
        }
    }
}
