using System.Diagnostics;
using System.Net;
using MeshAgent.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Mesh;

/// <summary>
/// Membership end to end with real daemons (issue 4's scenario): four agents on one LAN segment; A
/// creates the network and invites B and C; A makes C an admin and D joins with C's token (joins do not
/// depend on the first node); everyone pings everyone by overlay address; kill -9 of D is noticed and
/// its routes dropped within 10 s; D restarts with the same address; C is revoked and nobody talks to it;
/// B leaves.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class MeshMembershipTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Four_agents_init_join_admin_join_ping_fail_restart_and_revoke()
    {
        await using Lab lab = await Lab.CreateAsync(output);
        NatSite lan = await lab.AddNatSiteAsync("lan", NatType.Cone, hostCount: 5);
        var daemons = new List<MeshDaemon>();
        try
        {
            string[] names = ["a", "b", "c", "d"];
            for (int i = 0; i < names.Length; i++)
            {
                daemons.Add(await MeshDaemon.StartAsync(names[i], lan.Hosts[i].Namespace));
            }

            (MeshDaemon a, MeshDaemon b, MeshDaemon c, MeshDaemon d) = (daemons[0], daemons[1], daemons[2], daemons[3]);
            IEnumerable<ProcessHandle> Processes() => daemons.Select(x => x.Process);

            await a.CliOkAsync("init", "--network", "lab", "--name", "a");
            output.WriteLine(await a.CliOkAsync("status"));

            // The agent answers STUN on its WireGuard port (one port carries everything): coturn's client
            // from the fifth host learns its own address from it.
            ProcessResult stun = await lan.Hosts[4].Namespace.ExecAsync(
                ["turnutils_stunclient", "-p", MeshDaemon.Port.ToString(), lan.Hosts[0].Address.ToString()], new RunOptions { Check = false, Timeout = TimeSpan.FromSeconds(30) });
            Assert.True(stun.StandardOutput.Contains($"UDP reflexive addr: {lan.Hosts[4].Address}:", StringComparison.Ordinal),
                $"turnutils_stunclient against meshagent a (exit {stun.ExitCode}):\n{stun.StandardOutput}{stun.StandardError}");

            foreach (MeshDaemon joiner in new[] { b, c })
            {
                string token = (await a.CliOkAsync("invite", "--name", joiner.Name)).Trim();
                Assert.StartsWith("mesh1:", token, StringComparison.Ordinal);
                Assert.True(token.Length < 400, $"token is {token.Length} characters");
                output.WriteLine(await joiner.CliOkAsync("join", token));
            }

            await a.CliOkAsync("admin", "grant", "c");
            string tokenFromC = (await c.CliOkAsync("invite", "--name", "d")).Trim();
            output.WriteLine(await d.CliOkAsync("join", tokenFromC));

            // The token worked once: a fifth machine presenting it again is refused, clearly.
            await using (MeshDaemon e = await MeshDaemon.StartAsync("e", lan.Hosts[4].Namespace))
            {
                ProcessResult reuse = await e.CliAsync("join", tokenFromC);
                output.WriteLine($"reuse: exit {reuse.ExitCode}\n{reuse.StandardOutput}{reuse.StandardError}");
                Assert.NotEqual(0, reuse.ExitCode);
                Assert.Contains("already used", reuse.StandardError + reuse.StandardOutput, StringComparison.Ordinal);
            }

            // Everyone learns everyone by gossip, and every pair pings over the overlay (IPv4 and IPv6).
            var v4 = new Dictionary<MeshDaemon, IPAddress>();
            var v6 = new Dictionary<MeshDaemon, IPAddress>();
            foreach (MeshDaemon x in daemons)
            {
                v4[x] = IPAddress.Parse(await x.OverlayIPv4Async());
                v6[x] = IPAddress.Parse(await x.OverlayIPv6Async());
            }

            foreach (MeshDaemon x in daemons)
            {
                await ProcessRunner.WaitUntilAsync(async () => (await x.MemberStatesAsync()) is var s && s.Count == 3 && s.Values.All(v => v == "alive"),
                    Convergence, $"{x.Name} to see the 3 others alive", Processes());
            }

            foreach (MeshDaemon from in daemons)
            {
                foreach (MeshDaemon to in daemons.Where(t => t != from))
                {
                    await ProcessRunner.WaitUntilAsync(() => from.Namespace.TryPingAsync(v4[to]), Convergence, $"{from.Name} pings {to.Name} at {v4[to]}", Processes());
                }

                MeshDaemon next = daemons[(daemons.IndexOf(from) + 1) % daemons.Count];
                await ProcessRunner.WaitUntilAsync(() => from.Namespace.TryPingAsync(v6[next]), Convergence, $"{from.Name} pings {next.Name} at {v6[next]}", Processes());
            }

            output.WriteLine(await a.CliOkAsync("peers"));

            // mDNS: the agents also found each other on the LAN (announced as _meshagent._udp.local).
            await ProcessRunner.WaitUntilAsync(() => a.Process.OutputContains("found member 'b' on the LAN at 10.1.0.11:41820"),
                Convergence, "a to find b on the LAN by mDNS", Processes());

            // kill -9 D: the others mark it dead within 10 s and drop its route.
            await d.KillAsync();
            var killed = Stopwatch.StartNew();
            MeshDaemon[] survivors = [a, b, c];
            foreach (MeshDaemon x in survivors)
            {
                await ProcessRunner.WaitUntilAsync(async () => (await x.MemberStatesAsync()).GetValueOrDefault("d") == "dead",
                    TimeSpan.FromSeconds(10) - killed.Elapsed + TimeSpan.FromMilliseconds(500), $"{x.Name} to mark d dead within 10 s of kill -9", survivors.Select(s => s.Process));
                Assert.DoesNotContain(v4[d].ToString(), (await x.Namespace.IpAsync("route", "show", "dev", MeshDaemon.Interface)).StandardOutput, StringComparison.Ordinal);
            }

            output.WriteLine($"d dead everywhere {killed.Elapsed.TotalSeconds:0.0} s after kill -9");

            // D restarts from its state directory: alive again, same address, reachable.
            await d.RestartAsync();
            Assert.Equal(v4[d].ToString(), await d.OverlayIPv4Async());
            foreach (MeshDaemon x in survivors)
            {
                await ProcessRunner.WaitUntilAsync(async () => (await x.MemberStatesAsync()).GetValueOrDefault("d") == "alive",
                    Convergence, $"{x.Name} to see d alive again after its restart", Processes());
                await ProcessRunner.WaitUntilAsync(() => x.Namespace.TryPingAsync(v4[d]), Convergence, $"{x.Name} pings the restarted d", Processes());
            }

            // Revoke C (an admin itself): everyone enforces it; nobody talks to C any more.
            await a.CliOkAsync("revoke", "c");
            foreach (MeshDaemon x in new[] { a, b, d })
            {
                await ProcessRunner.WaitUntilAsync(async () => (await x.MemberStatesAsync()).GetValueOrDefault("c") == "revoked",
                    Convergence, $"{x.Name} to see c revoked", [a.Process, b.Process, d.Process]);
                Assert.False(await x.Namespace.TryPingAsync(v4[c], TimeSpan.FromSeconds(2)), $"{x.Name} still reaches the revoked c");
                Assert.False(await c.Namespace.TryPingAsync(v4[x], TimeSpan.FromSeconds(2)), $"the revoked c still reaches {x.Name}");
            }

            await ProcessRunner.WaitUntilAsync(async () => (await c.StatusAsync()).GetProperty("phase").GetString() == "revoked",
                Convergence, "c to know it was revoked", [c.Process]);
            Assert.True(await b.Namespace.TryPingAsync(v4[d]), "b no longer reaches d after c's revocation");

            // B leaves: the others see it as left (not dead) and drop it; B's interface is gone.
            await b.CliOkAsync("leave");
            foreach (MeshDaemon x in new[] { a, d })
            {
                await ProcessRunner.WaitUntilAsync(async () => (await x.MemberStatesAsync()).GetValueOrDefault("b") == "left",
                    Convergence, $"{x.Name} to see b as left", [a.Process, d.Process]);
            }

            Assert.Equal("left", (await b.StatusAsync()).GetProperty("phase").GetString());
            Assert.DoesNotContain(MeshDaemon.Interface, (await b.Namespace.IpAsync("link", "show")).StandardOutput, StringComparison.Ordinal);
        }
        catch
        {
            foreach (MeshDaemon daemon in daemons)
            {
                output.WriteLine($"--- meshagent {daemon.Name} (pid {daemon.Process.Pid}):\n{daemon.Process.RecentOutput(200)}");
            }

            throw;
        }
        finally
        {
            foreach (MeshDaemon daemon in daemons)
            {
                await daemon.DisposeAsync();
            }
        }
    }
}
