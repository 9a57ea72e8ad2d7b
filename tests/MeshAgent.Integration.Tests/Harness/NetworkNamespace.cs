using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// A named Linux network namespace "ma-&lt;id&gt;-&lt;label&gt;" with <c>lo</c> up and IPv6 DAD off.
/// Every command goes through <c>ip -n</c> or <c>ip netns exec</c>, so nothing here touches the
/// root namespace's links, addresses or routes. Processes started with <see cref="StartProcess"/>
/// are tracked by PID; disposing stops them (SIGTERM, SIGKILL after 2 s) and deletes the
/// namespace. Dispose never throws (a cleanup exception would hide the test's own failure);
/// cleanup problems go to the test log. Namespaces still alive when the test process exits
/// normally are cleaned up by a ProcessExit hook.
/// </summary>
public sealed partial class NetworkNamespace : IAsyncDisposable, IDisposable
{
    /// <summary>Prefix of every namespace this harness creates.</summary>
    public const string NamePrefix = "ma-";

    /// <summary>Longest label: keeps names derived from it within IFNAMSIZ (15 characters).</summary>
    public const int MaxLabelLength = 10;

    private static readonly ConcurrentDictionary<NetworkNamespace, byte> Live = new();
    private static int _exitHookInstalled;

    private readonly List<ProcessHandle> _processes = [];
    private int _disposed;

    private NetworkNamespace(string name, string id, string label, HarnessLog log)
    {
        Name = name;
        Id = id;
        Label = label;
        Log = log;
    }

    /// <summary>Full name, as used by <c>ip netns</c>: "ma-&lt;id&gt;-&lt;label&gt;".</summary>
    public string Name { get; }

    /// <summary>The random part of the name (shared by all namespaces of one <see cref="Lab"/>).</summary>
    public string Id { get; }

    /// <summary>The caller's short name, e.g. "alice".</summary>
    public string Label { get; }

    public HarnessLog Log { get; }

    /// <summary>True once disposal has started.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Processes started in this namespace (running or not).</summary>
    public IReadOnlyList<ProcessHandle> Processes
    {
        get
        {
            lock (_processes)
            {
                return [.. _processes];
            }
        }
    }

    /// <summary>Creates a namespace with a fresh random id. Checks <see cref="Requirements"/> first.</summary>
    public static Task<NetworkNamespace> CreateAsync(string label, HarnessLog? log = null, CancellationToken cancellationToken = default)
        => CreateAsync(label, NewId(5), log ?? HarnessLog.None, cancellationToken);

    internal static async Task<NetworkNamespace> CreateAsync(string label, string id, HarnessLog log, CancellationToken cancellationToken)
    {
        Requirements.EnsureNetnsTestsCanRun();
        if (!LabelPattern().IsMatch(label))
        {
            throw new ArgumentException(
                $"namespace label '{label}' is invalid: use 1-{MaxLabelLength} lowercase letters, digits or '-', starting with a letter",
                nameof(label));
        }
        var name = $"{NamePrefix}{id}-{label}";
        // "ip netns add" fails on an existing name, so two runs can never share a namespace.
        await ProcessRunner.RunAsync(["ip", "netns", "add", name], null, cancellationToken);
        var ns = new NetworkNamespace(name, id, label, log);
        Register(ns);
        log.Write($"created namespace {name}");
        try
        {
            // One process for all three (labs create dozens of namespaces). DAD off before any
            // interface exists, so link-local addresses are usable at once too (addresses the
            // harness adds also carry "nodad").
            await ns.ExecAsync(["sh", "-c",
                "ip link set lo up && echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad && echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad"],
                RunOptions.Default);
        }
        catch
        {
            await ns.DisposeAsync();
            throw;
        }
        return ns;
    }

    /// <summary>Runs a command inside the namespace (<c>ip netns exec</c>); throws on failure.</summary>
    public Task<ProcessResult> ExecAsync(params string[] command) => ExecAsync(command, RunOptions.Default);

    /// <summary>Runs a command inside the namespace (<c>ip netns exec</c>).</summary>
    public Task<ProcessResult> ExecAsync(IReadOnlyList<string> command, RunOptions options, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return RunLoggedAsync(["ip", "netns", "exec", Name, .. command], options, cancellationToken);
    }

