namespace MeshAgent.Engine.Nat;

/// <summary>
/// Timing of <see cref="StunClient"/> transactions: RFC 8489 §6.2.1 retransmission, cut short by
/// <see cref="Timeout"/>. With the defaults a request goes out at 0, 0.5, 1.5 and 3.5 s and the
/// query fails at 5 s; with an unbounded timeout the RFC's full schedule is 0, 0.5, 1.5, 3.5, 7.5,
/// 15.5, 31.5 s and failure at 39.5 s (Rc = 7 transmissions, then Rm × RTO). Immutable; build
/// variants with <c>with</c>; <see cref="Validate"/> lists every problem by name.
/// </summary>
public sealed record StunClientOptions
{
    /// <summary>RTO: the first retransmission interval, doubled after each retransmission. RFC 8489 §6.2.1: 500 ms default (it must stay at least 500 ms on the internet).</summary>
    public TimeSpan InitialRto { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Rc: how many requests (the first plus retransmissions) one query sends at most. RFC 8489: 7.</summary>
    public int MaxTransmissions { get; init; } = 7;

    /// <summary>Rm: after the last request the client waits Rm × <see cref="InitialRto"/> before giving up. RFC 8489: 16.</summary>
    public int LastWaitMultiplier { get; init; } = 16;

    /// <summary>
    /// Default bound on one query (<see cref="StunClient.QueryAsync(System.Net.IPEndPoint, System.Threading.CancellationToken)"/>).
    /// 5 s: four transmissions, enough to ride out loss of 3 in a row; a mapping learned later than
    /// that is of little use to a hole punch that is already waiting, and `meshagent netcheck` should answer promptly.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>SOFTWARE attribute for requests (RFC 8489 §14.14); null (default) sends none, which keeps requests at 28 bytes.</summary>
    public string? Software { get; init; }

    /// <summary>Every problem, by property name; empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (InitialRto <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(InitialRto)} must be positive, got {InitialRto}");
        }

        if (MaxTransmissions < 1)
        {
            errors.Add($"{nameof(MaxTransmissions)} must be at least 1, got {MaxTransmissions}");
        }

        if (LastWaitMultiplier < 1)
        {
            errors.Add($"{nameof(LastWaitMultiplier)} must be at least 1, got {LastWaitMultiplier}");
        }

        if (Timeout <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(Timeout)} must be positive, got {Timeout}");
        }

        if (Software is not null && System.Text.Encoding.UTF8.GetByteCount(Software) > Core.Stun.StunMessageWriter.MaxTextBytes)
        {
            errors.Add($"{nameof(Software)} must be at most {Core.Stun.StunMessageWriter.MaxTextBytes} bytes of UTF-8");
        }

        return errors;
    }
}
