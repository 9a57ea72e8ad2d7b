using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop;

internal static partial class Sodium
{
    /// <summary>Fills <paramref name="buf"/> from the kernel CSPRNG (getrandom(2) on Linux).</summary>
    [LibraryImport(LibraryName)]
    internal static unsafe partial void randombytes_buf(byte* buf, nuint size);

    [LibraryImport(LibraryName)]
    internal static partial uint randombytes_random();

    /// <summary>Uniform in [0, upper_bound) without modulo bias; returns 0 when upper_bound &lt; 2.</summary>
    [LibraryImport(LibraryName)]
    internal static partial uint randombytes_uniform(uint upper_bound);
}
