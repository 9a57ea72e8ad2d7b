using System.Net;
using System.Text.RegularExpressions;
using MeshAgent.Core.Dns;
using MeshAgent.Integration.Tests.Harness;

namespace MeshAgent.Integration.Tests.Discovery;

/// <summary>
/// avahi-daemon running inside one lab namespace, on a private D-Bus system bus, restricted to one
/// interface, plus its client tools (avahi-browse, avahi-publish) talking to it.
/// <para>
/// Isolation from the machine and from other tests: the bus is a dbus-daemon of our own (socket
/// and config in a fresh temp directory) reached through DBUS_SYSTEM_BUS_ADDRESS, which libdbus
/// honours for the system bus, so the host's /run/dbus is never used. avahi-daemon keeps its PID
/// file and socket in /run/avahi-daemon, and /run is shared by every network namespace: it runs in
/// a private mount namespace (unshare -m, private propagation) with a fresh tmpfs over /run, so two
/// instances never meet there, nothing is written to the host's /run, and the directory need not
/// exist on the host. Both processes are started through
/// exec chains (ip netns exec → unshare → sh → exec avahi-daemon) so the tracked PID is the
/// daemon's own, and the namespace's disposal stops them. Dispose removes the temp directory.
/// </para>
/// </summary>
internal sealed partial class AvahiInstance : IAsyncDisposable
{
    private readonly string _directory;

    private AvahiInstance(NetworkNamespace ns, string directory, ProcessHandle bus, ProcessHandle daemon)
    {
        Namespace = ns;
        _directory = directory;
        Bus = bus;
        Daemon = daemon;
    }

    public NetworkNamespace Namespace { get; }

    public ProcessHandle Bus { get; }

