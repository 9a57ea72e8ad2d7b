using System.Diagnostics;
using MeshAgent.Integration.Tests.Harness;
using Xunit;

namespace MeshAgent.Integration.Tests.HarnessTests;

public sealed class ProcessRunnerTests
{
    [Fact]
    public async Task A_failing_command_throws_with_its_command_line_exit_status_and_stderr()
    {
        var error = await Assert.ThrowsAsync<CommandFailedException>(
            () => ProcessRunner.RunAsync("sh", "-c", "echo partial; echo 'bad thing' >&2; exit 3"));

        Assert.Equal(3, error.Result.ExitCode);
        Assert.False(error.TimedOut);
        Assert.Contains("exit status 3: sh -c 'echo partial; echo '\\''bad thing'\\'' >&2; exit 3'", error.Message);
        Assert.Contains("stderr: bad thing", error.Message);
        Assert.Contains("stdout: partial", error.Message);
    }

    [Fact]
    public async Task Without_check_a_failure_is_returned_and_stdin_is_fed()
    {
        var result = await ProcessRunner.RunAsync(["sh", "-c", "cat; exit 4"], new RunOptions { Check = false, StandardInput = "fed" });

        Assert.Equal((4, "fed"), (result.ExitCode, result.StandardOutput));
    }

    [Fact]
    public async Task A_command_that_outlives_its_timeout_is_killed_and_reported()
    {
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<CommandFailedException>(
            () => ProcessRunner.RunAsync(["sleep", "30"], new RunOptions { Timeout = TimeSpan.FromMilliseconds(300) }));

        Assert.True(error.TimedOut);
        Assert.Contains("timed out", error.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_wait_that_times_out_says_what_it_awaited_and_shows_the_process_output()
    {
        var process = ProcessRunner.Start("chatty", ["sh", "-c", "echo hello-diagnostics; echo oops >&2; exec sleep 30"]);
        try
        {
            await ProcessRunner.WaitUntilAsync(() => process.LineCount >= 2, TimeSpan.FromSeconds(10), "chatty to print");

            var error = await Assert.ThrowsAsync<WaitTimeoutException>(() => ProcessRunner.WaitUntilAsync(
                () => false, TimeSpan.FromMilliseconds(200), "the impossible to happen", [process]));

            Assert.Contains("waiting for: the impossible to happen", error.Message);
            Assert.Contains("hello-diagnostics", error.Message);
            Assert.Contains("stderr: oops", error.Message);
            Assert.Contains($"pid {process.Pid}", error.Message);
        }
        finally
        {
            await process.StopAsync();
        }
        Assert.Equal(128 + 15, process.ExitCode);
    }

    [Fact]
    public async Task A_wait_fails_at_once_when_a_watched_process_exits()
    {
        var process = ProcessRunner.Start("short-lived", ["sh", "-c", "echo bye; exit 7"]);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<WaitTimeoutException>(() => ProcessRunner.WaitUntilAsync(
            () => false, TimeSpan.FromSeconds(30), "something the dead process should have done", [process]));

        Assert.Contains("exited with status 7", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task FindLine_returns_the_first_matching_line_read_after_the_given_time()
    {
        await using var process = ProcessRunner.Start("lines", ["sh", "-c", "echo 'path to x: relay'; sleep 0.3; echo 'path to x: direct'; sleep 0.3; echo 'path to x: relay'; exec sleep 30"]);
        await ProcessRunner.WaitUntilAsync(() => process.LineCount == 3, TimeSpan.FromSeconds(10), "three lines", [process]);

        var firstRelay = process.FindLine("path to x: relay");
        var direct = process.FindLine("path to x: direct");
        Assert.NotNull(firstRelay);
        Assert.NotNull(direct);
        Assert.EndsWith("path to x: relay", firstRelay.Value.Text);
        Assert.True(direct.Value.At > firstRelay.Value.At, "lines carry the time they arrived, in order");
        var secondRelay = process.FindLine("path to x: relay", since: direct.Value.At);
        Assert.NotNull(secondRelay);
        Assert.True(secondRelay.Value.At > direct.Value.At);
        Assert.Null(process.FindLine("path to x: direct", since: secondRelay.Value.At));
        Assert.Null(process.FindLine("never printed"));
    }
}
