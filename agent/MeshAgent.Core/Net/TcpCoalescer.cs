using System.Buffers.Binary;

namespace MeshAgent.Core.Net;

/// <summary>Receives what a <see cref="TcpCoalescer"/> emits: a virtio header and an IP packet. borrowed: both, for the call.</summary>
public interface IVirtioPacketWriter
{
    void Write(ReadOnlySpan<byte> virtioHeader, ReadOnlySpan<byte> packet);
}

/// <summary>
/// GRO for the TUN write path (the inverse of <see cref="GsoSegmenter"/>, after wireguard-go's
/// tcpGRO): consecutive in-order segments of one TCP flow are merged into a super-packet of up
/// to 64 KiB and written with a GSO virtio header, so the kernel runs its TCP receive path once
/// per ~45 segments instead of once per segment. Anything that is not a plain in-order data
/// segment (SYN/FIN/RST/URG/ECE/CWR, options that differ, a gap, IP options or fragments) is
/// written as it is, in order. Not thread-safe: one per outside thread.
/// </summary>
public sealed class TcpCoalescer(IVirtioPacketWriter writer)
{
    private const int MaxPacket = 65535;
    private const byte TcpProtocol = 6;
    private const byte FlagFin = 0x01, FlagSyn = 0x02, FlagRst = 0x04, FlagPsh = 0x08, FlagAck = 0x10, FlagUrg = 0x20, FlagEce = 0x40, FlagCwr = 0x80;

    // owned: the super-packet being built.
    private readonly byte[] _buffer = GC.AllocateArray<byte>(MaxPacket, pinned: true);
    private readonly byte[] _virtio = new byte[VirtioNetHeader.Size];
    private readonly byte[] _zeroVirtio = new byte[VirtioNetHeader.Size];
    private int _length;
    private int _count;
    private int _ipHeaderLength;
    private int _headerLength;
    private int _segmentSize;
    private uint _nextSequence;
    private bool _closed;

    /// <summary>Super-packets written (groups of two or more segments).</summary>
    public long SuperPackets { get; private set; }

    /// <summary>Segments merged into super-packets.</summary>
    public long CoalescedSegments { get; private set; }

    /// <summary>Adds one decrypted IP packet. borrowed: packet, for the call.</summary>
    public void Add(ReadOnlySpan<byte> packet)
    {
        if (!TryGetSegment(packet, out int ipHeaderLength, out int headerLength, out uint sequence, out byte flags))
        {
            Flush();
            writer.Write(_zeroVirtio, packet);
            return;
        }

        int payload = packet.Length - headerLength;
        if (_count > 0 && CanAppend(packet, ipHeaderLength, headerLength, sequence, payload))
        {
            packet[headerLength..].CopyTo(_buffer.AsSpan(_length));
            _length += payload;
            _count++;
            _nextSequence = sequence + (uint)payload;
            if ((flags & FlagPsh) != 0 || payload < _segmentSize)
            {
                // PSH or a short segment ends a burst: nothing may follow it in this group.
                _buffer[_ipHeaderLength + 13] |= (byte)(flags & FlagPsh);
                _closed = true;
            }

            return;
        }

        Flush();
        packet.CopyTo(_buffer);
        _length = packet.Length;
        _count = 1;
        _ipHeaderLength = ipHeaderLength;
        _headerLength = headerLength;
        _segmentSize = payload;
        _nextSequence = sequence + (uint)payload;
        _closed = (flags & FlagPsh) != 0;
    }

