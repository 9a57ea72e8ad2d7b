using MeshAgent.Integration.Tests.Harness;

namespace MeshAgent.Integration.Tests.Discovery;

/// <summary>
/// What the avahi interop tests need beyond <see cref="Requirements"/>: avahi's daemon and tools
/// and a D-Bus daemon for a private system bus. Missing pieces FAIL the tests (never skip) with
/// the Debian package names, as the harness does.
/// </summary>
public static class AvahiRequirements
{
    /// <summary>Commands, with the Debian 12 package that ships each.</summary>
    public static IReadOnlyList<(string Command, string Package)> Commands { get; } =
    [
        ("avahi-daemon", "avahi-daemon"),
        ("avahi-browse", "avahi-utils"),
        ("avahi-publish", "avahi-utils"),
        ("avahi-resolve", "avahi-utils"),
        ("dbus-daemon", "dbus-daemon"),
        ("unshare", "util-linux"),
        ("mount", "mount"),
    ];

    private static readonly Lazy<IReadOnlyList<(string Command, string Package)>> Missing =
        new(() => [.. Commands.Where(c => Requirements.FindInPath(c.Command) is null)]);

    public static void Ensure()
    {
        Requirements.EnsureNetnsTestsCanRun();
        if (Missing.Value.Count > 0)
        {
            throw new RequirementsNotMetException(
                "The avahi interop tests cannot run on this machine: "
                + string.Join(", ", Missing.Value.Select(m => $"command '{m.Command}' not found (Debian package {m.Package})"))
                + $"\nInstall: apt-get install -y {string.Join(' ', Commands.Select(c => c.Package).Distinct())}"
                + " (the dbus package pulls in dbus-daemon). .ci/run installs them.");
        }
    }
}
