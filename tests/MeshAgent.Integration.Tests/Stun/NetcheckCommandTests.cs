using MeshAgent.Integration.Tests.Harness;
using MeshAgent.Integration.Tests.StaticMode;
using Xunit;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Stun;

/// <summary>
/// <c>meshagent netcheck</c> as a user runs it, from a host behind each kind of lab NAT, against two
/// real coturn servers: it must print the site's public address and name the mapping behaviour.
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class NetcheckCommandTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(NatType.Cone, "mapping: endpoint-independent", 0)]
    [InlineData(NatType.Symmetric, "mapping: endpoint-dependent", 0)]
    [InlineData(NatType.UdpBlocked, "mapping: no UDP", 1)]
    public async Task Netcheck_names_the_nat_mapping_and_public_address(NatType type, string expected, int exitCode)
    {
        await using var lab = await Lab.CreateAsync(output);
        NatSite site = await lab.AddNatSiteAsync("a", type);
        LabHost stunA = await lab.AddPublicHostAsync("stun1");
        LabHost stunB = await lab.AddPublicHostAsync("stun2");
        await using CoturnServer coturnA = await CoturnServer.StartAsync(stunA.Namespace, stunA.Address);
        await using CoturnServer coturnB = await CoturnServer.StartAsync(stunB.Namespace, stunB.Address);

        ProcessResult run = await site.Hosts[0].Namespace.ExecAsync(
            [.. MeshAgentExecutable.Command("netcheck", "--stun", $"{stunA.Address}:3478", "--stun", $"{stunB.Address}:3478", "--timeout", "2")],
            new RunOptions { Check = false, Timeout = TimeSpan.FromSeconds(60) });
        string text = $"exit {run.ExitCode}\n{run.StandardOutput}{run.StandardError}";
        output.WriteLine(text);

        Assert.Equal(exitCode, run.ExitCode);
        Assert.Contains(expected, run.StandardOutput, StringComparison.Ordinal);
        if (type != NatType.UdpBlocked)
        {
            Assert.Contains($"public endpoint {site.PublicAddress}:", run.StandardOutput, StringComparison.Ordinal);
        }
    }
}