    /// <summary>Runs <c>ip -n &lt;name&gt; args…</c>; throws on failure.</summary>
    public Task<ProcessResult> IpAsync(params string[] args)
    {
        ThrowIfDisposed();
        return RunLoggedAsync(["ip", "-n", Name, .. args], RunOptions.Default, CancellationToken.None);
    }

    /// <summary>
    /// Runs several <c>ip</c> commands (each without the leading "ip", e.g. "addr add 10.0.0.1/24
    /// dev eth0") in one process, <c>ip -n &lt;name&gt; -batch -</c>: in order, stopping at the first
    /// failure, which the exception's output names ("Command failed -:&lt;line&gt;"). A process start
    /// costs 5–15 ms here, so labs batch.
    /// </summary>
    public async Task<ProcessResult> IpBatchAsync(params string[] commands)
    {
        ThrowIfDisposed();
        var listing = string.Join("; ", commands);
        try
        {
            var result = await ProcessRunner.RunAsync(["ip", "-n", Name, "-batch", "-"], new RunOptions { StandardInput = string.Join('\n', commands) + "\n" });
            Log.Write($"$ ip -n {Name} -batch: {listing}");
            return result;
        }
        catch (CommandFailedException e)
        {
            Log.Write($"$ ip -n {Name} -batch: {listing}  → FAILED: {e.Result.StandardError.Trim()}");
            throw;
        }
    }

    /// <summary>Loads an nftables ruleset (<c>nft -f -</c>) inside the namespace.</summary>
    public Task<ProcessResult> NftAsync(string ruleset)
        => ExecAsync(["nft", "-f", "-"], new RunOptions { StandardInput = ruleset });

    /// <summary>
    /// Sets sysctls of this namespace, e.g. ("net.ipv4.ip_forward", "1"). Writes /proc/sys from
    /// a shell inside the namespace, so it needs no procps.
    /// </summary>
    public Task SetSysctlsAsync(params (string Key, string Value)[] settings)
    {
        List<string> command = ["sh", "-c", "while [ $# -gt 0 ]; do printf '%s\\n' \"$2\" > \"$1\" || exit 1; shift 2; done", "sh"];
        foreach (var (key, value) in settings)
        {
            command.Add("/proc/sys/" + key.Replace('.', '/'));
            command.Add(value);
        }
        return ExecAsync(command, RunOptions.Default);
    }

    /// <summary>
    /// Starts a long-running process inside the namespace and tracks it: disposing the namespace
    /// stops it. The command should be the program itself (or <c>sh -c 'exec …'</c>): only the
    /// started PID is signalled, never its descendants.
    /// </summary>
    public ProcessHandle StartProcess(string label, IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment = null)
    {
        ThrowIfDisposed();
        // "ip netns exec" execs the command without forking, so the PID is the command's own.
        var handle = ProcessRunner.Start($"{label}@{Label}", ["ip", "netns", "exec", Name, .. command], environment, Log);
        lock (_processes)
        {
            _processes.Add(handle);
        }
        return handle;
    }

