using static MeshAgent.Core.Interop.Linux.Interop;

namespace MeshAgent.Core.Net;

/// <summary>
/// Send side of <see cref="UdpBatchSocket"/>: up to <see cref="Capacity"/> messages for one sendmmsg, each
/// with a destination and optionally a GSO segment size (UDP_SEGMENT): one message then leaves as several
/// datagrams of that size, cut by the kernel (or the NIC).
/// </summary>
/// <remarks>
/// Ownership: the batch owns its slab (<see cref="GetBuffer"/>); memory given to <see cref="SetUnsafe"/> stays the
/// caller's and must stay pinned and unchanged until Send returns. One thread at a time.
/// </remarks>
public sealed unsafe class UdpSendBatch : IDisposable
{
    /// <summary>
    /// Segments the fallback splitter sends per sendmmsg when GSO is off. The kernel's own GSO limit is
    /// UDP_MAX_SEGMENTS: 64 up to Linux 6.10, 128 since.
    /// </summary>
    internal const int SplitCapacity = 128;

    private readonly MessageVector _vector;
    private readonly MessageVector _split;
    private readonly byte*[] _data;
    private readonly int[] _lengths;
    private readonly int[] _segmentSizes;
    private readonly UdpEndpoint[] _destinations;

    /// <param name="capacity">Messages per sendmmsg.</param>
    /// <param name="bufferSize">Bytes per owned buffer; 0 when all messages come through <see cref="SetUnsafe"/>.</param>
    public UdpSendBatch(int capacity, int bufferSize)
    {
        _vector = new MessageVector(capacity, bufferSize);
        _split = new MessageVector(SplitCapacity, 0);
        _data = new byte*[capacity];
        _lengths = new int[capacity];
        _segmentSizes = new int[capacity];
        _destinations = new UdpEndpoint[capacity];
        for (int i = 0; i < capacity; i++)
        {
            Libc.msghdr* header = &_vector.Headers[i].msg_hdr;
            header->msg_iov = &_vector.Iovecs[i];
            header->msg_iovlen = 1;
            header->msg_name = &_vector.Names[i];
        }

        for (int i = 0; i < SplitCapacity; i++)
        {
            _split.Headers[i].msg_hdr.msg_iov = &_split.Iovecs[i];
            _split.Headers[i].msg_hdr.msg_iovlen = 1;
        }
    }

    public int Capacity => _vector.Capacity;

    public int BufferSize => _vector.BufferSize;

    /// <summary>The owned buffer of slot <paramref name="index"/> (borrowed: valid until Dispose) to write a message into.</summary>
    public Span<byte> GetBuffer(int index)
    {
        CheckIndex(index);
        return new Span<byte>(_vector.Buffer(index), BufferSize);
    }

