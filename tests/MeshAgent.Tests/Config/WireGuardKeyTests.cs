using MeshAgent.Core.Config;
using Xunit;

namespace MeshAgent.Tests.Config;

public class WireGuardKeyTests
{
    // From the wg(8) manual example; the bytes are what any base64 decoder gives.
    private const string ManualPrivateKey = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
    private const string ManualPublicKey = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

    [Fact]
    public void PrivateAndPresharedKeysPrintHidden()
    {
        Assert.True(WireGuardPrivateKey.TryParse(ManualPrivateKey, out WireGuardPrivateKey privateKey));
        Assert.True(PresharedKey.TryParse(ManualPrivateKey, out PresharedKey psk));

        Assert.Equal("(hidden)", privateKey.ToString());
        Assert.Equal("(hidden)", psk.ToString());
        Assert.Equal("(hidden)", $"{privateKey}");
        Assert.Equal(ManualPrivateKey, privateKey.RevealBase64());
        Assert.Equal(ManualPrivateKey, psk.RevealBase64());
        Assert.Equal(Convert.FromBase64String(ManualPrivateKey), privateKey.AsSpan().ToArray());
    }

    [Fact]
    public void PublicKeyPrintsBase64AndComparesByValue()
    {
        WireGuardPublicKey a = WireGuardPublicKey.Parse(ManualPublicKey);
        var b = new WireGuardPublicKey(Convert.FromBase64String(ManualPublicKey));
        WireGuardPublicKey other = WireGuardPublicKey.Parse(ManualPrivateKey);

        Assert.Equal(ManualPublicKey, a.ToString());
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, other);
        Assert.True(a != other);
        Assert.False(a.IsZero);
        Assert.True(default(WireGuardPublicKey).IsZero);
        Assert.Equal(b, new HashSet<WireGuardPublicKey> { a }.Single());
    }

    [Fact]
    public void FixedTimeEqualsComparesSecretKeys()
    {
        WireGuardPrivateKey.TryParse(ManualPrivateKey, out WireGuardPrivateKey a);
        WireGuardPrivateKey.TryParse(ManualPrivateKey, out WireGuardPrivateKey b);
        WireGuardPrivateKey.TryParse(ManualPublicKey, out WireGuardPrivateKey c);
        Assert.True(a.FixedTimeEquals(b));
        Assert.False(a.FixedTimeEquals(c));
    }

    [Theory]
    [InlineData("")]
    [InlineData("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk")] // 43: padding missing
    [InlineData("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk==")] // 45
    [InlineData("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBm==")] // 44 but 31 bytes
    [InlineData("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBml=")] // unused low bits set: not canonical
    [InlineData("yAnz5TF-lXXJte14tji3zlMNq_hd2rYUIgJBgB3fBmk=")] // URL-safe alphabet
    [InlineData("yAnz5TF+lXXJte14tji3zlMN q+hd2rYUIgJBgB3fBmk=")] // whitespace inside
    public void RejectsNonCanonicalOrWrongLengthText(string text)
    {
        Assert.False(WireGuardPublicKey.TryParse(text, out WireGuardPublicKey key));
        Assert.True(key.IsZero);
        Assert.False(WireGuardPrivateKey.TryParse(text, out _));
        Assert.False(PresharedKey.TryParse(text, out _));
        FormatException e = Assert.Throws<FormatException>(() => WireGuardPublicKey.Parse(text));
        Assert.Contains("is not 44 characters of base64 (32 bytes)", e.Message);
    }

    [Fact]
    public void EveryRandomKeyRoundTripsThroughBase64()
    {
        var random = new Random(7);
        var bytes = new byte[32];
        for (int i = 0; i < 1000; i++)
        {
            random.NextBytes(bytes);
            string text = Convert.ToBase64String(bytes);
            Assert.True(WireGuardPublicKey.TryParse(text, out WireGuardPublicKey key));
            Assert.Equal(bytes, key.AsSpan().ToArray());
            Assert.Equal(text, key.ToBase64());
        }
    }

    [Fact]
    public void ConstructorsRejectWrongLengths()
    {
        Assert.Throws<ArgumentException>(() => new WireGuardPublicKey(new byte[31]));
        Assert.Throws<ArgumentException>(() => new WireGuardPrivateKey(new byte[33]));
        Assert.Throws<ArgumentException>(() => new PresharedKey([]));
    }
}
