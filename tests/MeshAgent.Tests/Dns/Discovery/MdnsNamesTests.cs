using System.Text;
using MeshAgent.Core.Dns;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Discovery;

namespace MeshAgent.Tests.Dns.Discovery;

public sealed class MdnsNamesTests
{
    [Fact]
    public void RenamedInstancesKeepWithin63Bytes()
    {
        Assert.Equal("node", MdnsNames.InstanceLabel("node", 1));
        Assert.Equal("node (2)", MdnsNames.InstanceLabel("node", 2));
        Assert.Equal("node (12)", MdnsNames.InstanceLabel("node", 12));
        // 30 × "é" = 60 bytes; with " (2)" (4 bytes) one "é" must go, never half of one.
        string label = MdnsNames.InstanceLabel(new string('é', 30), 2);
        Assert.Equal(new string('é', 29) + " (2)", label);
        Assert.True(Encoding.UTF8.GetByteCount(label) <= DnsName.MaxLabelLength);
        Assert.Equal("host-3", MdnsNames.HostLabel("host", 3));
        Assert.Equal(63, MdnsNames.HostLabel(new string('h', 63), 2).Length);
    }

    [Fact]
    public void MachineNamesBecomeHostLabels()
    {
        Assert.Equal("my-nas", MdnsNames.HostLabelFromMachineName("My_NAS.example.org"));
        Assert.Equal("meshagent", MdnsNames.HostLabelFromMachineName("___"));
        Assert.Equal("b", MdnsNames.HostLabelFromMachineName("-b-"));
        Assert.True(NodeName.IsValid(MdnsNames.HostLabelFromMachineName(Environment.MachineName)));
    }

    [Fact]
    public void NetworkTagIsTheFirst16HexCharactersOfBlake2s()
    {
        // Expected values from Python's hashlib.blake2s (an independent BLAKE2s): blake2s(key).hexdigest()[:16].
        Assert.Equal("320b5ea99e653bc2", MdnsNetworkTag.Compute(new NetworkRootPublicKey(new byte[32])));
        Assert.Equal("05825607d7fdf2d8", MdnsNetworkTag.Compute(new NetworkRootPublicKey([.. Enumerable.Range(0, 32).Select(i => (byte)i)])));
        Assert.True(MdnsNetworkTag.IsWellFormed("05825607d7fdf2d8"));
        Assert.False(MdnsNetworkTag.IsWellFormed("05825607D7FDF2D8"));
        Assert.False(MdnsNetworkTag.IsWellFormed("05825607d7fdf2d"));
    }

    [Fact]
    public void InterfaceOnLinkCheck()
    {
        var iface = new MdnsInterface(2, "eth0", [new(System.Net.IPAddress.Parse("10.1.0.10"), 24), new(System.Net.IPAddress.Parse("2001:db8::10"), 64)]);
        Assert.True(iface.IsOnLink(System.Net.IPAddress.Parse("10.1.0.200")));
        Assert.False(iface.IsOnLink(System.Net.IPAddress.Parse("10.1.1.1")));
        Assert.True(iface.IsOnLink(System.Net.IPAddress.Parse("169.254.3.4")));
        Assert.True(iface.IsOnLink(System.Net.IPAddress.Parse("fe80::1")));
        Assert.True(iface.IsOnLink(System.Net.IPAddress.Parse("2001:db8::ffff")));
        Assert.False(iface.IsOnLink(System.Net.IPAddress.Parse("2001:db8:1::1")));
        Assert.True(new MdnsInterfaceAddress(System.Net.IPAddress.Parse("10.1.0.10"), 23).Contains(System.Net.IPAddress.Parse("10.1.1.1")));
    }
}
