using System.Net;
using MeshAgent.Integration.Tests.Harness;
using Xunit;

namespace MeshAgent.Integration.Tests.HarnessTests;

public sealed class WireGuardDumpTests
{
    // Shape of `wg show wg0 dump` from wireguard-tools 1.0.20210914 (keys are from wg genkey).
    private const string Dump =
        "GHbTCVfwWtJqMbTMfY3RkN1N+2a+LiH4KTl1wQHqcVo=\tnO4n8Zvh3d4E6yTRlsBnhN3+eGLDxz6zS7TB4Ti+DjQ=\t51820\toff\n"
        + "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\t(none)\t10.200.1.2:51821\t10.77.0.2/32,fd77::2/128\t1700000000\t1234\t5678\toff\n"
        + "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\tFpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=\t[fd00:200:0:1::2]:51821\t(none)\t0\t0\t0\t25\n";

    [Fact]
    public void Parses_the_interface_line_and_every_peer()
    {
        var dump = WireGuardDump.Parse(Dump);

        Assert.Equal("nO4n8Zvh3d4E6yTRlsBnhN3+eGLDxz6zS7TB4Ti+DjQ=", dump.PublicKey);
        Assert.Equal(51820, dump.ListenPort);
        Assert.Equal(2, dump.Peers.Count);

        var first = dump.Peer("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=");
        Assert.Null(first.PresharedKey);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.200.1.2"), 51821), first.Endpoint);
        Assert.Equal(["10.77.0.2/32", "fd77::2/128"], first.AllowedIps);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), first.LatestHandshake);
        Assert.Equal((1234L, 5678L), (first.RxBytes, first.TxBytes));
        Assert.Null(first.PersistentKeepalive);

        var second = dump.Peers[1];
        Assert.Equal("FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=", second.PresharedKey);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("fd00:200:0:1::2"), 51821), second.Endpoint);
        Assert.Empty(second.AllowedIps);
        Assert.Null(second.LatestHandshake);
        Assert.Equal(25, second.PersistentKeepalive);
    }

    [Fact]
    public void A_truncated_line_is_rejected_with_the_line_quoted()
    {
        var error = Assert.Throws<FormatException>(() => WireGuardDump.Parse("abc\tdef\t51820\n"));
        Assert.Contains("'abc\tdef\t51820'", error.Message);
    }

    [Fact]
    public void Asking_for_an_absent_peer_lists_the_peers_present()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => WireGuardDump.Parse(Dump).Peer("nobody"));
        Assert.Contains("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", error.Message);
    }
}
