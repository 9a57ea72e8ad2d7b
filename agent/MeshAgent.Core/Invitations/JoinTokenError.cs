namespace MeshAgent.Core.Invitations;

/// <summary>What is wrong with a join token text. Each kind has its own message and CLI hint.</summary>
public enum JoinTokenErrorKind
{
    None,

    /// <summary>Not a join token at all: empty, or does not start with "mesh1:".</summary>
    NotAToken,

    /// <summary>Characters are missing: the copy stopped early (or one was dropped).</summary>
    Truncated,

    /// <summary>A character is wrong, extra or not part of the alphabet, or a checksum does not match.</summary>
    Damaged,

    /// <summary>A well-formed token of a format this build does not read (a newer MeshAgent made it).</summary>
    UnsupportedVersion,

    /// <summary>The token is intact but past its expiry.</summary>
    Expired,
}

/// <summary>
/// The outcome of parsing a join token: <see cref="JoinTokenErrorKind.None"/> with an empty message
/// on success, otherwise a kind and a message for the person holding the token (what is wrong and
/// what to do next).
/// </summary>
public readonly record struct JoinTokenError(JoinTokenErrorKind Kind, string Message)
{
    public static JoinTokenError None => new(JoinTokenErrorKind.None, string.Empty);

    public bool IsError => Kind != JoinTokenErrorKind.None;

    internal static JoinTokenError NotAToken() =>
        new(JoinTokenErrorKind.NotAToken, $"this is not a MeshAgent join token (it must start with {JoinToken.Prefix})");

    internal static JoinTokenError Truncated(int got, int? expected) =>
        new(JoinTokenErrorKind.Truncated, expected is int e
            ? $"the join token is truncated (got {got} characters, expected {e}) — copy the whole line starting with {JoinToken.Prefix}"
            : $"the join token is truncated (got {got} characters) — copy the whole line starting with {JoinToken.Prefix}");

    internal static JoinTokenError Damaged(string detail) =>
        new(JoinTokenErrorKind.Damaged, $"the join token is damaged ({detail}) — copy the whole line starting with {JoinToken.Prefix} again exactly, or ask an admin for a new one with meshagent invite");

    internal static JoinTokenError UnsupportedVersion(string what) =>
        new(JoinTokenErrorKind.UnsupportedVersion, $"this join token uses {what}, which this meshagent does not read (it reads {JoinToken.Prefix} tokens of layout {JoinToken.LayoutVersion}) — upgrade meshagent on this machine, or ask the admin for a token made by the same version");

    internal static JoinTokenError Expired(DateTimeOffset expiresAt, DateTimeOffset now) =>
        new(JoinTokenErrorKind.Expired, $"the join token expired at {expiresAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z ({Describe(now - expiresAt)} ago) — ask an admin for a new one with meshagent invite");

    private static string Describe(TimeSpan span) => span switch
    {
        { TotalMinutes: < 1 } => $"{Math.Max(0, (int)span.TotalSeconds)} s",
        { TotalHours: < 1 } => $"{(int)span.TotalMinutes} min",
        { TotalDays: < 2 } => $"{(int)span.TotalHours} h {span.Minutes} min",
        _ => $"{(int)span.TotalDays} days",
    };
}
