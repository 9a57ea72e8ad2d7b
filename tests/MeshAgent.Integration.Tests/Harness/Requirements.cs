namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// What the network-namespace tests need from the machine. A missing piece makes every netns
/// test FAIL (never skip) with one message that names the Debian package to install, so a
/// misconfigured CI machine cannot look green.
/// </summary>
public static class Requirements
{
    /// <summary>Commands the harness runs, with the Debian 12 package that ships each.</summary>
    public static IReadOnlyList<(string Command, string Package)> Commands { get; } =
    [
        ("ip", "iproute2"),
        ("nft", "nftables"),
        ("wireguard-go", "wireguard-go"),
        ("wg", "wireguard-tools"),
        ("ping", "iputils-ping"),
    ];

    private static readonly Lazy<IReadOnlyList<string>> Problems = new(() => FindProblems(
        isRoot: Libc.geteuid() == 0,
        tunExists: File.Exists("/dev/net/tun"),
        commandExists: c => FindInPath(c) is not null));

    /// <summary>
    /// Throws <see cref="RequirementsNotMetException"/> listing everything that is missing.
    /// Checked once per test run; every harness entry point calls it.
    /// </summary>
    public static void EnsureNetnsTestsCanRun()
    {
        if (Problems.Value.Count > 0)
        {
            throw new RequirementsNotMetException(FormatMessage(Problems.Value));
        }
    }

    /// <summary>The problems found for the given machine facts (pure, for testing the message).</summary>
    internal static IReadOnlyList<string> FindProblems(bool isRoot, bool tunExists, Func<string, bool> commandExists)
    {
        var problems = new List<string>();
        if (!isRoot)
        {
            problems.Add("not running as root: creating network namespaces, veth pairs, TUN devices and nftables rules "
                + "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)");
        }
        if (!tunExists)
        {
            problems.Add("/dev/net/tun does not exist: the kernel's tun module is missing or the device is not exposed "
                + "(in a container, pass --device /dev/net/tun)");
        }
        foreach (var (command, package) in Commands)
        {
            if (!commandExists(command))
            {
                problems.Add($"command '{command}' not found in PATH (nor /usr/sbin, /sbin): install the Debian package {package}");
            }
        }
        return problems;
    }

    internal static string FormatMessage(IReadOnlyList<string> problems)
        => "The network-namespace integration tests cannot run on this machine:\n"
            + string.Concat(problems.Select(p => $"  - {p}\n"))
            + $"Install: apt-get install -y {string.Join(' ', Commands.Select(c => c.Package).Distinct())}\n"
            + "Then run the tests as root. .ci/run installs these packages and runs the whole suite (tests/run.sh).";

    /// <summary>Absolute path of <paramref name="command"/> in PATH, /usr/sbin or /sbin; null if absent.</summary>
    public static string? FindInPath(string command)
    {
        // Non-root PATHs on Debian lack the sbin directories where ip and nft live.
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
        foreach (var directory in directories)
        {
            var candidate = Path.Combine(directory, command);
            if (File.Exists(candidate)
                && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }
        return null;
    }
}

/// <summary>The machine lacks something the netns tests need; the message says what to install.</summary>
public sealed class RequirementsNotMetException(string message) : Exception(message);
