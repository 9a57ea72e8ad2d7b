using System.Net;

namespace MeshAgent.Engine.Nat;

/// <summary>How a <see cref="StunClient"/> query ended.</summary>
public enum StunResultStatus
{
    /// <summary>A Binding success response with a mapped address.</summary>
    Success,

    /// <summary>The server answered with an error response (<see cref="StunResult.ErrorCode"/>, <see cref="StunResult.ErrorReason"/>).</summary>
    ErrorResponse,

    /// <summary>A response matched the transaction but cannot be used (no mapped address, unknown comprehension-required attribute): the transaction failed (RFC 8489 §7.3.3).</summary>
    InvalidResponse,

    /// <summary>No response within the retransmission schedule or the caller's timeout.</summary>
    Timeout,
}

/// <summary>Outcome of one STUN Binding transaction. Immutable.</summary>
public sealed record StunResult
{
    public required StunResultStatus Status { get; init; }

    /// <summary>The server queried.</summary>
    public required IPEndPoint Server { get; init; }

    /// <summary>The server-reflexive endpoint: this socket's address and port as the server saw them. Set on success.</summary>
    public IPEndPoint? ReflexiveEndPoint { get; init; }

    /// <summary>
    /// Time from the latest transmission to the response. With retransmissions the response may
    /// answer an earlier copy (Karn's ambiguity), so the value then errs low; it is exact when
    /// <see cref="Transmissions"/> is 1.
    /// </summary>
    public TimeSpan RoundTripTime { get; init; }

    /// <summary>Requests sent (1 = no retransmission).</summary>
    public int Transmissions { get; init; }

    /// <summary>ERROR-CODE of an error response (300–699), else 0.</summary>
    public int ErrorCode { get; init; }

    /// <summary>The error response's reason phrase, if any.</summary>
    public string? ErrorReason { get; init; }

    /// <summary>The server's SOFTWARE attribute, if it sent one.</summary>
    public string? ServerSoftware { get; init; }

    /// <summary>For failures: what went wrong, for a person (also in <see cref="ToString"/>).</summary>
    public string? Problem { get; init; }

    public bool IsSuccess => Status == StunResultStatus.Success;

    public override string ToString() => Status switch
    {
        StunResultStatus.Success => $"STUN {Server}: reflexive {ReflexiveEndPoint}, RTT {RoundTripTime.TotalMilliseconds:0.0} ms ({Transmissions} transmission(s))",
        _ => $"STUN {Server}: {Status}: {Problem}",
    };
}
