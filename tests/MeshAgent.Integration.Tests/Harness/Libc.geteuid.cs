using System.Runtime.InteropServices;

namespace MeshAgent.Integration.Tests.Harness;

internal static partial class Libc
{
    // geteuid(2): never fails.
    [LibraryImport("libc")]
    internal static partial uint geteuid();
}
