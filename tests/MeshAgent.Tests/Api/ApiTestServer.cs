using MeshAgent.Api;

namespace MeshAgent.Tests.Api;

/// <summary>
/// The REAL <see cref="ApiServer"/> on a Unix socket in a fresh temporary directory, serving a
/// <see cref="FakeMeshControl"/>. Socket paths are limited to 107 bytes, so the directory sits directly
/// under /tmp rather than under a long test output path.
/// </summary>
internal sealed class ApiTestServer : IAsyncDisposable
{
    private ApiTestServer(string directory, ApiServer server, FakeMeshControl control, StringWriter log)
    {
        Directory = directory;
        Server = server;
        Control = control;
        Log = log;
    }

    public string Directory { get; }

    public ApiServer Server { get; }

    public FakeMeshControl Control { get; }

    /// <summary>What the server wrote: its one start line and any unexpected failure.</summary>
    public StringWriter Log { get; }

    public string SocketPath => Server.SocketPath;

    public static string NewDirectory()
    {
        string directory = Path.Combine("/tmp", "meshagent-api-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        return directory;
    }

    public static async Task<ApiTestServer> StartAsync(FakeMeshControl? control = null)
    {
        string directory = NewDirectory();
        control ??= new FakeMeshControl();
        var log = new StringWriter();
        try
        {
            ApiServer server = await ApiServer.StartAsync(control, Path.Combine(directory, "run", "meshagent.sock"), log);
            return new ApiTestServer(directory, server, control, log);
        }
        catch
        {
            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public ApiClient CreateClient() => new(SocketPath);

    /// <summary>A plain HttpClient over the socket, for requests the ApiClient would never send.</summary>
    public HttpClient CreateRawClient() => RawHttp.Create(SocketPath);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Server.DisposeAsync();
        }
        finally
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}

internal static class RawHttp
{
    public static HttpClient Create(string socketPath) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        },
    })
    {
        BaseAddress = new Uri("http://meshagent/"),
        Timeout = TimeSpan.FromSeconds(30),
    };
}
