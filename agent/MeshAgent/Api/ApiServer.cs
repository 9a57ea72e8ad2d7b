using System.Net.Sockets;
using MeshAgent.Engine.Control;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MeshAgent.Api;

/// <summary>
/// The daemon's local API (DESIGN §8): HTTP/1.1 + JSON on a Unix socket, served by Kestrel, translating
/// requests into <see cref="IMeshControl"/> calls. Access control is the socket file's mode (0660: root
/// and the socket's group) — there is no other authentication, so the socket must never be bound where
/// others can reach it. Routes and formats: <see cref="ApiEndpoints"/> and <see cref="ApiJson"/>.
/// </summary>
/// <remarks>
/// Lifecycle: <see cref="StartAsync"/> returns once the socket listens (the caller then tells systemd
/// READY=1); <see cref="StopAsync"/> stops accepting and waits (bounded) for requests in flight;
/// <see cref="DisposeAsync"/> stops if needed and removes the socket file.
/// </remarks>
public sealed class ApiServer : IAsyncDisposable
{
    public const string DefaultSocketPath = "/run/meshagent/meshagent.sock";

    /// <summary>rw for the owner (root) and the group: membership of the socket's group grants use of the API.</summary>
    public const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>0755 for a directory we create (/run/meshagent when systemd's RuntimeDirectory= did not).</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    // Every request body is a small JSON object; anything larger is a mistake or an attack on memory.
    private const long MaxRequestBodyBytes = 64 * 1024;

    // How long StopAsync lets requests in flight (a join that is streaming) finish before cutting them.
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private int _stopped;
    private int _disposed;

    private ApiServer(WebApplication app, string socketPath)
    {
        _app = app;
        SocketPath = socketPath;
    }

    /// <summary>The absolute path the API listens on.</summary>
    public string SocketPath { get; }

    /// <summary>
    /// Binds <paramref name="socketPath"/> (creating its directory 0755 if missing; replacing a stale socket
    /// left by a daemon that died, but refusing when a daemon still answers on it), sets the socket's mode to
    /// 0660 and writes one line, "meshagent: local API on PATH", to <paramref name="log"/>. Unexpected
    /// handler failures are logged there too. Throws <see cref="IOException"/> with a message for the
    /// operator when the socket cannot be bound.
    /// </summary>
    public static async Task<ApiServer> StartAsync(IMeshControl control, string socketPath, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        ArgumentNullException.ThrowIfNull(log);
        if (OperatingSystem.IsWindows())
        {
            throw WindowsNotSupported();
        }

        string path = Path.GetFullPath(socketPath);
        TextWriter syncLog = TextWriter.Synchronized(log);

        PrepareSocketPath(path);

        // The empty builder reads no appsettings.json and no environment (ASPNETCORE_URLS could otherwise add
        // a TCP listener) and adds no logging providers: the daemon's output stays journal-clean.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "meshagent" });
        builder.Services.AddRoutingCore();
        // The daemon handles SIGINT/SIGTERM itself (it must stop the node after the API); the host's default
        // ConsoleLifetime would also react to them.
        builder.Services.AddSingleton<IHostLifetime, PassiveLifetime>();
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = ShutdownGrace);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
            options.ListenUnixSocket(path, listen => listen.Protocols = HttpProtocols.Http1);
        });

        WebApplication app = builder.Build();
        new ApiEndpoints(control, syncLog).Map(app);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            File.SetUnixFileMode(path, SocketMode);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"the local API cannot listen on {path}: {e.Message} — run as root, or pass --socket PATH in a directory you may write", e);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        syncLog.WriteLine($"meshagent: local API on {path}");
        syncLog.Flush();
        return new ApiServer(app, path);
    }

    /// <summary>Stops accepting connections and waits up to 5 s for requests in flight. Idempotent.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops (if not yet stopped), releases Kestrel and removes the socket file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            // .NET unlinks a Unix socket it bound when the listener closes; this covers a listener that
            // failed to close cleanly, so the next start never meets our own stale file.
            TryDelete(SocketPath);
        }
    }

    /// <summary>
    /// Makes <paramref name="path"/> bindable: creates the parent directory (0755) when missing and removes a
    /// stale socket (one nothing answers on). Throws <see cref="IOException"/> when a daemon answers there or the
    /// path is something other than a socket.
    /// </summary>
    internal static void PrepareSocketPath(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw WindowsNotSupported();
        }

        string? directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            try
            {
                Directory.CreateDirectory(directory, DirectoryMode);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"cannot create the directory {directory} for the local API socket: {e.Message} — run as root, or pass --socket PATH in a directory you may write", e);
            }
        }

        if (Directory.Exists(path))
        {
            throw new IOException($"{path} is a directory, not a socket — remove it or pass --socket PATH");
        }

        if (!File.Exists(path))
        {
            return;
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"another meshagent daemon is already listening on {path} — stop it first (systemctl stop meshagent), or give this one another --socket PATH");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Nothing listens: a socket left behind by a daemon that was killed. connect() also says
                // ECONNREFUSED for a regular file, which BCL cannot tell apart from a socket without stat(2);
                // a socket file is always empty, so a file with content is surely something else: keep it.
            }
            catch (SocketException e)
            {
                throw new IOException($"cannot check whether a daemon already listens on {path}: {e.Message} — run as root, or pass --socket PATH", e);
            }
        }

        if (new FileInfo(path).Length != 0)
        {
            throw new IOException($"{path} exists and is not a socket (it has content) — remove it or pass --socket PATH");
        }

        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot remove the stale socket {path} left by a previous daemon: {e.Message} — remove it by hand or run as root", e);
        }
    }

    // Unix sockets with file modes are what the API is about; the inline guards also tell the platform analyzer so.
    private static PlatformNotSupportedException WindowsNotSupported() => new("the local API needs a Unix socket with Unix file modes (Linux)");

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the next start removes a stale socket anyway.
        }
    }

    /// <summary>A host lifetime that neither waits for nor listens to anything: the daemon owns start and stop.</summary>
    private sealed class PassiveLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
