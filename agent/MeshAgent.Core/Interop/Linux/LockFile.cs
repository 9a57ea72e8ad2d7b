using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;
using MeshAgent.Core.Net;

namespace MeshAgent.Core.Interop.Linux;

/// <summary>
/// An exclusive flock(2) on a file, held until <see cref="Dispose"/> or process death (the kernel drops
/// it with the last descriptor, so a crashed owner never leaves a stale lock behind — unlike a pid file
/// that is trusted for its mere existence). The file also carries a short text of the owner's (its pid),
/// which a refused contender reads back to say who holds it.
/// </summary>
/// <remarks>
/// The lock belongs to the open file description, so a second <see cref="TryAcquire"/> of the same path
/// fails even inside the same process. The file is never deleted: deleting a lock file races with a
/// contender that opened the old inode and would then lock a file nobody else sees.
/// The BCL's own FileStream locking is not used: it takes a shared flock on every plain read of the file
/// (so the contender could not read the owner text), and DOTNET_SYSTEM_IO_DISABLEFILELOCKING turns it off.
/// </remarks>
public sealed class LockFile : IDisposable
{
    private const int MaxOwnerTextBytes = 256;

    private readonly SafeFdHandle _handle;

    private LockFile(string path, SafeFdHandle handle)
    {
        Path = path;
        _handle = handle;
    }

    public string Path { get; }

    /// <summary>
    /// Opens <paramref name="path"/> (created with <paramref name="mode"/> less the umask if missing) and
    /// locks it exclusively without waiting. On success the file's content is replaced by
    /// <paramref name="ownerText"/>. When another open file description holds the lock, returns false and
    /// <paramref name="holderText"/> is what the holder wrote (empty if it has not written yet).
    /// </summary>
    /// <exception cref="NativeCallException">
    /// The file could not be opened, locked or written; <see cref="NativeCallException.Errno"/> says why
    /// (EACCES, EROFS, ENOTDIR, EISDIR, …).
    /// </exception>
    public static bool TryAcquire(string path, UnixFileMode mode, string ownerText, [NotNullWhen(true)] out LockFile? lockFile, out string holderText)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(ownerText);
        lockFile = null;
        holderText = string.Empty;

        int fd = Interop.Libc.open(path, Interop.Libc.O_RDWR | Interop.Libc.O_CREAT | Interop.Libc.O_CLOEXEC, (uint)mode);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new NativeCallException($"opening lock file {path} failed: {Errno.Describe(errno)}", errno);
        }

        var handle = new SafeFdHandle(fd);
        try
        {
            while (Interop.Libc.flock(handle, Interop.Libc.LOCK_EX | Interop.Libc.LOCK_NB) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Libc.EINTR)
                {
                    continue;
                }

                // EWOULDBLOCK is EAGAIN on Linux.
                if (errno == Interop.Libc.EAGAIN)
                {
                    holderText = ReadText(handle, path);
                    handle.Dispose();
                    return false;
                }

                throw new NativeCallException($"locking {path} failed: {Errno.Describe(errno)}", errno);
            }

            Truncate(handle, path);
            WriteAll(handle, path, Encoding.UTF8.GetBytes(ownerText));
            lockFile = new LockFile(path, handle);
            return true;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Empties the owner text (so nobody reads a stale owner) and releases the lock.</summary>
    public void Dispose()
    {
        if (_handle.IsClosed)
        {
            return;
        }

        // Best effort: the close below releases the lock whatever happens here. The explicit LOCK_UN
        // matters when another thread forks a child at this moment: until that child execs, it shares
        // our open file description (O_CLOEXEC only acts at exec), and the lock would outlive our close.
        _ = Interop.Libc.ftruncate(_handle, 0);
        _ = Interop.Libc.flock(_handle, Interop.Libc.LOCK_UN);
        _handle.Dispose();
    }

    private static unsafe string ReadText(SafeFdHandle handle, string path)
    {
        byte* buffer = stackalloc byte[MaxOwnerTextBytes];
        int total = 0;
        while (total < MaxOwnerTextBytes)
        {
            nint n = Interop.Libc.read(handle, buffer + total, (nuint)(MaxOwnerTextBytes - total));
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Libc.EINTR)
                {
                    continue;
                }

                throw new NativeCallException($"reading lock file {path} failed: {Errno.Describe(errno)}", errno);
            }

            if (n == 0)
            {
                break;
            }

            total += (int)n;
        }

        return Encoding.UTF8.GetString(buffer, total);
    }

    private static void Truncate(SafeFdHandle handle, string path)
    {
        while (Interop.Libc.ftruncate(handle, 0) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Interop.Libc.EINTR)
            {
                throw new NativeCallException($"truncating lock file {path} failed: {Errno.Describe(errno)}", errno);
            }
        }
    }

    private static unsafe void WriteAll(SafeFdHandle handle, string path, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* start = bytes)
        {
            int written = 0;
            while (written < bytes.Length)
            {
                nint n = Interop.Libc.write(handle, start + written, (nuint)(bytes.Length - written));
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.Libc.EINTR)
                    {
                        continue;
                    }

                    throw new NativeCallException($"writing lock file {path} failed: {Errno.Describe(errno)}", errno);
                }

                written += (int)n;
            }
        }
    }
}
