using System.Net;
using MeshAgent.Engine.Control;

namespace MeshAgent.Tests.Mesh;

/// <summary>How `meshagent ping PEER` names a member: by name or overlay address, and how the daemon finds it.</summary>
public sealed class PeerQueryTests
{
    private sealed record Member(string Name, IPAddress V4, IPAddress V6);

    private static readonly Member[] Members =
    [
        new("nas", IPAddress.Parse("100.96.0.3"), IPAddress.Parse("fd7a:115c:a1e0::3")),
        new("laptop", IPAddress.Parse("100.96.0.2"), IPAddress.Parse("fd7a:115c:a1e0::2")),
        new("42", IPAddress.Parse("100.96.0.42"), IPAddress.Parse("fd7a:115c:a1e0::42")),
        new("Build-01", IPAddress.Parse("100.96.0.7"), IPAddress.Parse("fd7a:115c:a1e0::7")),
    ];

    private static string? Find(string text)
    {
        Assert.True(PeerQuery.TryParse(text, out PeerQuery query, out string? error), error);
        return query.Find(Members, m => m.Name, m => m.V4, m => m.V6)?.Name;
    }

    [Theory]
    [InlineData("nas", "nas")]
    [InlineData(" nas ", "nas")]
    [InlineData("NAS", "nas")] // names are DNS labels: case does not matter when only one fits
    [InlineData("build-01", "Build-01")]
    [InlineData("100.96.0.2", "laptop")]
    [InlineData("fd7a:115c:a1e0::3", "nas")]
    [InlineData("[fd7a:115c:a1e0::3]", "nas")]
    [InlineData("FD7A:115C:A1E0:0:0:0:0:3", "nas")]
    [InlineData("::ffff:100.96.0.2", "laptop")] // IPv4-mapped: the IPv4 overlay address
    [InlineData("42", "42")] // a number is a name, not 0.0.0.42
    [InlineData("ghost", null)]
    [InlineData("100.96.0.99", null)]
    [InlineData("fd7a:115c:a1e0::99", null)]
    public void Finds_members_by_name_or_overlay_address(string text, string? expected)
    {
        Assert.Equal(expected, Find(text));
    }

    [Fact]
    public void An_exact_name_wins_over_names_equal_ignoring_case_and_two_such_names_match_none()
    {
        Member[] members = [new("nas", IPAddress.Loopback, IPAddress.IPv6Loopback), new("NAS", IPAddress.Any, IPAddress.IPv6Any), new("Nas", IPAddress.Any, IPAddress.IPv6Any)];
        PeerQuery.TryParse("NAS", out PeerQuery exact, out _);
        PeerQuery.TryParse("nAs", out PeerQuery ambiguous, out _);

        Assert.Same(members[1], exact.Find(members, m => m.Name, m => m.V4, m => m.V6));
        Assert.Null(ambiguous.Find(members, m => m.Name, m => m.V4, m => m.V6));
    }

    [Theory]
    [InlineData("", "no peer given")]
    [InlineData("   ", "no peer given")]
    [InlineData("100.96.0.300", "is not an IPv4 or IPv6 address")]
    [InlineData("fd7a::3::4", "is not an IPv4 or IPv6 address")]
    [InlineData("fe80::1%eth0", "is not an IPv4 or IPv6 address")] // a scope has no meaning in the overlay
    [InlineData("nas;rm", "is neither a member name")]
    [InlineData("two words", "is neither a member name")]
    public void Malformed_peers_are_refused_with_the_reason(string text, string reason)
    {
        Assert.False(PeerQuery.TryParse(text, out _, out string? error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Overly_long_names_are_refused()
    {
        Assert.False(PeerQuery.TryParse(new string('a', PeerQuery.MaxNameLength + 1), out _, out string? error));
        Assert.Contains("too long", error, StringComparison.Ordinal);
        Assert.True(PeerQuery.TryParse(new string('a', PeerQuery.MaxNameLength), out _, out _));
    }
}
