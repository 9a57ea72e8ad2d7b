namespace MeshAgent.Integration.Tests.Harness;

/// <summary>Outcome of a command run to completion by <see cref="ProcessRunner.RunAsync"/>.</summary>
/// <param name="CommandLine">The command, shell-quoted for humans (it was not run through a shell).</param>
/// <param name="ExitCode">The exit status; 128 + N when killed by signal N; -1 when it timed out.</param>
public sealed record ProcessResult(
    string CommandLine,
    int ExitCode,
    string StandardOutput,
    string StandardError,
    TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;
}
