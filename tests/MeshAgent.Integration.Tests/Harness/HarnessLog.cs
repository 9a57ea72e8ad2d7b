using System.Diagnostics;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// Timestamped harness diagnostics (commands run, cleanup problems) written to the test's
/// output, which xunit shows for failed tests. Safe to call from any thread and after the
/// test has finished (xunit then rejects writes; they are dropped).
/// </summary>
public sealed class HarnessLog
{
    private readonly ITestOutputHelper? _output;
    private readonly long _start = Stopwatch.GetTimestamp();

    public HarnessLog(ITestOutputHelper? output) => _output = output;

    /// <summary>A log that drops everything (for helpers used outside a test).</summary>
    public static HarnessLog None { get; } = new(null);

    public void Write(string message)
    {
        if (_output is null)
        {
            return;
        }
        try
        {
            _output.WriteLine($"[{Stopwatch.GetElapsedTime(_start).TotalSeconds,7:0.000}] {message}");
        }
        catch (InvalidOperationException)
        {
            // "There is no currently active test": a late write from a background process.
        }
    }
}
