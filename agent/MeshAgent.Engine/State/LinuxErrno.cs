namespace MeshAgent.Engine.State;

/// <summary>
/// The errno values the state directory turns into advice (asm-generic/errno-base.h, the same on every
/// Linux architecture). Core's Interop constants are internal to Core, and these are compared, never
/// passed to the kernel.
/// </summary>
internal static class LinuxErrno
{
    public const int EPERM = 1;
    public const int EACCES = 13;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int ENOSPC = 28;
    public const int EROFS = 30;
}
