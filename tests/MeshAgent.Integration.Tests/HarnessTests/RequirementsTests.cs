using MeshAgent.Integration.Tests.Harness;
using Xunit;

namespace MeshAgent.Integration.Tests.HarnessTests;

public sealed class RequirementsTests
{
    /// <summary>Fails (never skips) on a machine that cannot run the netns tests, saying what to install.</summary>
    [Fact]
    public void This_machine_can_run_the_netns_tests() => Requirements.EnsureNetnsTestsCanRun();

    [Fact]
    public void Missing_root_and_commands_are_reported_with_the_Debian_package_and_the_ci_entry_point()
    {
        var problems = Requirements.FindProblems(isRoot: false, tunExists: true, commandExists: c => c is not ("nft" or "wg"));

        var message = Requirements.FormatMessage(problems);

        Assert.Equal(3, problems.Count);
        Assert.Contains("not running as root", message);
        Assert.Contains("'nft' not found in PATH (nor /usr/sbin, /sbin): install the Debian package nftables", message);
        Assert.Contains("'wg' not found in PATH (nor /usr/sbin, /sbin): install the Debian package wireguard-tools", message);
        Assert.Contains("apt-get install -y iproute2 nftables wireguard-go wireguard-tools iputils-ping", message);
        Assert.Contains(".ci/run", message);
    }

    [Fact]
    public void A_machine_with_everything_has_no_problems()
        => Assert.Empty(Requirements.FindProblems(isRoot: true, tunExists: true, commandExists: _ => true));

    [Fact]
    public void A_missing_tun_device_is_reported()
        => Assert.Contains("/dev/net/tun", Assert.Single(Requirements.FindProblems(isRoot: true, tunExists: false, commandExists: _ => true)));
}
