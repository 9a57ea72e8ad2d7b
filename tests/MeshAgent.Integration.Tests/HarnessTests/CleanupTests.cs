using System.Diagnostics;
using MeshAgent.Integration.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.HarnessTests;

[Collection(NetnsCollection.Name)]
public sealed class CleanupTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Disposing_a_lab_deletes_its_namespaces_and_stops_its_processes_even_when_the_test_body_throws()
    {
        var names = new List<string>();
        var processes = new List<(ProcessHandle Handle, string StartTime)>();
        ProcessHandle? sleeper = null, stubborn = null;
        WireGuardGoPeer? wireGuard = null;
        var disposeTime = Stopwatch.StartNew();

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var lab = await Lab.CreateAsync(output);
            var a = await lab.AddNamespaceAsync("a");
            var b = await lab.AddNamespaceAsync("b");
            await lab.ConnectAsync(a, b);
            sleeper = a.StartProcess("sleeper", ["sleep", "600"]);
            // Ignores SIGTERM (the ignore survives exec), so cleanup must escalate to SIGKILL.
            stubborn = b.StartProcess("stubborn", ["sh", "-c", "trap '' TERM; exec sleep 601"]);
            // Deliberately not disposed here: the namespace must stop it.
            wireGuard = await WireGuardGoPeer.StartAsync(a);
            await ProcessRunner.WaitUntilAsync(
                async () => (await a.ListPidsAsync()).Contains(sleeper.Pid)
                    && (await b.ListPidsAsync()).Contains(stubborn.Pid)
                    && CommandLineOf(stubborn.Pid) == "sleep 601",
                TimeSpan.FromSeconds(10),
                "the started PIDs are the processes inside the namespaces, and the stubborn one has exec'd sleep",
                [sleeper, stubborn]);
            names.AddRange(lab.Namespaces.Select(n => n.Name));
            foreach (var p in new[] { sleeper, stubborn, wireGuard.Process })
            {
                processes.Add((p, StartTimeOf(p.Pid) ?? throw new InvalidOperationException($"{p} not running")));
            }
            disposeTime.Restart();
            throw new InvalidOperationException("deliberate failure inside the lab");
        });
        disposeTime.Stop();

        try
        {
            Assert.Equal("deliberate failure inside the lab", thrown.Message);
            Assert.Equal(2, names.Count);
            var listed = (await ProcessRunner.RunAsync("ip", "netns", "list")).StandardOutput
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[0]).ToHashSet();
            Assert.All(names, name => Assert.DoesNotContain(name, listed));
            Assert.All(processes, p =>
            {
                Assert.True(p.Handle.HasExited, $"{p.Handle} still running");
                // Gone, or the PID was reused by an unrelated process started later.
                Assert.NotEqual(p.StartTime, StartTimeOf(p.Handle.Pid));
            });
            Assert.Equal(128 + 15, sleeper!.ExitCode);
            Assert.Equal(128 + 9, stubborn!.ExitCode);
            Assert.True(disposeTime.Elapsed >= TimeSpan.FromSeconds(1.9), $"SIGKILL came after {disposeTime.Elapsed}, before the 2 s grace");
            Assert.False(File.Exists($"/var/run/wireguard/{wireGuard!.InterfaceName}.sock"));
        }
        finally
        {
            // Removes the key directory; the device and process are already gone.
            if (wireGuard is not null)
            {
                await wireGuard.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Disposing_a_standalone_namespace_synchronously_deletes_it_and_stops_its_process()
    {
        string name;
        ProcessHandle process;
        using (var ns = await NetworkNamespace.CreateAsync("solo", new HarnessLog(output)))
        {
            name = ns.Name;
            process = ns.StartProcess("sleeper", ["sleep", "600"]);
            Assert.Matches("^ma-[a-z][a-z0-9]{4}-solo$", name);
            Assert.True(Directory.Exists($"/proc/{process.Pid}"));
        }

        Assert.True(process.HasExited);
        Assert.False(File.Exists($"/run/netns/{name}"));
        var listed = await ProcessRunner.RunAsync("ip", "netns", "list");
        Assert.DoesNotContain(name + " ", listed.StandardOutput + " ");
    }

    private static string? CommandLineOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    // Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; with the PID it
    // identifies a process even if the PID is reused.
    private static string? StartTimeOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var afterName = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return afterName[0] == "Z" ? null : afterName[19];
        }
        catch (IOException)
        {
            return null;
        }
    }
}
