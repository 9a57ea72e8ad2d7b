using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using MeshAgent.Engine.Control;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace MeshAgent.Api;

/// <summary>
/// The routes of the local API, version 1. Every answer is JSON (<see cref="ApiJson"/>); every failure is
/// <c>{"error":{"kind":"…","message":"…"}}</c> with the status of its <see cref="ControlErrorKind"/>
/// (<see cref="StatusCodeOf"/>).
/// <code>
/// GET  /v1/status   → NodeStatus
/// GET  /v1/peers    → MemberInfo[] (NodeStatus.Members)
/// POST /v1/init     InitRequest        → NodeStatus
/// POST /v1/invite   InviteRequest      → InviteResult
/// POST /v1/join     JoinRequestModel   → 200 application/x-ndjson: {"progress":"…"}* then {"result":NodeStatus} | {"error":{…}}
/// POST /v1/leave    (no body)          → NodeStatus after leaving
/// POST /v1/revoke   RevokeRequest      → RevokeResult
/// POST /v1/admins   GrantAdminRequest  → MemberInfo
/// POST /v1/ping     PingRequest        → PingReply (one probe; no answer is a reply with replied=false)
/// </code>
/// A join whose request body is malformed fails like any request (400 + error body); once the body is read
/// the answer is 200 and streams, so its outcome is in the last line, never in the status code.
/// </summary>
internal sealed class ApiEndpoints(IMeshControl control, TextWriter log)
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    public static int StatusCodeOf(ControlErrorKind kind) => kind switch
    {
        ControlErrorKind.InvalidInput => StatusCodes.Status400BadRequest,
        ControlErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        ControlErrorKind.NotFound => StatusCodes.Status404NotFound,
        ControlErrorKind.Conflict => StatusCodes.Status409Conflict,
        ControlErrorKind.Remote => StatusCodes.Status502BadGateway,
        _ => StatusCodes.Status500InternalServerError,
    };

    public void Map(WebApplication app)
    {
        app.Use(HandleErrorsAsync);

        app.MapGet("/v1/status", context => WriteAsync(context, control.GetStatus(), ApiJson.NodeStatus));
        app.MapGet("/v1/peers", context => WriteAsync(context, control.GetStatus().Members, ApiJson.MemberList));
        app.MapPost("/v1/init", async context =>
        {
            InitRequest request = await ReadAsync(context, ApiJson.InitRequest);
            await WriteAsync(context, await control.InitAsync(request, context.RequestAborted), ApiJson.NodeStatus);
        });
        app.MapPost("/v1/invite", async context =>
        {
            InviteRequest request = await ReadAsync(context, ApiJson.InviteRequest);
            await WriteAsync(context, await control.InviteAsync(request, context.RequestAborted), ApiJson.InviteResult);
        });
        app.MapPost("/v1/join", JoinAsync);
        app.MapPost("/v1/leave", async context =>
        {
            await control.LeaveAsync(context.RequestAborted);
            await WriteAsync(context, control.GetStatus(), ApiJson.NodeStatus);
        });
        app.MapPost("/v1/revoke", async context =>
        {
            RevokeRequest request = await ReadAsync(context, ApiJson.RevokeRequest);
            await WriteAsync(context, await control.RevokeAsync(request, context.RequestAborted), ApiJson.RevokeResult);
        });
        app.MapPost("/v1/admins", async context =>
        {
            GrantAdminRequest request = await ReadAsync(context, ApiJson.GrantAdminRequest);
            await WriteAsync(context, await control.GrantAdminAsync(request, context.RequestAborted), ApiJson.MemberInfo);
        });
        app.MapPost("/v1/ping", async context =>
        {
            PingRequest request = await ReadAsync(context, ApiJson.PingRequest);
            await WriteAsync(context, await control.PingAsync(request, context.RequestAborted), ApiJson.PingReply);
        });
    }

    /// <summary>
    /// Streams the join: each progress report becomes one flushed NDJSON line as it happens, in the order
    /// reported (a channel serialises reports from whatever thread the node makes them on); the last line is
    /// the result or the error. The client going away cancels the join.
    /// </summary>
    private async Task JoinAsync(HttpContext context)
    {
        JoinRequestModel request = await ReadAsync(context, ApiJson.JoinRequest);
        CancellationToken aborted = context.RequestAborted;

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = ApiJson.NdjsonMediaType;
        await context.Response.StartAsync(aborted);

        Channel<string> reports = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        Task<NodeStatus> join;
        try
        {
            join = control.JoinAsync(request, new ChannelProgress(reports.Writer), aborted);
        }
        catch (Exception e)
        {
            join = Task.FromException<NodeStatus>(e);
        }

        // Observe the outcome here too, so a join that fails after the client left is not an unobserved exception.
        _ = join.ContinueWith(
            static (task, state) =>
            {
                _ = task.Exception;
                ((ChannelWriter<string>)state!).TryComplete();
            },
            reports.Writer,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        await foreach (string line in reports.Reader.ReadAllAsync(aborted))
        {
            await WriteLineAsync(context, new JoinStreamLine { Progress = line }, aborted);
        }

        JoinStreamLine last;
        try
        {
            last = new JoinStreamLine { Result = await join };
        }
        catch (MeshControlException e)
        {
            last = new JoinStreamLine { Error = new ApiError(e.Kind, e.Message) };
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            LogUnexpected(context, e);
            last = new JoinStreamLine { Error = new ApiError(ControlErrorKind.Local, InternalErrorMessage(e)) };
        }

        await WriteLineAsync(context, last, aborted);
    }

    /// <summary>Turns every failure into an error body; the daemon never goes down because a request failed.</summary>
    private async Task HandleErrorsAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
            // No endpoint: an unknown path. Routing's own 405 endpoint: a known path with another method.
            if (!context.Response.HasStarted
                && (context.GetEndpoint() is null || context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed))
            {
                await NoSuchRouteAsync(context);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away (e.g. Ctrl+C on the CLI); nobody is left to answer.
        }
        catch (MeshControlException e)
        {
            await WriteErrorAsync(context, StatusCodeOf(e.Kind), e.Kind, e.Message);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own refusals while reading the body (too large, truncated).
            await WriteErrorAsync(context, e.StatusCode, ControlErrorKind.InvalidInput, $"bad request: {e.Message}");
        }
        catch (Exception e)
        {
            LogUnexpected(context, e);
            await WriteErrorAsync(context, StatusCodes.Status500InternalServerError, ControlErrorKind.Local, InternalErrorMessage(e));
        }
    }

    private static Task NoSuchRouteAsync(HttpContext context)
    {
        // 405 comes from routing when the path exists with another method.
        string message = context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed
            ? $"{context.Request.Method} is not allowed on {context.Request.Path} — is the CLI the same version as the daemon?"
            : $"{context.Request.Method} {context.Request.Path} is not a route of the local API v1 — is the CLI the same version as the daemon?";
        int status = context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed
            ? StatusCodes.Status405MethodNotAllowed
            : StatusCodes.Status404NotFound;
        return WriteErrorAsync(context, status, ControlErrorKind.InvalidInput, message);
    }

    private static async Task<T> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> type)
        where T : class
    {
        T? value;
        try
        {
            value = await JsonSerializer.DeserializeAsync(context.Request.Body, type, context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, $"the request body is not a valid {type.Type.Name} JSON object: {e.Message}", e);
        }

        return value ?? throw new MeshControlException(ControlErrorKind.InvalidInput, $"the request body is null; {context.Request.Path} takes a {type.Type.Name} JSON object");
    }

    private static async Task WriteAsync<T>(HttpContext context, T value, JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, type, context.RequestAborted);
    }

    private static async Task WriteLineAsync(HttpContext context, JoinStreamLine line, CancellationToken cancellationToken)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(line, ApiJson.JoinStreamLine);
        await context.Response.Body.WriteAsync(json, cancellationToken);
        await context.Response.Body.WriteAsync(NewLine, cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }

    private static async Task WriteErrorAsync(HttpContext context, int statusCode, ControlErrorKind kind, string message)
    {
        if (context.Response.HasStarted)
        {
            // Headers are gone (a streaming answer failed half-way): closing the connection is the only signal left.
            context.Abort();
            return;
        }

        context.Response.Clear();
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, new ApiErrorEnvelope(new ApiError(kind, message)), ApiJson.ErrorEnvelope, context.RequestAborted);
    }

    private static string InternalErrorMessage(Exception e)
        => $"internal error in the daemon ({e.GetType().Name}: {e.Message}) — this is a bug; the daemon's log (journalctl -u meshagent) has the details";

    private void LogUnexpected(HttpContext context, Exception e)
    {
        log.WriteLine($"meshagent: local API {context.Request.Method} {context.Request.Path} failed unexpectedly: {e}");
        log.Flush();
    }

    /// <summary>Forwards each report to the stream synchronously, so reports keep their order (Progress&lt;T&gt; posts to the thread pool and may reorder).</summary>
    private sealed class ChannelProgress(ChannelWriter<string> writer) : IProgress<string>
    {
        public void Report(string value) => writer.TryWrite(value);
    }
}
