using MeshAgent.Integration.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.HarnessTests;

[Collection(NetnsCollection.Name)]
public sealed class VethTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_namespaces_linked_by_a_veth_pair_ping_each_other_over_IPv4_and_IPv6()
    {
        await using var lab = await Lab.CreateAsync(output);
        var a = await lab.AddNamespaceAsync("a");
        var b = await lab.AddNamespaceAsync("b");

        var link = await lab.ConnectAsync(a, b);

        // No retries: the harness promises the link is usable once ConnectAsync returns.
        await a.PingAsync(link.B.Ipv4);
        await a.PingAsync(link.B.Ipv6);
        await b.PingAsync(link.A.Ipv4);
        await b.PingAsync(link.A.Ipv6);
        // Each end's peer lives in the other lab namespace, never in the root namespace.
        var endA = await a.IpAsync("-o", "link", "show", "dev", link.A.Device);
        var endB = await b.IpAsync("-o", "link", "show", "dev", link.B.Device);
        Assert.Contains($"link-netns {b.Name}", endA.StandardOutput);
        Assert.Contains($"link-netns {a.Name}", endB.StandardOutput);
    }
}
