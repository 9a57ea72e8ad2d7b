using System.CommandLine;

namespace MeshAgent.Tests.Cli;

/// <summary>Runs the real `meshagent` command line in-process with captured stdout and stderr.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        // No ProcessTerminationTimeout: the test host's own Ctrl+C handling stays untouched.
        var configuration = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
        int exitCode = await Program.CreateRootCommand().Parse(args).InvokeAsync(configuration);
        return new Result(exitCode, output.ToString(), error.ToString());
    }
}
