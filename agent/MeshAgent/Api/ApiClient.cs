using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MeshAgent.Engine.Control;

namespace MeshAgent.Api;

/// <summary>
/// The CLI's side of the local API: HTTP/1.1 over the daemon's Unix socket (<see cref="ApiServer"/>).
/// Failures arrive as exceptions the CLI can print as they are:
/// <see cref="DaemonUnreachableException"/> when the socket cannot be connected to, and
/// <see cref="MeshControlException"/> for everything else — the daemon's own refusals keep their kind and
/// message; a broken connection, a timeout or an answer that is not the API's JSON are <see cref="ControlErrorKind.Local"/>.
/// </summary>
public sealed class ApiClient : IDisposable
{
    /// <summary>How long a request other than join may take; join streams and is bounded by the daemon.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    public ApiClient(string socketPath, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        SocketPath = Path.GetFullPath(socketPath);
        _timeout = timeout ?? DefaultTimeout;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            UseProxy = false,
            AllowAutoRedirect = false,
        };
        // The host name is never resolved (ConnectCallback decides where to go); it only fills the Host header.
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://meshagent/"), Timeout = Timeout.InfiniteTimeSpan };
    }

    public string SocketPath { get; }

    public Task<NodeStatus> GetStatusAsync(CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Get, "v1/status", ApiJson.NodeStatus, cancellationToken);

    public Task<IReadOnlyList<MemberInfo>> GetPeersAsync(CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Get, "v1/peers", ApiJson.MemberList, cancellationToken);

    /// <summary>The raw JSON text of a GET route ("v1/status", "v1/peers"), exactly as the daemon sent it (for --json).</summary>
    public async Task<string> GetJsonAsync(string route, CancellationToken cancellationToken = default)
    {
        using var timeout = StartTimeout(cancellationToken);
        using HttpResponseMessage response = await SendCoreAsync(new HttpRequestMessage(HttpMethod.Get, route), HttpCompletionOption.ResponseContentRead, timeout.Token, cancellationToken);
        await ThrowIfFailedAsync(response, timeout.Token);
        return await ReadOrThrowAsync(() => response.Content.ReadAsStringAsync(timeout.Token), cancellationToken);
    }

    public Task<NodeStatus> InitAsync(InitRequest request, CancellationToken cancellationToken = default)
        => SendAsync("v1/init", request, ApiJson.InitRequest, ApiJson.NodeStatus, cancellationToken);

    public Task<InviteResult> InviteAsync(InviteRequest request, CancellationToken cancellationToken = default)
        => SendAsync("v1/invite", request, ApiJson.InviteRequest, ApiJson.InviteResult, cancellationToken);

    public Task<NodeStatus> LeaveAsync(CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Post, "v1/leave", ApiJson.NodeStatus, cancellationToken);

    public Task<RevokeResult> RevokeAsync(RevokeRequest request, CancellationToken cancellationToken = default)
        => SendAsync("v1/revoke", request, ApiJson.RevokeRequest, ApiJson.RevokeResult, cancellationToken);

    public Task<MemberInfo> GrantAdminAsync(GrantAdminRequest request, CancellationToken cancellationToken = default)
        => SendAsync("v1/admins", request, ApiJson.GrantAdminRequest, ApiJson.MemberInfo, cancellationToken);

    /// <summary>One diagnostic probe (POST /v1/ping); the daemon bounds it by the request's timeout.</summary>
    public Task<PingReply> PingAsync(PingRequest request, CancellationToken cancellationToken = default)
        => SendAsync("v1/ping", request, ApiJson.PingRequest, ApiJson.PingReply, cancellationToken);

    /// <summary>
    /// Joins through the daemon, calling <paramref name="onProgress"/> for each step as the daemon streams it
    /// (on the calling flow, in order). Not bounded by the request timeout: the daemon bounds each step.
    /// </summary>
    public async Task<NodeStatus> JoinAsync(JoinRequestModel request, Action<string> onProgress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onProgress);
        using var message = new HttpRequestMessage(HttpMethod.Post, "v1/join") { Content = JsonBody(request, ApiJson.JoinRequest) };
        using HttpResponseMessage response = await SendCoreAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);

        await using Stream body = await ReadOrThrowAsync(() => response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken);
        using var reader = new StreamReader(body);
        while (await ReadOrThrowAsync(() => reader.ReadLineAsync(cancellationToken).AsTask(), cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            JoinStreamLine entry = Deserialize(line, ApiJson.JoinStreamLine, "join");
            if (entry.Progress is not null)
            {
                onProgress(entry.Progress);
            }
            else if (entry.Result is not null)
            {
                return entry.Result;
            }
            else if (entry.Error is not null)
            {
                throw new MeshControlException(entry.Error.Kind, entry.Error.Message);
            }
        }

        throw new MeshControlException(
            ControlErrorKind.Local,
            $"the daemon at {SocketPath} ended the join stream without saying how the join ended — check `meshagent status` and the daemon's log (journalctl -u meshagent)");
    }

    public void Dispose() => _http.Dispose();

    private Task<TResponse> SendAsync<TResponse>(HttpMethod method, string route, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
        => SendAsync(new HttpRequestMessage(method, route), responseType, cancellationToken);

    private Task<TResponse> SendAsync<TRequest, TResponse>(string route, TRequest request, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendAsync(new HttpRequestMessage(HttpMethod.Post, route) { Content = JsonBody(request, requestType) }, responseType, cancellationToken);
    }

    private async Task<TResponse> SendAsync<TResponse>(HttpRequestMessage message, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        using (message)
        {
            using var timeout = StartTimeout(cancellationToken);
            using HttpResponseMessage response = await SendCoreAsync(message, HttpCompletionOption.ResponseContentRead, timeout.Token, cancellationToken);
            await ThrowIfFailedAsync(response, timeout.Token);
            string text = await ReadOrThrowAsync(() => response.Content.ReadAsStringAsync(timeout.Token), cancellationToken);
            return Deserialize(text, responseType, message.RequestUri?.ToString() ?? "?");
        }
    }

    private CancellationTokenSource StartTimeout(CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(_timeout);
        return source;
    }

    /// <summary>Sends, translating transport failures; <paramref name="callerToken"/> tells a caller's cancellation from a timeout.</summary>
    private async Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage message, HttpCompletionOption completion, CancellationToken token, CancellationToken callerToken)
    {
        try
        {
            return await _http.SendAsync(message, completion, token).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is DaemonUnreachableException unreachable)
        {
            throw new DaemonUnreachableException(unreachable.SocketPath, unreachable.Reason, e);
        }
        catch (Exception e) when (IsTransportFailure(e, callerToken))
        {
            throw TransportFailure(e, message.Method + " " + message.RequestUri);
        }
    }

    private async Task<T> ReadOrThrowAsync<T>(Func<Task<T>> read, CancellationToken callerToken)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransportFailure(e, callerToken))
        {
            throw TransportFailure(e, "reading the answer");
        }
    }

    private static bool IsTransportFailure(Exception e, CancellationToken callerToken)
        => e is HttpRequestException or IOException || (e is OperationCanceledException && !callerToken.IsCancellationRequested);

    private MeshControlException TransportFailure(Exception e, string what) => e is OperationCanceledException
        ? new MeshControlException(ControlErrorKind.Local, $"the daemon at {SocketPath} did not answer within {_timeout.TotalSeconds:0} s ({what}) — it may be stuck; check its log (journalctl -u meshagent)", e)
        : new MeshControlException(ControlErrorKind.Local, $"the connection to the daemon at {SocketPath} broke ({what}: {e.Message}) — check that it still runs (systemctl status meshagent)", e);

    private async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string body = string.Empty;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (JsonSerializer.Deserialize(body, ApiJson.ErrorEnvelope) is { Error: { Message: not null } error })
            {
                throw new MeshControlException(error.Kind, error.Message);
            }
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or IOException)
        {
            // Not our error body: described below from the status code.
        }

        throw new MeshControlException(
            KindOf(response.StatusCode),
            $"the daemon at {SocketPath} answered {(int)response.StatusCode} {response.ReasonPhrase} without an error message ({Abbreviate(body)}) — is the CLI the same version as the daemon?");
    }

    private static ControlErrorKind KindOf(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => ControlErrorKind.InvalidInput,
        HttpStatusCode.Forbidden => ControlErrorKind.Forbidden,
        HttpStatusCode.NotFound => ControlErrorKind.NotFound,
        HttpStatusCode.Conflict => ControlErrorKind.Conflict,
        HttpStatusCode.BadGateway => ControlErrorKind.Remote,
        _ => ControlErrorKind.Local,
    };

    private T Deserialize<T>(string text, JsonTypeInfo<T> type, string route)
    {
        try
        {
            return JsonSerializer.Deserialize(text, type) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new MeshControlException(
                ControlErrorKind.Local,
                $"the daemon at {SocketPath} answered {route} with something that is not a {type.Type.Name} ({e.Message}: {Abbreviate(text)}) — is the CLI the same version as the daemon?",
                e);
        }
    }

    private static string Abbreviate(string text) => text.Length switch
    {
        0 => "empty body",
        <= 200 => text,
        _ => string.Concat(text.AsSpan(0, 200), "…"),
    };

    private static ByteArrayContent JsonBody<T>(T value, JsonTypeInfo<T> type)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, type));
        content.Headers.ContentType = JsonMediaType;
        return content;
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new DaemonUnreachableException(SocketPath, DaemonUnreachableException.ReasonFor(e, SocketPath), e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
