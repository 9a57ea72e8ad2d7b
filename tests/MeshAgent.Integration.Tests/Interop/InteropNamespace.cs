using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using MeshAgent.Core.Interop.Linux;
using Xunit;

namespace MeshAgent.Integration.Tests.Interop;

/// <summary>
/// A throwaway network namespace for the interop tests (private to them; the shared harness lives in
/// Harness/). Created with <c>ip netns add</c>, deleted on Dispose even when the test failed. Code runs
/// inside it on dedicated threads that enter it with setns, so the test process's own namespace (and the
/// host's addresses and routes) are never touched.
/// </summary>
internal sealed class InteropNamespace : IDisposable
{
    private InteropNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>Creates a namespace with a unique name. Needs root (or CAP_SYS_ADMIN and CAP_NET_ADMIN).</summary>
    public static InteropNamespace Create()
    {
        Assert.True(Environment.IsPrivilegedProcess, "the interop integration tests create network namespaces and TUN devices: run them as root");
        string name = $"mi-{Guid.NewGuid():N}"[..11];
        RunIp(["netns", "add", name]);
        return new InteropNamespace(name);
    }

    /// <summary>Runs <paramref name="action"/> on a new thread inside the namespace and rethrows what it throws.</summary>
    public void Run(Action action, int timeoutMilliseconds = 60_000) => Start(action).Join(timeoutMilliseconds);

    /// <summary>Starts <paramref name="action"/> on a new thread inside the namespace; Join it to see its outcome.</summary>
    public NamespaceThread Start(Action action) => new(Name, action);

    /// <summary>Runs <c>ip -n NAME ARGS</c> and returns its standard output; fails the test on a non-zero exit.</summary>
    public string Ip(params string[] arguments) => RunIp(["-n", Name, .. arguments]);

    /// <summary>Runs <c>ip -n NAME -j ARGS</c> and parses the JSON it prints.</summary>
    public JsonElement IpJson(params string[] arguments)
    {
        string output = Ip(["-j", .. arguments]);
        using JsonDocument document = JsonDocument.Parse(string.IsNullOrWhiteSpace(output) ? "[]" : output);
        return document.RootElement.Clone();
    }

    public void Dispose()
    {
        try
        {
            RunIp(["netns", "delete", Name]);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Nothing else to do here; the failure text was already in the exception.
        }
    }

    private static string RunIp(string[] arguments)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} exited with {process.ExitCode}: {error.Result.Trim()}");
        }

        return output;
    }

    /// <summary>A dedicated thread that entered the namespace before running its action.</summary>
    internal sealed class NamespaceThread
    {
        private readonly Thread _thread;
        private ExceptionDispatchInfo? _failure;

        public NamespaceThread(string ns, Action action)
        {
            _thread = new Thread(() =>
            {
                try
                {
                    using NetNsScope scope = NetNs.Enter(ns);
                    action();
                }
                catch (Exception e)
                {
                    _failure = ExceptionDispatchInfo.Capture(e);
                }
            })
            {
                IsBackground = true,
                Name = $"netns {ns}",
            };
            _thread.Start();
        }

        /// <summary>Waits for the thread and rethrows its exception, if any.</summary>
        public void Join(int timeoutMilliseconds = 60_000)
        {
            Assert.True(_thread.Join(timeoutMilliseconds), $"{_thread.Name} did not finish within {timeoutMilliseconds} ms");
            _failure?.Throw();
        }
    }
}
