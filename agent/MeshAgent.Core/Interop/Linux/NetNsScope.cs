namespace MeshAgent.Core.Interop.Linux;

/// <summary>
/// Returned by <see cref="NetNs.Enter"/>: disposing it on the thread that entered moves that thread
/// back to the namespace it was in before. Owns a descriptor of that previous namespace.
/// </summary>
public sealed class NetNsScope : IDisposable
{
    private readonly SafeFdHandle _previous;
    private readonly int _threadId = Environment.CurrentManagedThreadId;
    private bool _disposed;

    internal NetNsScope(SafeFdHandle previous) => _previous = previous;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (Environment.CurrentManagedThreadId != _threadId)
        {
            throw new InvalidOperationException(
                "a network namespace scope must be disposed on the thread that entered it (setns moves only the calling thread)");
        }

        _disposed = true;
        using (_previous)
        {
            NetNs.Join(_previous, "returning to the previous network namespace");
        }
    }
}
