using System.Net;
using MeshAgent.Core.Net;
using Xunit;

namespace MeshAgent.Tests.Net;

public class IpPrefixTests
{
    [Theory]
    [InlineData("10.0.0.1", "10.0.0.1")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    [InlineData("fd00::1", "fd00::1")]
    [InlineData("::", "::")]
    [InlineData("::ffff:1.2.3.4", "::ffff:1.2.3.4")]
    [InlineData("2001:DB8::A", "2001:db8::a")]
    public void AcceptsWhatInetPtonAccepts(string text, string expected)
    {
        Assert.True(IpPrefix.TryParseAddress(text, out IPAddress? address));
        Assert.Equal(IPAddress.Parse(expected), address);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.1")] // IPAddress.TryParse would give 10.0.0.1
    [InlineData("10")]
    [InlineData("010.0.0.1")] // leading zero (octal in inet_aton)
    [InlineData("10.0.0.256")]
    [InlineData("10.0.0.1.")]
    [InlineData(".10.0.0.1")]
    [InlineData("10..0.1")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1000.0.0.1")]
    [InlineData("0x0a.0.0.1")]
    [InlineData(" 10.0.0.1")]
    [InlineData("[::1]")]
    [InlineData("fe80::1%eth0")]
    [InlineData("fe80::1%1")]
    [InlineData(":::")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("::g")]
    public void RejectsWhatInetPtonRejects(string text)
    {
        Assert.False(IpPrefix.TryParseAddress(text, out IPAddress? address));
        Assert.Null(address);
    }

    [Theory]
    [InlineData("10.0.0.1/24", "10.0.0.1", 24)]
    [InlineData("10.0.0.1", "10.0.0.1", 32)]
    [InlineData("fd00::1", "fd00::1", 128)]
    [InlineData("fd00::1/0", "fd00::1", 0)]
    [InlineData("0.0.0.0/0", "0.0.0.0", 0)]
    public void ParsesPrefixesKeepingHostBits(string text, string address, int length)
    {
        Assert.True(IpPrefix.TryParse(text, out IPAddress? parsed, out int prefixLength));
        Assert.Equal(IPAddress.Parse(address), parsed);
        Assert.Equal(length, prefixLength);
    }

    [Theory]
    [InlineData("10.0.0.1/33")]
    [InlineData("fd00::/129")]
    [InlineData("10.0.0.1/")]
    [InlineData("10.0.0.1/-1")]
    [InlineData("10.0.0.1/+8")]
    [InlineData("10.0.0.1/0008")]
    [InlineData("10.0.0.1/8/8")]
    [InlineData("/8")]
    public void RejectsBadPrefixLengths(string text)
    {
        Assert.False(IpPrefix.TryParse(text, out IPAddress? address, out _));
        Assert.Null(address);
    }

    [Theory]
    [InlineData("10.0.0.0", 8, "10.0.0.0/8", false)]
    [InlineData("10.0.0.1", 24, "10.0.0.0/24", true)]
    [InlineData("10.255.255.255", 9, "10.128.0.0/9", true)]
    [InlineData("10.0.0.1", 32, "10.0.0.1/32", false)]
    [InlineData("10.0.0.1", 0, "0.0.0.0/0", true)]
    [InlineData("fd00:1:2:3:4:5:6:7", 64, "fd00:1:2:3::/64", true)]
    [InlineData("fd00:1:2:3:4:5:6:7", 65, "fd00:1:2:3::/65", true)]
    [InlineData("fd00:1:2:3:ffff::", 65, "fd00:1:2:3:8000::/65", true)]
    [InlineData("fd00::1", 128, "fd00::1/128", false)]
    public void CreateMasksHostBits(string address, int length, string expected, bool hadHostBits)
    {
        IPNetwork prefix = IpPrefix.Create(IPAddress.Parse(address), length);
        Assert.Equal(IPNetwork.Parse(expected), prefix);
        Assert.Equal(hadHostBits, IpPrefix.HasHostBits(IPAddress.Parse(address), length));
    }

    [Fact]
    public void CreateDropsTheScopeIdAndRejectsBadLengths()
    {
        var scoped = new IPAddress(IPAddress.Parse("fe80::1").GetAddressBytes(), scopeid: 3);
        Assert.Equal(0, IpPrefix.Create(scoped, 64).BaseAddress.ScopeId);
        Assert.Throws<ArgumentOutOfRangeException>(() => IpPrefix.Create(IPAddress.Loopback, 33));
        Assert.Throws<ArgumentOutOfRangeException>(() => IpPrefix.Create(IPAddress.IPv6Loopback, -1));
    }

    [Fact]
    public void RandomPrefixesContainTheirAddressAndHaveNoHostBits()
    {
        var random = new Random(42);
        for (int i = 0; i < 5000; i++)
        {
            var bytes = new byte[random.Next(2) == 0 ? 4 : 16];
            random.NextBytes(bytes);
            var address = new IPAddress(bytes);
            int length = random.Next(0, (bytes.Length * 8) + 1);
            IPNetwork prefix = IpPrefix.Create(address, length);
            Assert.True(prefix.Contains(address));
            Assert.False(IpPrefix.HasHostBits(prefix.BaseAddress, length));
            Assert.Equal(length, prefix.PrefixLength);
        }
    }
}
