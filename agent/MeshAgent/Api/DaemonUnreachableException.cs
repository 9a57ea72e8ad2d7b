using System.Net.Sockets;

namespace MeshAgent.Api;

/// <summary>
/// The CLI could not connect to the daemon's socket at all (missing, refused, not allowed). The message says
/// what to do; the CLI exits with <see cref="ExitCodes.DaemonUnreachable"/>.
/// </summary>
public sealed class DaemonUnreachableException(string socketPath, string reason, Exception? inner = null)
    : Exception(MessageFor(socketPath, reason), inner)
{
    public string SocketPath { get; } = socketPath;

    /// <summary>Why, in a few words ("no such socket", "connection refused", "permission denied").</summary>
    public string Reason { get; } = reason;

    /// <summary>The reason to show for a failed connect(2) to <paramref name="socketPath"/>.</summary>
    public static string ReasonFor(SocketException e, string socketPath) => e.SocketErrorCode switch
    {
        // ENOENT arrives as SocketError.AddressNotAvailable ("Cannot assign requested address"), which misleads.
        SocketError.AddressNotAvailable when !File.Exists(socketPath) => "no such socket",
        SocketError.AddressNotAvailable or SocketError.ConnectionRefused => "connection refused: nothing listens on it",
        SocketError.AccessDenied => "permission denied",
        _ => e.Message,
    };

    private static string MessageFor(string socketPath, string reason)
        => reason == "permission denied"
            ? $"cannot reach the meshagent daemon at {socketPath} (permission denied) — run as root or as a member of the socket's group (ls -l {socketPath})"
            : $"cannot reach the meshagent daemon at {socketPath} ({reason}) — is it running? start it with `systemctl start meshagent` or `meshagent run`; pass --socket PATH if it listens elsewhere";
}
