using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// Runs external commands for the integration tests: to completion with a timeout
/// (<see cref="RunAsync"/>), or in the background with output kept for diagnostics
/// (<see cref="Start"/>); and polls for conditions (<see cref="WaitUntilAsync(Func{Task{bool}}, TimeSpan, string, IEnumerable{ProcessHandle}?, CancellationToken)"/>).
/// Commands are argument vectors, never shell strings.
/// </summary>
public static class ProcessRunner
{
    private static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Runs <paramref name="command"/> to completion. With <see cref="RunOptions.Check"/> (the
    /// default) a non-zero exit status throws <see cref="CommandFailedException"/> carrying the
    /// command line, status and output. A timeout kills the process (and its descendants) and
    /// always throws.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(
        IReadOnlyList<string> command, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= RunOptions.Default;
        var startInfo = CreateStartInfo(command, options.Environment);
        startInfo.RedirectStandardInput = true;
        var commandLine = FormatCommandLine(command);

        using var process = new Process { StartInfo = startInfo };
        var started = Stopwatch.GetTimestamp();
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new CommandFailedException(commandLine,
                $"{e.Message}. Is '{command[0]}' installed and in PATH? See Requirements (tests need the packages .ci/run installs).", e);
        }

        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (options.StandardInput is { } input)
            {
                await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken);
            }
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The command exited without reading all its input; its exit status tells why.
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            try
            {
                // Everything in this tree was started by this call.
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
        }

        // A grandchild that inherited the pipes can hold them open after the command exited:
        // do not wait for it forever.
        var outputs = Task.WhenAll(stdout, stderr);
        await Task.WhenAny(outputs, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        var result = new ProcessResult(
            commandLine,
            timedOut ? -1 : process.ExitCode,
            stdout.IsCompletedSuccessfully ? stdout.Result : "(output not available)",
            stderr.IsCompletedSuccessfully ? stderr.Result : "(output not available)",
            Stopwatch.GetElapsedTime(started));

        cancellationToken.ThrowIfCancellationRequested();
        if (timedOut || (options.Check && result.ExitCode != 0))
        {
            throw new CommandFailedException(result, timedOut);
        }
        return result;
    }

    /// <summary>Runs <paramref name="command"/> to completion with the default options (throws on failure).</summary>
    public static Task<ProcessResult> RunAsync(params string[] command) => RunAsync(command, null);

    /// <summary>
    /// Starts a long-running process in the current (root) network namespace. Prefer
    /// <see cref="NetworkNamespace.StartProcess"/>, which also stops the process on dispose.
    /// </summary>
    public static ProcessHandle Start(
        string label, IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment = null, HarnessLog? log = null)
    {
        var startInfo = CreateStartInfo(command, environment);
        // Long-running processes get an empty stdin, never the test runner's.
        startInfo.RedirectStandardInput = true;
        var process = new Process { StartInfo = startInfo };
        var commandLine = FormatCommandLine(command);
        var handle = new ProcessHandle(label, commandLine, process, log ?? HarnessLog.None);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new CommandFailedException(commandLine,
                $"{e.Message}. Is '{command[0]}' installed and in PATH? See Requirements (tests need the packages .ci/run installs).", e);
        }
        handle.OnStarted();
        return handle;
    }

    /// <summary>
    /// Polls <paramref name="condition"/> until it returns true. On timeout throws
    /// <see cref="WaitTimeoutException"/> naming <paramref name="description"/> (write it as
    /// "what should become true", e.g. "alice pings 10.77.0.2 through the tunnel") with the
    /// recent output of <paramref name="processes"/>. If one of those processes exits while
    /// waiting, the wait fails at once: the processes passed are the ones that must stay up.
    /// Exceptions thrown by the condition propagate.
    /// </summary>
    public static async Task WaitUntilAsync(
        Func<Task<bool>> condition,
        TimeSpan timeout,
        string description,
        IEnumerable<ProcessHandle>? processes = null,
        CancellationToken cancellationToken = default)
    {
        var watched = processes?.ToArray() ?? [];
        var started = Stopwatch.GetTimestamp();
        var attempts = 0;
        while (true)
        {
            attempts++;
            if (await condition())
            {
                return;
            }
            if (watched.FirstOrDefault(p => p.HasExited) is { } dead)
            {
                throw new WaitTimeoutException(
                    $"gave up waiting for: {description} — {dead.Label} (pid {dead.Pid}) exited with status {dead.ExitCode} "
                    + $"after {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s.{DescribeProcesses(watched)}");
            }
            if (Stopwatch.GetElapsedTime(started) >= timeout)
            {
                throw new WaitTimeoutException(
                    $"timed out after {timeout.TotalSeconds:0.#} s ({attempts} attempts) waiting for: {description}.{DescribeProcesses(watched)}");
            }
            await Task.Delay(DefaultPollInterval, cancellationToken);
        }
    }

    /// <inheritdoc cref="WaitUntilAsync(Func{Task{bool}}, TimeSpan, string, IEnumerable{ProcessHandle}?, CancellationToken)"/>
    public static Task WaitUntilAsync(
        Func<bool> condition,
        TimeSpan timeout,
        string description,
        IEnumerable<ProcessHandle>? processes = null,
        CancellationToken cancellationToken = default)
        => WaitUntilAsync(() => Task.FromResult(condition()), timeout, description, processes, cancellationToken);

    /// <summary>Shell-quotes an argument vector for messages and logs.</summary>
    public static string FormatCommandLine(IEnumerable<string> command)
        => string.Join(' ', command.Select(Quote));

    private static string Quote(string argument)
    {
        if (argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@%+[]".Contains(c)))
        {
            return argument;
        }
        return "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    private static string DescribeProcesses(IReadOnlyList<ProcessHandle> processes)
    {
        if (processes.Count == 0)
        {
            return "";
        }
        var text = new StringBuilder();
        foreach (var p in processes)
        {
            var state = p.HasExited ? $"exited with status {p.ExitCode}" : "running";
            text.Append($"\n--- recent output of {p.Label} (pid {p.Pid}, {state}): {p.CommandLine}\n");
            text.Append(p.RecentOutput());
        }
        return text.ToString();
    }

    private static ProcessStartInfo CreateStartInfo(IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment)
    {
        if (command.Count == 0)
        {
            throw new ArgumentException("empty command", nameof(command));
        }
        var startInfo = new ProcessStartInfo(command[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in command.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                startInfo.Environment[key] = value;
            }
        }
        return startInfo;
    }
}
