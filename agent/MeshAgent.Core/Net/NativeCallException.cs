namespace MeshAgent.Core.Net;

/// <summary>
/// A Linux system call failed while setting up or running a device, socket or namespace. The message
/// names what was attempted, with which input, the errno and (when known) the next step.
/// </summary>
public sealed class NativeCallException : IOException
{
    public NativeCallException(string message, int errno)
        : base(message)
    {
        Errno = errno;
    }

    /// <summary>The errno value reported by the kernel (positive).</summary>
    public int Errno { get; }
}
