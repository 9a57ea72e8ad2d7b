using System.Runtime.InteropServices;
using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>Turns Linux errno values into text for people: "file exists (EEXIST)".</summary>
public static class Errno
{
    /// <summary>The errno's C name ("EEXIST"), or "errno N" for one we do not name.</summary>
    public static string Name(int errno) => errno switch
    {
        Libc.EPERM => "EPERM",
        Libc.ENOENT => "ENOENT",
        Libc.ESRCH => "ESRCH",
        Libc.EINTR => "EINTR",
        Libc.EIO => "EIO",
        Libc.ENXIO => "ENXIO",
        Libc.EBADF => "EBADF",
        Libc.EAGAIN => "EAGAIN",
        Libc.ENOMEM => "ENOMEM",
        Libc.EACCES => "EACCES",
        Libc.EFAULT => "EFAULT",
        Libc.EBUSY => "EBUSY",
        Libc.EEXIST => "EEXIST",
        Libc.ENODEV => "ENODEV",
        Libc.EINVAL => "EINVAL",
        Libc.EMFILE => "EMFILE",
        Libc.ENOSPC => "ENOSPC",
        Libc.ERANGE => "ERANGE",
        Libc.EBADFD => "EBADFD",
        Libc.EMSGSIZE => "EMSGSIZE",
        Libc.ENOPROTOOPT => "ENOPROTOOPT",
        Libc.EPROTONOSUPPORT => "EPROTONOSUPPORT",
        Libc.EOPNOTSUPP => "EOPNOTSUPP",
        Libc.EAFNOSUPPORT => "EAFNOSUPPORT",
        Libc.EADDRINUSE => "EADDRINUSE",
        Libc.EADDRNOTAVAIL => "EADDRNOTAVAIL",
        Libc.ENETDOWN => "ENETDOWN",
        Libc.ENETUNREACH => "ENETUNREACH",
        Libc.ENOBUFS => "ENOBUFS",
        Libc.ECONNREFUSED => "ECONNREFUSED",
        Libc.EHOSTUNREACH => "EHOSTUNREACH",
        _ => $"errno {errno}",
    };

    /// <summary>
    /// Lower-case description with the C name: "file exists (EEXIST)". EPERM reads "permission denied"
    /// rather than strerror's "operation not permitted": for everything we do it means a missing capability.
    /// </summary>
    public static string Describe(int errno)
    {
        string text = errno == Libc.EPERM ? "permission denied" : Marshal.GetPInvokeErrorMessage(errno);
        if (text.Length > 0 && char.IsUpper(text[0]))
        {
            text = char.ToLowerInvariant(text[0]) + text[1..];
        }

        return $"{text} ({Name(errno)})";
    }
}