    /// <summary>One ICMP echo to <paramref name="destination"/>; true if answered within <paramref name="wait"/> (default 1 s).</summary>
    public async Task<bool> TryPingAsync(IPAddress destination, TimeSpan? wait = null)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling((wait ?? TimeSpan.FromSeconds(1)).TotalSeconds));
        var result = await ExecAsync(
            ["ping", "-n", "-c", "1", "-W", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), destination.ToString()],
            new RunOptions { Check = false, Timeout = TimeSpan.FromSeconds(seconds + 10) });
        return result.ExitCode == 0;
    }

    /// <summary>
    /// Pings <paramref name="destination"/> (<paramref name="count"/> echoes, 2 s wait each) and
    /// throws <see cref="CommandFailedException"/> with ping's output unless all are answered.
    /// </summary>
    public Task<ProcessResult> PingAsync(IPAddress destination, int count = 1)
        => ExecAsync(["ping", "-n", "-c", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", "0.2", "-W", "2", destination.ToString()],
            RunOptions.Default);

    /// <summary>PIDs of all processes in the namespace (<c>ip netns pids</c>), ours or not.</summary>
    public async Task<IReadOnlyList<int>> ListPidsAsync()
    {
        var result = await ProcessRunner.RunAsync(["ip", "netns", "pids", Name], new RunOptions { Check = false });
        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture))];
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a dedicated thread that has entered this namespace
    /// (setns(2) moves only that thread). Sockets created inside stay bound to the namespace
    /// after the thread leaves, so tests can talk UDP/TCP from this process as any host.
    /// </summary>
    public T RunInside<T>(Func<T> action)
    {
        ThrowIfDisposed();
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var original = File.OpenHandle("/proc/thread-self/ns/net");
                using var target = File.OpenHandle($"/run/netns/{Name}");
                if (Libc.setns(target, Libc.CLONE_NEWNET) != 0)
                {
                    throw new IOException($"setns into network namespace {Name} failed: errno {Marshal.GetLastPInvokeError()} (needs root)");
                }
                try
                {
                    result = action();
                }
                finally
                {
                    // Leave before the thread ends; if this fails the thread dies inside anyway.
                    Libc.setns(original, Libc.CLONE_NEWNET);
                }
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = $"netns {Name}",
        };
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }

    /// <summary>A UDP socket created inside this namespace and bound to <paramref name="localEndPoint"/>. Owned by the caller.</summary>
    public Socket OpenUdpSocket(IPEndPoint localEndPoint) => RunInside(() =>
    {
        var socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(localEndPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    });

    /// <summary>
    /// <paramref name="count"/> UDP sockets created inside this namespace, each bound to
    /// <paramref name="localEndPoint"/> (use port 0 for distinct ephemeral ports). Owned by the caller.
    /// </summary>
    public Socket[] OpenUdpSockets(int count, IPEndPoint localEndPoint) => RunInside(() =>
    {
        var sockets = new List<Socket>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                sockets.Add(socket);
                socket.Bind(localEndPoint);
            }
            return sockets.ToArray();
        }
        catch
        {
            sockets.ForEach(s => s.Dispose());
            throw;
        }
    });

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            await Task.WhenAll(Processes.Select(p => p.StopAsync()));
            var leftovers = await ListPidsAsync();
            if (leftovers.Count > 0)
            {
                // Not ours to kill (or descendants we did not start directly): report them. The
                // namespace lives on, unnamed, until they exit.
                Log.Write($"warning: processes not started by the harness are still in {Name}: "
                    + string.Join(", ", leftovers.Select(DescribePid)));
            }
            var deleted = await ProcessRunner.RunAsync(["ip", "netns", "del", Name], new RunOptions { Check = false });
            Log.Write(deleted.Succeeded
                ? $"deleted namespace {Name}"
                : $"warning: could not delete namespace {Name}: {deleted.StandardError.Trim()}");
        }
        catch (Exception e)
        {
            Log.Write($"warning: cleanup of namespace {Name} failed: {e}");
        }
        finally
        {
            Live.TryRemove(this, out _);
        }
    }

    public override string ToString() => Name;

    /// <summary>A random lowercase id of <paramref name="length"/> letters and digits.</summary>
    internal static string NewId(int length)
    {
        const string letters = "abcdefghijklmnopqrstuvwxyz";
        const string lettersAndDigits = letters + "0123456789";
        // Starts with a letter so names derived from it are valid in every tool.
        return RandomNumberGenerator.GetString(letters, 1) + RandomNumberGenerator.GetString(lettersAndDigits, length - 1);
    }

    internal static bool IsValidLabel(string label) => LabelPattern().IsMatch(label);

    private async Task<ProcessResult> RunLoggedAsync(IReadOnlyList<string> command, RunOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var result = await ProcessRunner.RunAsync(command, options, cancellationToken);
            Log.Write($"$ {result.CommandLine}{(result.Succeeded ? "" : $"  → status {result.ExitCode}")}");
            return result;
        }
        catch (CommandFailedException e)
        {
            Log.Write($"$ {e.Result.CommandLine}  → FAILED: {e.Result.StandardError.Trim()}");
            throw;
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    private static string DescribePid(int pid)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
            return $"{pid} ({cmdline})";
        }
        catch (IOException)
        {
            return pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static void Register(NetworkNamespace ns)
    {
        Live[ns] = 0;
        if (Interlocked.Exchange(ref _exitHookInstalled, 1) == 0)
        {
            // Last resort for a test run that ends without disposing (e.g. an aborted run).
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                foreach (var leftover in Live.Keys)
                {
                    leftover.Dispose();
                }
            };
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,9}$")]
    private static partial Regex LabelPattern();
}
