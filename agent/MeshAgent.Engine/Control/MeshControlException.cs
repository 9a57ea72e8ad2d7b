namespace MeshAgent.Engine.Control;

/// <summary>Why a control request failed, so the API can pick a status code and the CLI an exit code.</summary>
public enum ControlErrorKind
{
    /// <summary>The request itself is malformed (bad name, bad CIDR, damaged token). HTTP 400.</summary>
    InvalidInput,

    /// <summary>Not allowed from this node (not an admin). HTTP 403.</summary>
    Forbidden,

    /// <summary>No such member. HTTP 404.</summary>
    NotFound,

    /// <summary>The node's state does not allow it (already in a network, not in one, token used). HTTP 409.</summary>
    Conflict,

    /// <summary>Another node did not answer or refused (inviter unreachable, join refused). HTTP 502.</summary>
    Remote,

    /// <summary>This machine failed (TUN, state directory). HTTP 500.</summary>
    Local,
}

/// <summary>A control request that failed; <see cref="Exception.Message"/> is for humans: what failed, why, what to do.</summary>
public sealed class MeshControlException(ControlErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public ControlErrorKind Kind { get; } = kind;
}
