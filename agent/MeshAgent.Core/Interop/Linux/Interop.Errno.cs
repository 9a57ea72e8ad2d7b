namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // errno values the data plane and its setup handle by name (asm-generic/errno-base.h,
        // asm-generic/errno.h; identical on x86, x86-64, arm and arm64).
        internal const int EPERM = 1;
        internal const int ENOENT = 2;
        internal const int ESRCH = 3;
        internal const int EINTR = 4;
        internal const int EIO = 5;
        internal const int ENXIO = 6;
        internal const int EBADF = 9;
        internal const int EAGAIN = 11;
        internal const int ENOMEM = 12;
        internal const int EACCES = 13;
        internal const int EFAULT = 14;
        internal const int EBUSY = 16;
        internal const int EEXIST = 17;
        internal const int ENODEV = 19;
        internal const int ENOTDIR = 20;
        internal const int EISDIR = 21;
        internal const int EINVAL = 22;
        internal const int EMFILE = 24;
        internal const int ENOSPC = 28;
        internal const int EROFS = 30;
        internal const int ERANGE = 34;
        internal const int EBADFD = 77;
        internal const int EMSGSIZE = 90;
        internal const int ENOPROTOOPT = 92;
        internal const int EPROTONOSUPPORT = 93;
        internal const int EOPNOTSUPP = 95;
        internal const int EAFNOSUPPORT = 97;
        internal const int EADDRINUSE = 98;
        internal const int EADDRNOTAVAIL = 99;
        internal const int ENETDOWN = 100;
        internal const int ENETUNREACH = 101;
        internal const int ENOBUFS = 105;
        internal const int ECONNREFUSED = 111;
        internal const int EHOSTUNREACH = 113;
    }
}
