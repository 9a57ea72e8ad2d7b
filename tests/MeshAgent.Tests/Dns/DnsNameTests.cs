using System.Text;
using MeshAgent.Core.Dns;

namespace MeshAgent.Tests.Dns;

/// <summary>DnsName: presentation escapes (RFC 1035 §5.1, RFC 6763 §4.3), length limits (RFC 1035 §2.3.4), ASCII-only case folding (RFC 6762 §16).</summary>
public sealed class DnsNameTests
{
    [Fact]
    public void DotsAndBackslashesInsideAnInstanceLabelAreEscaped()
    {
        // RFC 6763 §4.3: an instance name is any UTF-8 text; only presentation needs escapes.
        DnsName name = DnsName.Parse("_meshagent._udp.local").Prepend(@"Dr. Smith\Home (2)");
        Assert.Equal(4, name.LabelCount);
        Assert.Equal(@"Dr. Smith\Home (2)", name.GetLabel(0));
        Assert.Equal(@"Dr\. Smith\\Home (2)._meshagent._udp.local", name.ToString());
        Assert.Equal(name, DnsName.Parse(name.ToString()));
        Assert.Equal(name.WireForm.ToArray(), DnsName.Parse(name.ToString()).WireForm.ToArray());
    }

    [Fact]
    public void DecimalEscapesCoverControlCharactersAndInvalidUtf8()
    {
        DnsName name = DnsName.Parse(@"a\009b\255c.local");
        Assert.Equal([(byte)'a', 9, (byte)'b', 255, (byte)'c'], name.GetLabelBytes(0).ToArray());
        Assert.Equal(@"a\009b\255c.local", name.ToString());
        Assert.Equal("a\tb\uFFFDc", name.GetLabel(0));
    }

    [Fact]
    public void NonAsciiTextStaysReadable()
    {
        DnsName name = DnsName.FromLabels("Büro-Drucker 日本", "local");
        Assert.Equal("Büro-Drucker 日本.local", name.ToString());
        Assert.Equal(Encoding.UTF8.GetByteCount("Büro-Drucker 日本"), name.GetLabelBytes(0).Length);
    }

    [Fact]
    public void EqualityFoldsAsciiCaseOnly()
    {
        Assert.Equal(DnsName.Parse("Host.LOCAL"), DnsName.Parse("host.local"));
        Assert.Equal(DnsName.Parse("Host.LOCAL").GetHashCode(), DnsName.Parse("host.local").GetHashCode());
        Assert.NotEqual(DnsName.Parse("É.local"), DnsName.Parse("é.local"));
        Assert.NotEqual(DnsName.Parse("a.local"), DnsName.Parse("a.local.x"));
    }

    [Fact]
    public void LabelLimitIs63Bytes()
    {
        Assert.Equal(63, DnsName.FromLabels(new string('a', 63)).GetLabelBytes(0).Length);
        Assert.False(DnsName.TryFromLabels([new string('a', 64)], out _, out string? error));
        Assert.Contains("64 bytes", error, StringComparison.Ordinal);
        // Bytes, not characters: 32 × "é" is 64 bytes of UTF-8.
        Assert.False(DnsName.TryFromLabels([new string('é', 32)], out _, out _));
        Assert.False(DnsName.TryParse(new string('a', 64) + ".local", out _, out _));
        Assert.False(DnsName.TryFromLabels([""], out _, out _));
        Assert.False(DnsName.TryParse("a..local", out _, out _));
        Assert.False(DnsName.TryParse(".local", out _, out _));
    }

    [Fact]
    public void NameLimitIs255BytesInWireForm()
    {
        // 3 × (1 + 63) + (1 + 61) + 1 = 255.
        string[] labels = [new string('a', 63), new string('b', 63), new string('c', 63), new string('d', 61)];
        Assert.Equal(255, DnsName.FromLabels(labels).WireLength);
        labels[3] += "d";
        Assert.False(DnsName.TryFromLabels(labels, out _, out string? error));
        Assert.Contains("256 bytes", error, StringComparison.Ordinal);
        Assert.False(DnsName.TryParse(string.Join('.', labels), out _, out _));
        Assert.False(DnsName.FromLabels(labels[..3]).Prepend(new string('x', 60)).WireLength > 255);
        Assert.False(DnsName.FromLabels(labels[..3]).TryPrepend(new string('x', 62), out _, out _));
    }

    [Fact]
    public void RootAndTrailingDots()
    {
        Assert.True(DnsName.Parse(".").IsRoot);
        Assert.True(DnsName.Parse("").IsRoot);
        Assert.Equal(".", DnsName.Root.ToString());
        Assert.Equal(DnsName.Parse("a.local"), DnsName.Parse("a.local."));
        Assert.Equal([1, (byte)'a', 0], DnsName.Parse("a.").WireForm.ToArray());
    }

    [Fact]
    public void SubdomainMatchesWholeLabelsOnly()
    {
        DnsName local = DnsName.Parse("local");
        Assert.True(DnsName.Parse("a.b.LOCAL").IsSubdomainOf(local));
        Assert.True(local.IsSubdomainOf(local));
        Assert.True(local.IsSubdomainOf(DnsName.Root));
        Assert.False(DnsName.Parse("xlocal").IsSubdomainOf(local));
        // "local" appears as the tail of the label "\005local" only inside a label.
        Assert.False(DnsName.Parse(@"a\005local").IsSubdomainOf(local));
        Assert.Equal(DnsName.Parse("b.local"), DnsName.Parse("a.b.local").Parent);
    }

    [Fact]
    public void ParseRejectsBrokenEscapes()
    {
        Assert.False(DnsName.TryParse(@"a\", out _, out _));
        Assert.False(DnsName.TryParse(@"a\25", out _, out _));
        Assert.False(DnsName.TryParse(@"a\256", out _, out _));
        Assert.False(DnsName.TryParse("a\uD800b", out _, out _));
        Assert.Throws<FormatException>(() => DnsName.Parse("a..b"));
    }
}
