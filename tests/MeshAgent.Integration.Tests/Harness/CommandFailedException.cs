namespace MeshAgent.Integration.Tests.Harness;

/// <summary>A command exited with a non-zero status, timed out, or could not be started.</summary>
public sealed class CommandFailedException : Exception
{
    public CommandFailedException(ProcessResult result, bool timedOut, string? hint = null)
        : base(Describe(result, timedOut, hint))
    {
        Result = result;
        TimedOut = timedOut;
    }

    public CommandFailedException(string commandLine, string message, Exception inner)
        : base($"could not start: {commandLine}\n{message}", inner)
    {
        Result = new ProcessResult(commandLine, -1, "", "", TimeSpan.Zero);
    }

    public ProcessResult Result { get; }

    public bool TimedOut { get; }

    private static string Describe(ProcessResult result, bool timedOut, string? hint)
    {
        var what = timedOut
            ? $"command timed out after {result.Duration.TotalSeconds:0.#} s and was killed"
            : $"command failed with exit status {result.ExitCode}";
        var text = $"{what}: {result.CommandLine}\n"
            + $"stderr: {Trim(result.StandardError)}\n"
            + $"stdout: {Trim(result.StandardOutput)}";
        return hint is null ? text : $"{text}\n{hint}";
    }

    private static string Trim(string s)
    {
        s = s.TrimEnd();
        if (s.Length == 0)
        {
            return "(empty)";
        }
        // Keep the end: the error is usually on the last lines.
        return s.Length <= 4000 ? s : "…" + s[^4000..];
    }
}
