using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MeshAgent.Integration.Tests.Harness;

internal static partial class Libc
{
    internal const int CLONE_NEWNET = 0x40000000;

    // setns(2). For CLONE_NEWNET it moves only the calling thread, which is what lets
    // NetworkNamespace.RunInside create sockets inside a namespace from this process.
    [LibraryImport("libc", SetLastError = true)]
    internal static partial int setns(SafeFileHandle fd, int nstype);
}