    public ProcessHandle Daemon { get; }

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["DBUS_SYSTEM_BUS_ADDRESS"] = $"unix:path={Path.Combine(_directory, "bus.sock")}",
    };

    /// <summary>Starts the bus and the daemon (host name <paramref name="hostName"/>.local, only on <paramref name="device"/>) and waits until the daemon is up.</summary>
    public static async Task<AvahiInstance> StartAsync(NetworkNamespace ns, string device, string hostName)
    {
        AvahiRequirements.Ensure();
        string directory = Directory.CreateTempSubdirectory($"meshagent-avahi-{ns.Name}-").FullName;
        try
        {
            string socket = Path.Combine(directory, "bus.sock");
            await File.WriteAllTextAsync(Path.Combine(directory, "bus.conf"), BusConfig(socket));
            await File.WriteAllTextAsync(Path.Combine(directory, "avahi-daemon.conf"), DaemonConfig(device, hostName));

            ProcessHandle bus = ns.StartProcess("dbus", ["dbus-daemon", $"--config-file={Path.Combine(directory, "bus.conf")}", "--nofork", "--nopidfile"]);
            await ProcessRunner.WaitUntilAsync(() => File.Exists(socket), TimeSpan.FromSeconds(10), $"dbus-daemon creates {socket}", [bus]);

            var environment = new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = $"unix:path={socket}" };
            // A tmpfs over all of /run (in the private mount namespace only): /run/avahi-daemon need not exist on the host.
            string script = "mount -t tmpfs -o mode=0755 tmpfs /run && mkdir /run/avahi-daemon && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f \"$0\"";
            ProcessHandle daemon = ns.StartProcess("avahi-daemon",
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, Path.Combine(directory, "avahi-daemon.conf")], environment);
            await ProcessRunner.WaitUntilAsync(() => daemon.OutputContains("Server startup complete"), TimeSpan.FromSeconds(20),
                "avahi-daemon reports 'Server startup complete'", [bus, daemon]);
            return new AvahiInstance(ns, directory, bus, daemon);
        }
        catch
        {
            TryDelete(directory);
            throw;
        }
    }

    /// <summary><c>avahi-browse -rpt TYPE</c>: resolved services as avahi sees them now.</summary>
    public async Task<IReadOnlyList<AvahiBrowseEntry>> BrowseAsync(string serviceType, bool resolve = true)
    {
        ProcessResult result = await Namespace.ExecAsync(
            ["avahi-browse", resolve ? "-rpt" : "-pt", serviceType],
            new RunOptions { Environment = Environment, Timeout = TimeSpan.FromSeconds(30), Check = false });
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"avahi-browse failed with status {result.ExitCode}: {result.StandardError.Trim()}\nDaemon output:\n{Daemon.RecentOutput(20)}");
        }

        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(AvahiBrowseEntry.Parse).OfType<AvahiBrowseEntry>()];
    }

    /// <summary><c>avahi-resolve -4|-6 -n NAME</c>: the address avahi finds for a host name.</summary>
    public async Task<IPAddress> ResolveHostAsync(string hostName, bool ipv6)
    {
        ProcessResult result = await Namespace.ExecAsync(
            ["avahi-resolve", ipv6 ? "-6" : "-4", "-n", hostName],
            new RunOptions { Environment = Environment, Timeout = TimeSpan.FromSeconds(30), Check = false });
        string[] fields = result.StandardOutput.Split(['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        if (!result.Succeeded || fields.Length < 2 || !IPAddress.TryParse(fields[1], out IPAddress? address))
        {
            throw new InvalidOperationException($"avahi-resolve of {hostName} failed (status {result.ExitCode}): {result.StandardOutput.Trim()} {result.StandardError.Trim()}");
        }

        return address;
    }

    /// <summary>Starts <c>avahi-publish -s NAME TYPE PORT TXT…</c>; stopping it (SIGTERM) withdraws the service with goodbyes.</summary>
    public ProcessHandle Publish(string instance, string serviceType, int port, params string[] txt) =>
        Namespace.StartProcess("avahi-publish",
            ["avahi-publish", "-s", instance, serviceType, port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. txt], Environment);

    public async ValueTask DisposeAsync()
    {
        await Daemon.StopAsync();
        await Bus.StopAsync();
        TryDelete(_directory);
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    // A system-type bus that lets root own any name (org.freedesktop.Avahi) and call anything.
    private static string BusConfig(string socket) => $"""
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>system</type>
          <listen>unix:path={socket}</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow user="*"/>
            <allow own="*"/>
            <allow send_type="method_call"/>
            <allow send_destination="*"/>
            <allow receive_sender="*"/>
          </policy>
        </busconfig>
        """;

    // Only the lab link; no HINFO/workstation records; no rate limit that could slow a test down.
    private static string DaemonConfig(string device, string hostName) => $"""
        [server]
        host-name={hostName}
        domain-name=local
        use-ipv4=yes
        use-ipv6=yes
        allow-interfaces={device}
        enable-dbus=yes
        ratelimit-interval-usec=1000000
        ratelimit-burst=1000
        [wide-area]
        enable-wide-area=no
        [publish]
        publish-hinfo=no
        publish-workstation=no
        [reflector]
        [rlimits]
        """;
}

/// <summary>One line of <c>avahi-browse -p</c> output: "+;iface;proto;name;type;domain" or, resolved, "=;…;host;address;port;txt".</summary>
internal sealed partial record AvahiBrowseEntry(
    char Event, string Interface, string Protocol, string Instance, string Type, string Domain,
    string? Host, string? Address, int? Port, IReadOnlyList<string> Txt)
{
    public static AvahiBrowseEntry? Parse(string line)
    {
        string[] f = line.Split(';');
        if (f.Length < 6 || f[0].Length != 1)
        {
            return null;
        }

        // avahi escapes labels as DNS presentation text (space = \032): decode through DnsName.
        string instance = DnsName.TryParse(f[3], out DnsName? name, out _) && name.LabelCount == 1 ? name.GetLabel(0) : f[3];
        if (f[0] != "=" || f.Length < 10)
        {
            return new AvahiBrowseEntry(f[0][0], f[1], f[2], instance, f[4], f[5], null, null, null, []);
        }

        string txt = string.Join(';', f[9..]);
        return new AvahiBrowseEntry('=', f[1], f[2], instance, f[4], f[5], f[6], f[7],
            int.Parse(f[8], System.Globalization.CultureInfo.InvariantCulture),
            [.. TxtString().Matches(txt).Select(m => m.Groups[1].Value)]);
    }

    [GeneratedRegex("\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex TxtString();
}