    /// <summary>Slot <paramref name="index"/> sends the first <paramref name="length"/> bytes of its owned buffer.</summary>
    /// <param name="segmentSize">GSO segment size, or 0 to send one datagram. Ignored when length ≤ segmentSize.</param>
    public void Set(int index, int length, UdpEndpoint destination, int segmentSize = 0)
    {
        CheckIndex(index);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, BufferSize);
        Store(index, _vector.Buffer(index), length, destination, segmentSize);
    }

    /// <summary>
    /// Slot <paramref name="index"/> sends <paramref name="length"/> bytes at <paramref name="data"/>, memory the caller
    /// owns and keeps pinned and unchanged until the next Send on this batch returns.
    /// </summary>
    public void SetUnsafe(int index, byte* data, int length, UdpEndpoint destination, int segmentSize = 0)
    {
        CheckIndex(index);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (data == null && length > 0)
        {
            throw new ArgumentNullException(nameof(data));
        }

        Store(index, data, length, destination, segmentSize);
    }

    public void Dispose()
    {
        _vector.Dispose();
        _split.Dispose();
    }

    /// <summary>Whether slot <paramref name="index"/> is more than one datagram (needs GSO or splitting).</summary>
    internal bool IsSegmented(int index) => _segmentSizes[index] > 0 && _lengths[index] > _segmentSizes[index];

    /// <summary>
    /// Fills mmsghdr <paramref name="index"/> for a socket of <paramref name="socketFamily"/>: destination sockaddr,
    /// iovec and, when <paramref name="useGso"/> and the slot is segmented, a UDP_SEGMENT cmsg.
    /// Returns false if the destination family cannot be sent from this socket.
    /// </summary>
    internal bool Encode(int index, int socketFamily, bool useGso)
    {
        Libc.msghdr* header = &_vector.Headers[index].msg_hdr;
        uint nameLength = _destinations[index].WriteSockaddr(&_vector.Names[index], socketFamily);
        header->msg_namelen = nameLength;
        _vector.Iovecs[index].iov_base = _data[index];
        _vector.Iovecs[index].iov_len = (nuint)_lengths[index];
        if (useGso && IsSegmented(index))
        {
            // UDP_SEGMENT cmsg: a __u16 segment size (net/ipv4/udp.c udp_cmsg_send requires CMSG_LEN(2) exactly).
            byte* control = _vector.ControlOf(index);
            var message = (Libc.cmsghdr*)control;
            message->cmsg_len = (nuint)Libc.CMSG_LEN(sizeof(ushort));
            message->cmsg_level = Libc.SOL_UDP;
            message->cmsg_type = Libc.UDP_SEGMENT;
            *(ushort*)(control + Libc.CMSG_LEN(0)) = (ushort)_segmentSizes[index];
            header->msg_control = control;
            header->msg_controllen = (nuint)Libc.CMSG_SPACE(sizeof(ushort));
        }
        else
        {
            header->msg_control = null;
            header->msg_controllen = 0;
        }

        return nameLength != 0;
    }

    internal Libc.mmsghdr* Headers
    {
        get
        {
            ObjectDisposedException.ThrowIf(_vector.IsDisposed, this);
            return _vector.Headers;
        }
    }

    /// <summary>
    /// Fills the split vector with the datagrams of segmented slot <paramref name="index"/> starting at segment
    /// <paramref name="firstSegment"/> (GSO done in software). Returns how many entries were filled.
    /// Requires <see cref="Encode"/> for the slot first (for its sockaddr).
    /// </summary>
    internal int EncodeSplit(int index, int firstSegment, out Libc.mmsghdr* headers)
    {
        headers = _split.Headers;
        int segmentSize = _segmentSizes[index];
        int length = _lengths[index];
        Libc.msghdr* parent = &_vector.Headers[index].msg_hdr;
        int count = 0;
        for (int offset = firstSegment * segmentSize; offset < length && count < SplitCapacity; offset += segmentSize, count++)
        {
            _split.Iovecs[count].iov_base = _data[index] + offset;
            _split.Iovecs[count].iov_len = (nuint)Math.Min(segmentSize, length - offset);
            Libc.msghdr* header = &_split.Headers[count].msg_hdr;
            header->msg_name = parent->msg_name;
            header->msg_namelen = parent->msg_namelen;
            header->msg_control = null;
            header->msg_controllen = 0;
        }

        return count;
    }

    /// <summary>Number of datagrams slot <paramref name="index"/> becomes.</summary>
    internal int SegmentCount(int index) =>
        IsSegmented(index) ? (_lengths[index] + _segmentSizes[index] - 1) / _segmentSizes[index] : 1;

    private void Store(int index, byte* data, int length, UdpEndpoint destination, int segmentSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(segmentSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(segmentSize, ushort.MaxValue);
        _data[index] = data;
        _lengths[index] = length;
        _segmentSizes[index] = segmentSize;
        _destinations[index] = destination;
    }

    private void CheckIndex(int index)
    {
        ObjectDisposedException.ThrowIf(_vector.IsDisposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Capacity);
    }
}