    /// <summary>Writes the pending group. Call after each receive batch.</summary>
    public void Flush()
    {
        if (_count == 0)
        {
            return;
        }

        Span<byte> packet = _buffer.AsSpan(0, _length);
        if (_count == 1)
        {
            writer.Write(_zeroVirtio, packet);
            _count = 0;
            return;
        }

        bool isIPv4 = packet[0] >> 4 == 4;
        int tcpLength = _length - _ipHeaderLength;
        uint pseudo;
        if (isIPv4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)_length);
            packet[10] = 0;
            packet[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(packet[10..], InternetChecksum.Compute(packet[.._ipHeaderLength]));
            pseudo = InternetChecksum.PseudoHeader(packet.Slice(12, 4), packet.Slice(16, 4), TcpProtocol, tcpLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(packet[4..], (ushort)tcpLength);
            pseudo = InternetChecksum.PseudoHeader(packet.Slice(8, 16), packet.Slice(24, 16), TcpProtocol, tcpLength);
        }

        // NEEDS_CSUM: the field carries the pseudo-header sum; the kernel finishes (or offloads) it.
        BinaryPrimitives.WriteUInt16BigEndian(packet[(_ipHeaderLength + 16)..], (ushort)pseudo);
        var header = new VirtioNetHeader
        {
            Flags = VirtioNetHeaderFlags.NeedsChecksum,
            GsoType = isIPv4 ? VirtioGsoType.TcpV4 : VirtioGsoType.TcpV6,
            HeaderLength = (ushort)_headerLength,
            GsoSize = (ushort)_segmentSize,
            ChecksumStart = (ushort)_ipHeaderLength,
            ChecksumOffset = 16,
        };
        header.Write(_virtio);
        writer.Write(_virtio, packet);
        SuperPackets++;
        CoalescedSegments += _count;
        _count = 0;
    }

    private bool CanAppend(ReadOnlySpan<byte> packet, int ipHeaderLength, int headerLength, uint sequence, int payload)
    {
        if (_closed || sequence != _nextSequence || payload == 0 || payload > _segmentSize
            || ipHeaderLength != _ipHeaderLength || headerLength != _headerLength || _length + payload > MaxPacket)
        {
            return false;
        }

        ReadOnlySpan<byte> first = _buffer.AsSpan(0, _headerLength);
        if (packet[0] >> 4 == 4)
        {
            // Same TOS, TTL, protocol, addresses; total length, id and checksum may differ.
            if (packet[1] != first[1] || packet[8] != first[8] || !packet.Slice(12, 8).SequenceEqual(first.Slice(12, 8)))
            {
                return false;
            }
        }
        else if (!packet[..4].SequenceEqual(first[..4]) || packet[7] != first[7] || !packet.Slice(8, 32).SequenceEqual(first.Slice(8, 32)))
        {
            return false;
        }

        ReadOnlySpan<byte> tcp = packet[ipHeaderLength..headerLength];
        ReadOnlySpan<byte> firstTcp = first[ipHeaderLength..];
        // Ports, ack number, flags and options must match; sequence, window and checksum may differ.
        return tcp[..4].SequenceEqual(firstTcp[..4])
            && tcp.Slice(8, 4).SequenceEqual(firstTcp.Slice(8, 4))
            && (tcp[13] & ~FlagPsh) == (firstTcp[13] & ~FlagPsh)
            && tcp[20..].SequenceEqual(firstTcp[20..(headerLength - ipHeaderLength)]);
    }

    /// <summary>A plain TCP data/ack segment we could merge: no IP options or fragments, only ACK (+PSH).</summary>
    private static bool TryGetSegment(ReadOnlySpan<byte> packet, out int ipHeaderLength, out int headerLength, out uint sequence, out byte flags)
    {
        ipHeaderLength = headerLength = 0;
        sequence = 0;
        flags = 0;
        if (packet.Length < 40)
        {
            return false;
        }

        int version = packet[0] >> 4;
        if (version == 4)
        {
            if (packet[0] != 0x45 || packet[9] != TcpProtocol || BinaryPrimitives.ReadUInt16BigEndian(packet[2..]) != packet.Length
                || (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3FFF) != 0)
            {
                return false; // IP options, not TCP, or a fragment
            }

            ipHeaderLength = 20;
        }
        else if (version == 6)
        {
            if (packet.Length < 60 || packet[6] != TcpProtocol || BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) + 40 != packet.Length)
            {
                return false;
            }

            ipHeaderLength = 40;
        }
        else
        {
            return false;
        }

        int tcpHeaderLength = (packet[ipHeaderLength + 12] >> 4) * 4;
        headerLength = ipHeaderLength + tcpHeaderLength;
        if (tcpHeaderLength < 20 || packet.Length <= headerLength)
        {
            return false; // no payload: pure ACKs go through as they are
        }

        flags = packet[ipHeaderLength + 13];
        if ((flags & (FlagFin | FlagSyn | FlagRst | FlagUrg | FlagEce | FlagCwr)) != 0 || (flags & FlagAck) == 0)
        {
            return false;
        }

        sequence = BinaryPrimitives.ReadUInt32BigEndian(packet[(ipHeaderLength + 4)..]);
        return true;
    }
}
