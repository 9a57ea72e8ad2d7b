using System.Runtime.InteropServices;
using MeshAgent.Core.Net;

namespace MeshAgent.Core.Interop.Linux;

/// <summary>
/// Moves the calling OS thread into a named network namespace (the ones <c>ip netns add</c> creates
/// under /run/netns). Sockets, TUN devices and netlink sockets the thread creates afterwards belong
/// to that namespace for their whole life, whichever thread later uses them.
/// </summary>
/// <remarks>
/// setns(CLONE_NEWNET) affects only the calling thread. Use it on a dedicated thread you own, never
/// on a thread-pool thread: the pool would hand that thread, still in the namespace, to unrelated work.
/// </remarks>
public static class NetNs
{
    /// <summary>Where iproute2 bind-mounts named namespaces.</summary>
    public const string RunDirectory = "/run/netns";

    /// <summary>
    /// Enters namespace <paramref name="name"/> on the calling thread. Dispose the result on the same
    /// thread to return to the namespace the thread was in before.
    /// </summary>
    public static NetNsScope Enter(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/') || name is "." or "..")
        {
            throw new ArgumentException($"network namespace name '{name}' must not contain '/' or be '.'/'..'", nameof(name));
        }

        string attempt = $"entering network namespace {name}";
        SafeFdHandle previous = Open("/proc/thread-self/ns/net", attempt);
        try
        {
            using SafeFdHandle target = Open(Path.Combine(RunDirectory, name), attempt);
            Join(target, attempt);
        }
        catch
        {
            previous.Dispose();
            throw;
        }

        return new NetNsScope(previous);
    }

    internal static SafeFdHandle Open(string path, string attempt)
    {
        int fd = Interop.Libc.open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string hint = errno == Interop.Libc.ENOENT && path.StartsWith(RunDirectory, StringComparison.Ordinal)
                ? $" — create it with 'ip netns add {Path.GetFileName(path)}'"
                : string.Empty;
            throw new NativeCallException($"{attempt} failed: opening {path}: {Errno.Describe(errno)}{hint}", errno);
        }

        return new SafeFdHandle(fd);
    }

    internal static void Join(SafeFdHandle ns, string attempt)
    {
        if (Interop.Libc.setns(ns, Interop.Libc.CLONE_NEWNET) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string hint = errno == Interop.Libc.EPERM ? " — run as root or grant CAP_SYS_ADMIN" : string.Empty;
            throw new NativeCallException($"{attempt} failed: setns: {Errno.Describe(errno)}{hint}", errno);
        }
    }
}
