using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>
/// Receive side of <see cref="UdpBatchSocket"/>: <see cref="Capacity"/> message buffers in native memory
/// that one recvmmsg fills, with per-message length, source and GRO segment size.
/// </summary>
/// <remarks>
/// Ownership: the batch owns its buffers. Spans it returns are borrowed: valid until the next Receive
/// into this batch or Dispose. One thread at a time.
/// </remarks>
public sealed unsafe class UdpReceiveBatch : IDisposable
{
    /// <summary>Buffer size that holds any GRO-coalesced message (a 64 KiB superpacket).</summary>
    public const int GroBufferSize = 65535;

    private readonly MessageVector _vector;
    private readonly int[] _segmentSizes;

    /// <param name="capacity">Messages per recvmmsg (wireguard-go uses 128, nebula 64).</param>
    /// <param name="bufferSize">Bytes per message. With GRO enabled use <see cref="GroBufferSize"/>, or coalesced
    /// messages are truncated (memory: capacity × 64 KiB, the knob nebula warns about).</param>
    public UdpReceiveBatch(int capacity, int bufferSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        _vector = new MessageVector(capacity, bufferSize);
        _segmentSizes = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _vector.Iovecs[i].iov_base = _vector.Buffer(i);
            Libc.msghdr* header = &_vector.Headers[i].msg_hdr;
            header->msg_iov = &_vector.Iovecs[i];
            header->msg_iovlen = 1;
            header->msg_name = &_vector.Names[i];
            header->msg_control = _vector.ControlOf(i);
        }
    }

    public int Capacity => _vector.Capacity;

    public int BufferSize => _vector.BufferSize;

    /// <summary>Messages filled by the last successful Receive.</summary>
    public int Count { get; private set; }

    /// <summary>Message <paramref name="index"/> (borrowed: valid until the next Receive or Dispose); writable for in-place decryption.</summary>
    public Span<byte> GetMessage(int index)
    {
        CheckIndex(index);
        return new Span<byte>(_vector.Buffer(index), (int)Math.Min(_vector.Headers[index].msg_len, (uint)BufferSize));
    }

    /// <summary>Where message <paramref name="index"/> came from (default if the kernel gave no usable address).</summary>
    public UdpEndpoint GetSource(int index)
    {
        CheckIndex(index);
        return UdpEndpoint.TryReadSockaddr(&_vector.Names[index], _vector.Headers[index].msg_hdr.msg_namelen, out UdpEndpoint source)
            ? source
            : default;
    }

    /// <summary>
    /// GRO segment size of message <paramref name="index"/>: 0 for a single datagram, else the message is
    /// several datagrams of this size back to back (the last may be shorter).
    /// </summary>
    public int GetSegmentSize(int index)
    {
        CheckIndex(index);
        return _segmentSizes[index];
    }

    /// <summary>Whether message <paramref name="index"/> was longer than <see cref="BufferSize"/> (MSG_TRUNC) and was cut.</summary>
    public bool IsTruncated(int index)
    {
        CheckIndex(index);
        return (_vector.Headers[index].msg_hdr.msg_flags & Libc.MSG_TRUNC) != 0;
    }

    public void Dispose() => _vector.Dispose();

    /// <summary>recvmmsg overwrites lengths in place: restore the capacities before each call.</summary>
    internal Libc.mmsghdr* PrepareReceive()
    {
        ObjectDisposedException.ThrowIf(_vector.IsDisposed, this);
        Count = 0;
        for (int i = 0; i < Capacity; i++)
        {
            _vector.Iovecs[i].iov_len = (nuint)BufferSize;
            Libc.msghdr* header = &_vector.Headers[i].msg_hdr;
            header->msg_namelen = (uint)sizeof(Libc.sockaddr_in6);
            header->msg_controllen = MessageVector.ControlSize;
            header->msg_flags = 0;
        }

        return _vector.Headers;
    }

    /// <summary>Records <paramref name="count"/> received messages and decodes their UDP_GRO cmsgs.</summary>
    internal void CompleteReceive(int count)
    {
        Count = count;
        for (int i = 0; i < count; i++)
        {
            Libc.msghdr* header = &_vector.Headers[i].msg_hdr;
            _segmentSizes[i] = ReadGroSegmentSize((byte*)header->msg_control, (int)header->msg_controllen);
        }
    }

    /// <summary>Walks the cmsgs (CMSG_FIRSTHDR/CMSG_NXTHDR) for SOL_UDP/UDP_GRO; never trusts lengths blindly.</summary>
    internal static int ReadGroSegmentSize(byte* control, int length)
    {
        int offset = 0;
        while (offset + sizeof(Libc.cmsghdr) <= length)
        {
            var message = (Libc.cmsghdr*)(control + offset);
            int messageLength = (int)Math.Min(message->cmsg_len, (nuint)(length - offset));
            if (messageLength < sizeof(Libc.cmsghdr))
            {
                break;
            }

            if (message->cmsg_level == Libc.SOL_UDP && message->cmsg_type == Libc.UDP_GRO && messageLength >= Libc.CMSG_LEN(sizeof(int)))
            {
                return *(int*)(control + offset + Libc.CMSG_LEN(0));
            }

            offset += Libc.CMSG_ALIGN(messageLength);
        }

        return 0;
    }

    private void CheckIndex(int index)
    {
        ObjectDisposedException.ThrowIf(_vector.IsDisposed, this);
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the last receive filled {Count} messages");
        }
    }
}
