using System.Runtime.InteropServices;
using MeshAgent.Core.Net;

namespace MeshAgent.Core.Interop.Linux;

/// <summary>
/// Durability the BCL does not offer: fsync of a directory, which makes a rename (or create, or
/// unlink) inside it survive a power cut. <c>FileStream.Flush(true)</c> covers a file's own bytes;
/// only the directory's fsync covers the entry that names them.
/// </summary>
public static class FileSync
{
    /// <summary>
    /// fsync(2)s <paramref name="directory"/>. File systems that cannot sync a directory (EINVAL, as
    /// some FUSE and network file systems answer) are taken as having nothing to flush.
    /// </summary>
    /// <exception cref="NativeCallException">opening or syncing failed (EACCES, EIO, ENOSPC, …).</exception>
    public static void SyncDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);

        // O_RDONLY without O_DIRECTORY: that flag's value differs between x86 and arm (Interop.Fcntl.cs),
        // and a directory opens read-only without it.
        int fd = Interop.Libc.open(directory, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeCallException($"opening directory {directory} to fsync it failed: {Errno.Describe(errno)}", errno);
        }

        using var handle = new SafeFdHandle(fd);
        while (Interop.Libc.fsync(handle) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Interop.Libc.EINTR)
            {
                continue;
            }

            if (errno == Interop.Libc.EINVAL)
            {
                return;
            }

            throw new NativeCallException($"fsync of directory {directory} failed: {Errno.Describe(errno)}", errno);
        }
    }
}
