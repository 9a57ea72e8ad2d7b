namespace MeshAgent.Integration.Tests.Harness;

/// <summary>Options of <see cref="ProcessRunner.RunAsync"/>.</summary>
public sealed record RunOptions
{
    public static RunOptions Default { get; } = new();

    /// <summary>The process is killed and the run fails after this long (default 30 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Written to the process's standard input, which is then closed. Null: empty input.</summary>
    public string? StandardInput { get; init; }

    /// <summary>Added to (or overriding) the inherited environment.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Throw <see cref="CommandFailedException"/> on a non-zero exit status (default true).</summary>
    public bool Check { get; init; } = true;
}
