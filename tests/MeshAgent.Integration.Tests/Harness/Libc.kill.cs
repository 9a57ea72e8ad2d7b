using System.Runtime.InteropServices;

namespace MeshAgent.Integration.Tests.Harness;

internal static partial class Libc
{
    internal const int SIGKILL = 9;
    internal const int SIGTERM = 15;

    // kill(2). Only ever called with the PID of a child this harness started and has not yet
    // seen exit, so the PID cannot have been recycled for someone else's process.
    [LibraryImport("libc", SetLastError = true)]
    internal static partial int kill(int pid, int sig);
}
