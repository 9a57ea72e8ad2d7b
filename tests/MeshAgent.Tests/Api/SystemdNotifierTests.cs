using System.Net.Sockets;
using System.Text;
using MeshAgent.Daemon;

namespace MeshAgent.Tests.Api;

/// <summary>sd_notify over a real datagram socket standing in for systemd's.</summary>
public sealed class SystemdNotifierTests
{
    private static string Receive(Socket systemd)
    {
        var buffer = new byte[4096];
        systemd.ReceiveTimeout = 10_000;
        int length = systemd.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    [Fact]
    public void Ready_and_stopping_arrive_as_one_datagram_each_on_a_path_socket()
    {
        string directory = ApiTestServer.NewDirectory();
        try
        {
            string path = Path.Combine(directory, "notify");
            using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            systemd.Bind(new UnixDomainSocketEndPoint(path));
            using var notifier = new SystemdNotifier(path);

            Assert.True(notifier.IsEnabled);
            Assert.True(notifier.NotifyReady("local API on /run/meshagent/meshagent.sock"));
            Assert.True(notifier.NotifyStopping("stopping"));

            Assert.Equal("READY=1\nSTATUS=local API on /run/meshagent/meshagent.sock", Receive(systemd));
            Assert.Equal("STOPPING=1\nSTATUS=stopping", Receive(systemd));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void An_at_sign_names_an_abstract_socket()
    {
        string name = "meshagent-test-notify-" + Guid.NewGuid().ToString("N");
        using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        systemd.Bind(new UnixDomainSocketEndPoint("\0" + name));
        using var notifier = new SystemdNotifier("@" + name);

        Assert.True(notifier.NotifyReady("up"));

        Assert.Equal("READY=1\nSTATUS=up", Receive(systemd));
    }

    [Fact]
    public void Without_NOTIFY_SOCKET_nothing_is_sent_and_nothing_fails()
    {
        using var notifier = new SystemdNotifier(null);
        Assert.False(notifier.IsEnabled);
        Assert.False(notifier.NotifyReady("up"));

        using var empty = new SystemdNotifier(string.Empty);
        Assert.False(empty.IsEnabled);
    }

    [Fact]
    public void A_notify_socket_that_vanished_does_not_throw()
    {
        using var notifier = new SystemdNotifier("/tmp/meshagent-no-such-notify-socket-" + Guid.NewGuid().ToString("N"));
        Assert.True(notifier.IsEnabled);
        Assert.False(notifier.NotifyReady("up"));
    }
}
