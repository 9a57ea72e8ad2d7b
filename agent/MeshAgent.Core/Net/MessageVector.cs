using System.Runtime.InteropServices;
using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>
/// Native, never-moving arrays for one recvmmsg/sendmmsg vector: mmsghdr[n], iovec[n], a sockaddr_in6
/// slot and a control (cmsg) slot per message, and optionally a data slab of n fixed-size buffers.
/// Allocated once; the kernel reads and writes them directly, so nothing is pinned or allocated per batch.
/// </summary>
/// <remarks>Owned by exactly one batch object; not thread-safe. Freed by Dispose or, failing that, the finalizer.</remarks>
internal sealed unsafe class MessageVector : IDisposable
{
    /// <summary>Per-message control space: room for UDP_GRO / UDP_SEGMENT and a few more cmsgs.</summary>
    public const int ControlSize = 64;

    private const nuint Alignment = 64;

    public MessageVector(int capacity, int bufferSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(bufferSize);
        Capacity = capacity;
        BufferSize = bufferSize;

        // Slots start on cache lines so neighbouring buffers never share one.
        Stride = (bufferSize + (int)Alignment - 1) & ~((int)Alignment - 1);
        Headers = (Libc.mmsghdr*)Allocate((nuint)(capacity * sizeof(Libc.mmsghdr)));
        Iovecs = (Libc.iovec*)Allocate((nuint)(capacity * sizeof(Libc.iovec)));
        Names = (Libc.sockaddr_in6*)Allocate((nuint)(capacity * sizeof(Libc.sockaddr_in6)));
        Control = (byte*)Allocate((nuint)(capacity * ControlSize));
        Data = bufferSize > 0 ? (byte*)Allocate((nuint)capacity * (nuint)Stride) : null;
    }

    ~MessageVector() => Free();

    public int Capacity { get; }

    public int BufferSize { get; }

    public int Stride { get; }

    public Libc.mmsghdr* Headers { get; private set; }

    public Libc.iovec* Iovecs { get; private set; }

    public Libc.sockaddr_in6* Names { get; private set; }

    public byte* Control { get; private set; }

    /// <summary>The owned data slab, or null when the vector was created without one.</summary>
    public byte* Data { get; private set; }

    public bool IsDisposed => Headers == null;

    public byte* Buffer(int index) => Data + ((nint)index * Stride);

    public byte* ControlOf(int index) => Control + (index * ControlSize);

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private static void* Allocate(nuint bytes)
    {
        void* memory = NativeMemory.AlignedAlloc(Math.Max(bytes, 1), Alignment);
        NativeMemory.Clear(memory, bytes);
        return memory;
    }

    private void Free()
    {
        NativeMemory.AlignedFree(Headers);
        NativeMemory.AlignedFree(Iovecs);
        NativeMemory.AlignedFree(Names);
        NativeMemory.AlignedFree(Control);
        NativeMemory.AlignedFree(Data);
        Headers = null;
        Iovecs = null;
        Names = null;
        Control = null;
        Data = null;
    }
}
