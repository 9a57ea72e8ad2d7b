using System.Net.Sockets;
using System.Text;

namespace MeshAgent.Daemon;

/// <summary>
/// sd_notify(3) without libsystemd: one datagram per state change to the Unix socket systemd names in
/// $NOTIFY_SOCKET (a path, or an abstract name when it starts with '@'). Under Type=notify systemd treats
/// the service as started only after READY=1. Outside systemd (no $NOTIFY_SOCKET) every call does nothing.
/// Failures to notify are swallowed: a missed notification must not take the daemon down (systemd's start
/// timeout reports it).
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endpoint;

    /// <param name="notifySocket">The value of $NOTIFY_SOCKET, or null/empty when not under systemd.</param>
    public SystemdNotifier(string? notifySocket)
    {
        if (string.IsNullOrEmpty(notifySocket))
        {
            return;
        }

        // "@name" is the abstract namespace; .NET takes it as a path starting with NUL.
        string path = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
        _endpoint = new UnixDomainSocketEndPoint(path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    public static SystemdNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    /// <summary>True when there is a systemd to tell.</summary>
    public bool IsEnabled => _socket is not null;

    /// <summary>READY=1 with a STATUS= line: the service is up (here: the local API listens).</summary>
    public bool NotifyReady(string status) => Send($"READY=1\nSTATUS={status}");

    /// <summary>STOPPING=1: shutdown has begun.</summary>
    public bool NotifyStopping(string status) => Send($"STOPPING=1\nSTATUS={status}");

    /// <summary>Sends one notification ("KEY=value" lines); false when not under systemd or the send failed.</summary>
    public bool Send(string state)
    {
        if (_socket is null)
        {
            return false;
        }

        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), _endpoint!);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => _socket?.Dispose();
}
