namespace MeshAgent.Core.Interop.Linux;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // <fcntl.h> open(2) flags (generic Linux values; x86, x86-64, arm, arm64). O_DIRECTORY and
        // O_NOFOLLOW are deliberately absent: arm and arm64 use other values for them than x86
        // (0x4000/0x8000 against 0x10000/0x20000), so a single constant would be wrong on one of them.
        internal const int O_RDONLY = 0x0;
        internal const int O_RDWR = 0x2;
        internal const int O_CREAT = 0x40;
        internal const int O_NONBLOCK = 0x800;
        internal const int O_CLOEXEC = 0x80000;
    }
}
