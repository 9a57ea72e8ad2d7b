using MeshAgent.Integration.Tests.Harness;
using MeshAgent.Integration.Tests.Relay;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Mesh;

/// <summary>
/// A relay given by DNS name that does not resolve when the agent starts (a NAS that boots before its DNS works) is
/// resolved again later, and the agent connects to it then, without a restart. Name resolution inside the agent's
/// namespace comes from <c>/etc/netns/NAME/hosts</c>, which <c>ip netns exec</c> mounts over /etc/hosts for that
/// namespace only (created by this test, removed after it): first without the relay's name, then with it.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class MeshRelayDnsTests(ITestOutputHelper output)
{
    private const int RelayPort = 3478;
    private const string RelayName = "relay.meshlab.test";

    [Fact]
    public async Task A_relay_name_that_resolves_only_later_is_used_once_it_does()
    {
        await using Lab lab = await Lab.CreateAsync(output);
        LabHost relayHost = await lab.AddPublicHostAsync("relay");
        LabHost aHost = await lab.AddPublicHostAsync("a");
        bool createdNetnsRoot = !Directory.Exists("/etc/netns");
        string netnsDirectory = Path.Combine("/etc/netns", aHost.Namespace.Name);
        string hosts = Path.Combine(netnsDirectory, "hosts");
        DirectoryInfo relayState = Directory.CreateTempSubdirectory("meshrelay-dns-");
        MeshDaemon? a = null;
        ProcessHandle? relay = null;
        try
        {
            Directory.CreateDirectory(netnsDirectory);
            await File.WriteAllTextAsync(hosts, "127.0.0.1 localhost\n");
            a = await MeshDaemon.StartAsync("a", aHost.Namespace);
            output.WriteLine(await a.CliOkAsync("init", "--network", "dnslab", "--name", "a", "--relay", $"{RelayName}:{RelayPort}"));
            string root = (await a.StatusAsync()).GetProperty("network").GetProperty("rootPublicKey").GetString()!;
            await ProcessRunner.WaitUntilAsync(() => a.Process.OutputContains($"cannot resolve relay {RelayName}:{RelayPort}"), TimeSpan.FromSeconds(30),
                "a to report that the relay's name does not resolve", [a.Process]);

            relay = relayHost.Namespace.StartProcess("meshrelay", MeshRelayExecutable.Command(
                "run", "--listen", $"0.0.0.0:{RelayPort}", "--accept-root", root, "--state-dir", relayState.FullName));
            await ProcessRunner.WaitUntilAsync(() => relay.OutputContains("meshrelay started"), TimeSpan.FromSeconds(30), "meshrelay reports it started", [relay]);

            // DNS starts working: the same file (same inode, so the bind mount sees it) gains the relay's name.
            await File.AppendAllTextAsync(hosts, $"{relayHost.Address} {RelayName}\n");
            await ProcessRunner.WaitUntilAsync(() => a.Process.OutputContains($"relay {RelayName}:{RelayPort} resolved to"), TimeSpan.FromSeconds(30),
                "a to resolve the relay's name again", [a.Process, relay]);
            await ProcessRunner.WaitUntilAsync(() => a.Process.OutputContains($"relay {relayHost.Address}:{RelayPort}: connected"), TimeSpan.FromSeconds(30),
                "a to connect to the relay once its name resolves", [a.Process, relay]);
        }
        finally
        {
            if (a is not null)
            {
                output.WriteLine($"--- a\n{a.Process.RecentOutput(30)}");
                await a.DisposeAsync();
            }

            if (relay is not null)
            {
                await relay.DisposeAsync();
            }

            Directory.Delete(netnsDirectory, recursive: true);
            if (createdNetnsRoot && !Directory.EnumerateFileSystemEntries("/etc/netns").Any())
            {
                Directory.Delete("/etc/netns");
            }
            relayState.Delete(recursive: true);
        }
    }
}
