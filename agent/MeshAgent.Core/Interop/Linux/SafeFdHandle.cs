using System.Runtime.InteropServices;

namespace MeshAgent.Core.Interop.Linux;

/// <summary>
/// Owns one Linux file descriptor and closes it exactly once. P/Invokes that take it AddRef/Release
/// around the call, so a concurrent <see cref="SafeHandle.Dispose()"/> cannot close the fd under a
/// running syscall (the close happens when the last call returns).
/// </summary>
internal sealed class SafeFdHandle : SafeHandle
{
    public SafeFdHandle()
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    /// <summary>Takes ownership of <paramref name="fd"/> (owned: closed by this handle).</summary>
    internal SafeFdHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle < 0;

    /// <summary>The raw descriptor, for structures such as pollfd. Caller holds a DangerousAddRef while using it.</summary>
    internal int Fd => (int)handle;

    protected override bool ReleaseHandle() => Interop.Libc.close((int)handle) == 0;
}
