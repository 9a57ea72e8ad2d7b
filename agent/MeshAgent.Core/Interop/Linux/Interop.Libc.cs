namespace MeshAgent.Core.Interop.Linux;

/// <summary>
/// Linux libc bindings for the data plane (TUN, UDP batch IO, rtnetlink, eventfd/poll, setns).
/// </summary>
/// <remarks>
/// Conventions (STYLE rule 5, after dotnet/runtime <c>Common/src/Interop/Unix</c>):
/// one native function per file (<c>Interop.Libc.&lt;name&gt;.cs</c>), C names verbatim for functions,
/// structs, fields and constants, <c>SetLastError = true</c> on every call whose errno matters, and
/// callers read errno with <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/>
/// immediately after the call and loop on <see cref="EINTR"/>.
/// Every struct and constant here is checked against gcc by <c>tests/MeshAgent.Tests/Interop/LayoutTests</c>
/// (STYLE rule 6); that test fails if a constant or struct is added here without a line in <c>layout.c</c>.
/// Layouts assume an LP64 or ILP32 Linux ABI (size_t and pointers are <c>nuint</c>/pointers, so both work).
/// </remarks>
internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// "libc" is resolved by the runtime to the platform C library (libc.so.6 on glibc); the
        /// unversioned libc.so is a linker script on glibc and cannot be loaded directly.
        /// </summary>
        internal const string LibraryName = "libc";
    }
}
