using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using MeshAgent.Engine.Control;

namespace MeshAgent.Api;

// The local API's JSON, shared by the server and the client so both always agree:
// - property names camelCase, except that a leading "IPv" is one word ("ipv4Network", not "iPv4Network",
//   which is what the stock camelCase policy makes of "IPv4Network");
// - enums as camelCase strings ("notJoined", "invalidInput");
// - TimeSpan in .NET's invariant "c" format, [d.]hh:mm:ss[.fffffff] ("01:00:00", "2.00:00:00");
// - DateTimeOffset as ISO 8601 ("2025-06-01T12:00:00+00:00"); null properties are written as null.
// Source-generated metadata (ApiJsonContext) keeps serialisation free of reflection, so a trimmed
// single-file build keeps working.

/// <summary>The error body of every failed request: <c>{"error":{"kind":"conflict","message":"…"}}</c>.</summary>
public sealed record ApiErrorEnvelope(ApiError Error);

/// <summary>What failed (<see cref="ControlErrorKind"/>) and a message for the person who must fix it.</summary>
public sealed record ApiError(ControlErrorKind Kind, string Message);

/// <summary>
/// One line of the streamed <c>POST /v1/join</c> answer (NDJSON): exactly one of the three properties is set.
/// Every line but the last is a progress line; the last carries the result or the error.
/// </summary>
public sealed record JoinStreamLine
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Progress { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NodeStatus? Result { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ApiError? Error { get; init; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NodeStatus))]
[JsonSerializable(typeof(IReadOnlyList<MemberInfo>))]
[JsonSerializable(typeof(InitRequest))]
[JsonSerializable(typeof(InviteRequest))]
[JsonSerializable(typeof(InviteResult))]
[JsonSerializable(typeof(JoinRequestModel))]
[JsonSerializable(typeof(RevokeRequest))]
[JsonSerializable(typeof(RevokeResult))]
[JsonSerializable(typeof(GrantAdminRequest))]
[JsonSerializable(typeof(PingRequest))]
[JsonSerializable(typeof(PingReply))]
[JsonSerializable(typeof(Commands.PingReport))]
[JsonSerializable(typeof(ApiErrorEnvelope))]
[JsonSerializable(typeof(JoinStreamLine))]
internal sealed partial class ApiJsonContext : JsonSerializerContext
{
}

/// <summary>The serializer options and type metadata of the local API.</summary>
public static class ApiJson
{
    /// <summary>The media type of the streamed join answer: one JSON document per line.</summary>
    public const string NdjsonMediaType = "application/x-ndjson";

    private static readonly ApiJsonContext Context = new(CreateOptions());

    public static JsonSerializerOptions Options => Context.Options;

    public static JsonTypeInfo<NodeStatus> NodeStatus => Context.NodeStatus;

    public static JsonTypeInfo<IReadOnlyList<MemberInfo>> MemberList => Context.IReadOnlyListMemberInfo;

    public static JsonTypeInfo<MemberInfo> MemberInfo => Context.MemberInfo;

    public static JsonTypeInfo<InitRequest> InitRequest => Context.InitRequest;

    public static JsonTypeInfo<InviteRequest> InviteRequest => Context.InviteRequest;

    public static JsonTypeInfo<InviteResult> InviteResult => Context.InviteResult;

    public static JsonTypeInfo<JoinRequestModel> JoinRequest => Context.JoinRequestModel;

    public static JsonTypeInfo<RevokeRequest> RevokeRequest => Context.RevokeRequest;

    public static JsonTypeInfo<PingRequest> PingRequest => Context.PingRequest;

    public static JsonTypeInfo<PingReply> PingReply => Context.PingReply;

    /// <summary>Not an API type: the document <c>meshagent ping --json</c> prints, written with the API's conventions.</summary>
    public static JsonTypeInfo<Commands.PingReport> PingReport => Context.PingReport;

    public static JsonTypeInfo<RevokeResult> RevokeResult => Context.RevokeResult;

    public static JsonTypeInfo<GrantAdminRequest> GrantAdminRequest => Context.GrantAdminRequest;

    public static JsonTypeInfo<ApiErrorEnvelope> ErrorEnvelope => Context.ApiErrorEnvelope;

    public static JsonTypeInfo<JoinStreamLine> JoinStreamLine => Context.JoinStreamLine;

    private static JsonSerializerOptions CreateOptions() => new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = new ApiNamingPolicy(),
        DictionaryKeyPolicy = null,
        // Read by people (curl, --json) and by our client, never embedded in HTML: keep ' — … as they are.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters =
        {
            new JsonStringEnumConverter<NodePhase>(JsonNamingPolicy.CamelCase, allowIntegerValues: false),
            new JsonStringEnumConverter<ControlErrorKind>(JsonNamingPolicy.CamelCase, allowIntegerValues: false),
        },
    };

    /// <summary>camelCase, with "IPv4…"/"IPv6…" at the start of a name turned into "ipv4…"/"ipv6…".</summary>
    private sealed class ApiNamingPolicy : JsonNamingPolicy
    {
        public override string ConvertName(string name)
            => name.StartsWith("IPv", StringComparison.Ordinal) ? string.Concat("ipv", name.AsSpan(3)) : CamelCase.ConvertName(name);
    }
}
