using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// A long-running process started by the harness. Its stdout and stderr are kept in a bounded
/// buffer (the last <see cref="MaxLines"/> lines) for diagnostics. Signals go to its PID only,
/// and only while it has not been seen to exit (after that the PID may belong to someone else).
/// Thread-safe.
/// </summary>
public sealed class ProcessHandle : IAsyncDisposable
{
    public const int MaxLines = 2000;

    private static readonly TimeSpan DefaultGrace = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly HarnessLog _log;
    // Each line with the Stopwatch timestamp at which it was read (for timing measurements).
    private readonly Queue<(long At, string Line)> _lines = new();
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _lineCount;

    internal ProcessHandle(string label, string commandLine, Process process, HarnessLog log)
    {
        Label = label;
        CommandLine = commandLine;
        _process = process;
        _log = log;
        process.OutputDataReceived += (_, e) => Append(e.Data, "");
        process.ErrorDataReceived += (_, e) => Append(e.Data, "stderr: ");
    }

    /// <summary>Short name for messages, e.g. "wireguard-go alice".</summary>
    public string Label { get; }

    public string CommandLine { get; }

    public int Pid { get; private set; }

    public bool HasExited => _process.HasExited;

    /// <summary>Exit status once exited (128 + N when killed by signal N), else null.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Number of output lines seen so far (including those dropped from the buffer).</summary>
    public long LineCount => Interlocked.Read(ref _lineCount);

    internal void OnStarted()
    {
        Pid = _process.Id;
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _log.Write($"started {Label} (pid {Pid}): {CommandLine}");
    }

    /// <summary>The last <paramref name="maxLines"/> lines of output, stderr lines prefixed "stderr: ".</summary>
    public string RecentOutput(int maxLines = 60)
    {
        lock (_lines)
        {
            if (_lines.Count == 0)
            {
                return "(no output)\n";
            }
            var text = new StringBuilder();
            var skip = Math.Max(0, _lines.Count - maxLines);
            if (skip > 0 || _lineCount > _lines.Count)
            {
                text.Append($"({_lineCount - _lines.Count + skip} earlier lines omitted)\n");
            }
            foreach (var (_, line) in _lines.Skip(skip))
            {
                text.Append(line).Append('\n');
            }
            return text.ToString();
        }
    }

    /// <summary>True if a buffered output line contains <paramref name="text"/> (ordinal).</summary>
    public bool OutputContains(string text)
    {
        lock (_lines)
        {
            return _lines.Any(l => l.Line.Contains(text, StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// The first buffered line read at or after <paramref name="since"/> (a <see cref="Stopwatch.GetTimestamp"/>
    /// value) that contains <paramref name="text"/> (ordinal), with the time it arrived, or null. The time is
    /// when this process read the line from the pipe: a few milliseconds after the program wrote it, more on a
    /// loaded machine. Text is the line as <see cref="RecentOutput"/> shows it.
    /// </summary>
    public (long At, string Text)? FindLine(string text, long since = 0)
    {
        lock (_lines)
        {
            foreach (var (at, line) in _lines)
            {
                if (at >= since && line.Contains(text, StringComparison.Ordinal))
                {
                    return (at, line);
                }
            }
            return null;
        }
    }

    /// <summary>Sends <paramref name="signal"/> to the PID unless the process has already exited.</summary>
    public void Signal(int signal)
    {
        if (_process.HasExited)
        {
            return;
        }
        if (Libc.kill(Pid, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            const int ESRCH = 3;
            if (errno != ESRCH)
            {
                throw new InvalidOperationException($"kill({Pid}, {signal}) for {Label} failed: errno {errno}");
            }
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; true if it did.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        // Polls HasExited rather than Process.WaitForExitAsync, which also waits for the
        // output pipes to close and so would hang on a grandchild that inherited them.
        var started = Stopwatch.GetTimestamp();
        while (!_process.HasExited)
        {
            if (Stopwatch.GetElapsedTime(started) >= timeout)
            {
                return false;
            }
            await Task.Delay(20);
        }
        return true;
    }

    /// <summary>
    /// Stops the process: SIGTERM, then SIGKILL if it is still running after
    /// <paramref name="grace"/> (default 2 s). Idempotent; never throws for a process that is gone.
    /// </summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (_process.HasExited)
        {
            return;
        }
        Signal(Libc.SIGTERM);
        if (await WaitForExitAsync(grace ?? DefaultGrace))
        {
            _log.Write($"stopped {Label} (pid {Pid}) with SIGTERM: status {_process.ExitCode}");
            return;
        }
        _log.Write($"{Label} (pid {Pid}) ignored SIGTERM for {(grace ?? DefaultGrace).TotalSeconds:0.#} s; sending SIGKILL");
        Signal(Libc.SIGKILL);
        if (!await WaitForExitAsync(TimeSpan.FromSeconds(10)))
        {
            _log.Write($"{Label} (pid {Pid}) still running 10 s after SIGKILL (stuck in the kernel?)");
        }
    }

    /// <summary>Stops the process (see <see cref="StopAsync"/>). The handle stays usable for diagnostics.</summary>
    public async ValueTask DisposeAsync() => await StopAsync();

    public override string ToString() => $"{Label} (pid {Pid})";

    private void Append(string? line, string prefix)
    {
        if (line is null)
        {
            return;
        }
        var now = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(_started, now).TotalSeconds;
        lock (_lines)
        {
            _lines.Enqueue((now, $"{elapsed,7:0.000} {prefix}{line}"));
            _lineCount++;
            while (_lines.Count > MaxLines)
            {
                _lines.Dequeue();
            }
        }
    }
}
