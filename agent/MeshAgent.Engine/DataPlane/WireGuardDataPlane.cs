using System.Collections.Concurrent;
using MeshAgent.Core.Net;
using MeshAgent.Core.WireGuard;
using MeshAgent.Engine.Routing;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.DataPlane;

/// <summary>A decrypted non-IP payload from <paramref name="peer"/>. borrowed: frame, valid only during the call.</summary>
public delegate void ControlFrameHandler(Peer peer, ReadOnlySpan<byte> frame, in UdpEndpoint source);

/// <summary>A datagram that is not a WireGuard message. borrowed: datagram, valid only during the call.</summary>
public delegate void ForeignDatagramHandler(ReadOnlySpan<byte> datagram, in UdpEndpoint source);

/// <summary>
/// The packet pipeline between a TUN device ("inside") and a UDP socket ("outside"),
/// after wireguard-go's device/send.go and receive.go and nebula's inside.go/outside.go:
///
///   inside thread:  poll(TUN, stop) → read packets into send-batch slots at offset 16
///                   (headroom for the transport header) → cryptokey routing by destination →
///                   seal in place (tag in tailroom) → one sendmmsg per batch.
///   outside thread: poll(UDP, stop) → recvmmsg batch (GRO super-datagrams split by segment
///                   size) → type 4: open in place, inner source checked against the sender's
///                   AllowedIPs, written to the TUN; types 1–3: copied to the control queue.
///   control thread: handshakes from the bounded queue, then the device timers.
///
/// Planes meet at two seams only (STYLE rule 4): the routing table is an immutable snapshot
/// read with Volatile.Read, and handshake messages cross through a bounded queue written with
/// a drop-and-count when full. Data threads block only in poll and are woken by an eventfd to
/// stop (STYLE rule 3). No allocation per packet: all buffers are owned by the two batches.
/// </summary>
public sealed class WireGuardDataPlane : IDisposable
{
    public const int BatchSize = 64;
    private const int ControlQueueLimit = 1024;
    private const int Headroom = TransportHeader.HeaderSize;
    private const int Tailroom = TransportHeader.PaddingMultiple + TransportHeader.TagSize;

    private readonly WireGuardDevice _device;
    private readonly TunDevice _tun;
    private readonly UdpBatchSocket _udp;
    private readonly int _mtu;
    private readonly EventFd _stop = new();
    private readonly AutoResetEvent _controlWakeup = new(false);
    private readonly ConcurrentQueue<(byte[] Datagram, UdpEndpoint Source)> _controlQueue = new();
    private readonly Thread _inside;
    private readonly Thread _outside;
    private readonly Thread _control;
    private volatile bool _stopping;
    private AllowedIpsTable<Peer> _routes = AllowedIpsTable<Peer>.Empty;
    private TcpCoalescer? _coalescer; // outside thread only
    private static readonly byte[] NoVirtioHeader = new byte[VirtioNetHeader.Size];

    // owned: relayed datagrams are copied here (outside thread only) to be opened in place like socket datagrams.
    private readonly byte[] _relayedScratch = GC.AllocateArray<byte>(65536, pinned: true);

    // Datagrams other threads received (TCP relay stream, hard-NAT probe sockets), waiting for the outside thread.
    private const int InjectedQueueLimit = 1024;
    private readonly ConcurrentQueue<(byte[] Buffer, int Length, UdpEndpoint Source)> _injected = new();
    private readonly EventFd _injectedWake = new();
    private int _injectedCount;

    public WireGuardDataPlane(WireGuardDevice device, TunDevice tun, UdpBatchSocket udp, int mtu)
    {
        _device = device;
        _tun = tun;
        _udp = udp;
        _mtu = mtu;
        _device.ControlWakeup = () => _controlWakeup.Set();
        _inside = new Thread(InsideLoop) { IsBackground = true, Name = "dp-inside" };
        _outside = new Thread(OutsideLoop) { IsBackground = true, Name = "dp-outside" };
        _control = new Thread(ControlLoop) { IsBackground = true, Name = "dp-control" };
    }

    public DataPlaneCounters Counters { get; } = new();

    /// <summary>Unexpected exceptions on the data-plane threads (bugs); a thread that faults stops.</summary>
    public ConcurrentQueue<Exception> Faults { get; } = new();

    /// <summary>Cryptokey routing snapshot; the control plane swaps it whole.</summary>
    public AllowedIpsTable<Peer> Routes
    {
        get => Volatile.Read(ref _routes);
        set => Volatile.Write(ref _routes, value);
    }

    /// <summary>
    /// Receives decrypted transport payloads that are not IP packets (first nibble neither 4 nor 6):
    /// mesh control frames (DESIGN §2). Called on the outside thread; the frame is borrowed (valid
    /// only during the call), so copy it and hand it to the control plane — never block here.
    /// Null: such payloads are dropped and counted.
    /// </summary>
    public ControlFrameHandler? ControlFrames { get; set; }

    /// <summary>
    /// Receives datagrams on the UDP port that are not WireGuard messages (join exchange, STUN,
    /// relay envelopes — DESIGN §2: one port carries everything). Same rules as <see cref="ControlFrames"/>.
    /// Null: counted as unknown and dropped.
    /// </summary>
    public ForeignDatagramHandler? ForeignDatagrams { get; set; }

    /// <summary>
    /// Sends sealed datagrams whose peer endpoint is relayed (<see cref="PeerEndpoint.IsRelayed"/>) instead of
    /// putting them in the UDP batch. Null: such packets are dropped and counted as no endpoint.
    /// </summary>
    public RelayedDatagramSender? RelayedDatagrams { get; set; }

    /// <summary>
    /// A WireGuard datagram that arrived through a relay, to be handled as if it came from <paramref name="source"/>
    /// (the relayed path's synthetic endpoint, <see cref="RelayedEndpoint"/>), so roaming follows the relay path.
    /// Must be called on the outside thread, i.e. from <see cref="ForeignDatagrams"/> (the relay frames arrive on the
    /// same socket). borrowed: datagram, copied before it is opened in place.
    /// </summary>
    public void ReceiveRelayed(ReadOnlySpan<byte> datagram, in UdpEndpoint source)
    {
        if (datagram.Length > _relayedScratch.Length || !WireGuardMessage.LooksLikeWireGuard(datagram))
        {
            Interlocked.Increment(ref Counters.UnknownDatagrams);
            return;
        }

        datagram.CopyTo(_relayedScratch);
        HandleDatagram(_relayedScratch.AsSpan(0, datagram.Length), source, NoVirtioHeader);
    }

    /// <summary>
    /// As <see cref="ReceiveRelayed"/>, from any thread: a WireGuard datagram that arrived outside the main socket
    /// (a TCP relay stream, a hard-NAT probe socket) is copied, queued and handled on the outside thread as if it had
    /// come from <paramref name="source"/> (a synthetic <see cref="RelayedEndpoint"/>). Never blocks; a full queue
    /// (<see cref="InjectedQueueLimit"/> datagrams) drops and counts (<see cref="DataPlaneCounters.InjectedDropped"/>).
    /// borrowed: datagram, for the call only.
    /// </summary>
    /// <returns>False when the datagram was dropped.</returns>
    public bool InjectRelayed(ReadOnlySpan<byte> datagram, in UdpEndpoint source)
    {
        if (datagram.Length > _relayedScratch.Length || !WireGuardMessage.LooksLikeWireGuard(datagram))
        {
            Interlocked.Increment(ref Counters.UnknownDatagrams);
            return false;
        }

        if (Interlocked.Increment(ref _injectedCount) > InjectedQueueLimit || _stopping)
        {
            Interlocked.Decrement(ref _injectedCount);
            Interlocked.Increment(ref Counters.InjectedDropped);
            return false;
        }

        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(datagram.Length);
        datagram.CopyTo(buffer);
        _injected.Enqueue((buffer, datagram.Length, source));
        _injectedWake.Signal();
        return true;
    }

    /// <summary>Outside thread: handles what other threads queued with <see cref="InjectRelayed"/>.</summary>
    private void DrainInjected()
    {
        _injectedWake.Reset();
        while (_injected.TryDequeue(out (byte[] Buffer, int Length, UdpEndpoint Source) item))
        {
            Interlocked.Decrement(ref _injectedCount);
            try
            {
                ReceiveRelayed(item.Buffer.AsSpan(0, item.Length), item.Source);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(item.Buffer);
            }
        }
    }

    public void Start()
    {
        _control.Start();
        _outside.Start();
        _inside.Start();
    }

    // ------------------------------------------------------------------ inside: TUN → UDP

    /// <summary>
    /// Slot size of the send batch: a TCP super-packet (≤ 64 KiB) becomes at most
    /// <see cref="MaxSegments"/> sealed datagrams laid out back to back in one slot and sent as
    /// one UDP GSO message (one segment size; the last may be shorter).
    /// </summary>
    private const int MaxSegments = 64;
    private const int SlotSize = MaxSegments * 1536;

    /// <summary>A UDP send (GSO or not) carries at most 65,535 − 8 − 40 bytes of payload.</summary>
    private const int MaxGsoBytes = 65_000;

    private void InsideLoop()
    {
        try
        {
            using var batch = new UdpSendBatch(BatchSize, SlotSize);
            // owned: the TUN read buffer; every packet is copied out of it (into a slot) before the next read.
            byte[] raw = GC.AllocateArray<byte>(TunDevice.MaxReadSize, pinned: true);
            Span<byte> virtio = stackalloc byte[VirtioNetHeader.Size];
            while (!_stopping)
            {
                if (Poll.WaitReadable(_tun.Handle, _stop) != PollResult.Readable || _stopping)
                {
                    continue;
                }

                int count = 0;
                while (count < BatchSize)
                {
                    int length = _tun.HasVirtioHeader ? _tun.Read(virtio, raw) : _tun.Read(raw);
                    if (length <= 0)
                    {
                        if (length < 0)
                        {
                            Interlocked.Increment(ref Counters.TunReadErrors);
                        }

                        break;
                    }

                    Interlocked.Increment(ref Counters.PacketsFromTun);
                    VirtioNetHeader header = default;
                    if (_tun.HasVirtioHeader)
                    {
                        VirtioNetHeader.TryRead(virtio, out header);
                    }

                    PrepareOutbound(raw.AsSpan(0, length), header, batch, ref count);
                }

                Flush(batch, ref count);
            }
        }
        catch (Exception e)
        {
            Faults.Enqueue(e);
        }
    }

    /// <summary>
    /// Routes one packet from the TUN, segments it if it is a TSO super-packet, and seals each
    /// segment in place in batch slots: a super-packet's datagrams lie back to back in a slot
    /// and leave as one UDP GSO message (one segment size, the last may be shorter), split
    /// over several slots when it would exceed what one UDP send can carry.
    /// borrowed: packet until the next TUN read; slots until the batch is sent.
    /// </summary>
    private void PrepareOutbound(Span<byte> packet, in VirtioNetHeader header, UdpSendBatch batch, ref int count)
    {
        Peer? peer = Routes.LookupDestination(packet);
        if (peer is null)
        {
            Interlocked.Increment(ref Counters.NoRoute);
            return;
        }

        PeerEndpoint? endpoint = peer.CurrentEndpoint;
        if (endpoint is null)
        {
            Interlocked.Increment(ref Counters.NoEndpoint);
            return;
        }

        UdpEndpoint destination = endpoint.Udp;
        if (endpoint.IsRelayed)
        {
            PrepareRelayed(peer, packet, header, destination, batch.GetBuffer(count));
            return;
        }

        if (header.GsoType == VirtioGsoType.None)
        {
            Span<byte> slot = batch.GetBuffer(count);
            if (!GsoSegmenter.TryCompleteChecksum(packet, header) || packet.Length > slot.Length - Headroom - Tailroom)
            {
                Interlocked.Increment(ref Counters.MalformedFromTun);
                return;
            }

            packet.CopyTo(slot[Headroom..]);
            if (Seal(peer, slot, packet.Length, out int messageLength))
            {
                batch.Set(count++, messageLength, destination);
            }

            return;
        }

        int segments = GsoSegmenter.SegmentCount(packet, header);
        if (segments == 0)
        {
            Interlocked.Increment(ref Counters.MalformedFromTun);
            return;
        }

        Interlocked.Add(ref Counters.Segments, segments);
        int offset = 0;
        int segmentSize = 0;
        for (int i = 0; i < segments; i++)
        {
            Span<byte> slot = batch.GetBuffer(count);
            if (offset > 0 && (offset + segmentSize > MaxGsoBytes || offset + segmentSize > slot.Length))
            {
                // This slot is full: emit it and continue the super-packet in the next one.
                batch.Set(count++, offset, destination, offset > segmentSize ? segmentSize : 0);
                offset = 0;
                if (count == BatchSize)
                {
                    Flush(batch, ref count);
                }

                slot = batch.GetBuffer(count);
            }

            Span<byte> region = slot[offset..];
            int length = GsoSegmenter.WriteSegment(packet, header, i, region[Headroom..^Tailroom]);
            if (length == 0)
            {
                Interlocked.Increment(ref Counters.MalformedFromTun);
                break;
            }

            if (!Seal(peer, region, length, out int sealedLength))
            {
                continue; // staged by the engine (no session yet)
            }

            if (offset == 0)
            {
                segmentSize = sealedLength;
            }

            offset += sealedLength;
            if (sealedLength != segmentSize)
            {
                // Only the last datagram of a GSO message may be shorter: close the message.
                batch.Set(count++, offset, destination, offset > sealedLength ? segmentSize : 0);
                offset = 0;
                if (count == BatchSize)
                {
                    Flush(batch, ref count);
                }
            }
        }

        if (offset > 0)
        {
            batch.Set(count++, offset, destination, offset > segmentSize ? segmentSize : 0);
            if (count == BatchSize)
            {
                Flush(batch, ref count);
            }
        }
    }

    /// <summary>
    /// A packet for a peer on a relayed path: segments are sealed one by one in <paramref name="scratch"/> (the next
    /// free batch slot, not claimed: it is reused at once) and each goes to <see cref="RelayedDatagrams"/>.
    /// borrowed: packet and scratch for the call.
    /// </summary>
    private void PrepareRelayed(Peer peer, Span<byte> packet, in VirtioNetHeader header, in UdpEndpoint destination, Span<byte> scratch)
    {
        if (RelayedDatagrams is not { } relayed || !RelayedEndpoint.TryRead(destination, out ushort relay, out uint slot))
        {
            Interlocked.Increment(ref Counters.NoEndpoint);
            return;
        }

        if (header.GsoType == VirtioGsoType.None)
        {
            if (!GsoSegmenter.TryCompleteChecksum(packet, header) || packet.Length > scratch.Length - Headroom - Tailroom)
            {
                Interlocked.Increment(ref Counters.MalformedFromTun);
                return;
            }

            packet.CopyTo(scratch[Headroom..]);
            if (Seal(peer, scratch, packet.Length, out int messageLength))
            {
                relayed(relay, slot, scratch[..messageLength]);
            }

            return;
        }

        int segments = GsoSegmenter.SegmentCount(packet, header);
        if (segments == 0)
        {
            Interlocked.Increment(ref Counters.MalformedFromTun);
            return;
        }

        Interlocked.Add(ref Counters.Segments, segments);
        for (int i = 0; i < segments; i++)
        {
            int length = GsoSegmenter.WriteSegment(packet, header, i, scratch[Headroom..^Tailroom]);
            if (length == 0)
            {
                Interlocked.Increment(ref Counters.MalformedFromTun);
                return;
            }

            if (Seal(peer, scratch, length, out int sealedLength))
            {
                relayed(relay, slot, scratch[..sealedLength]);
            }
        }
    }

    /// <summary>One sendmmsg for the prepared slots.</summary>
    private void Flush(UdpSendBatch batch, ref int count)
    {
        if (count == 0)
        {
            return;
        }

        Interlocked.Increment(ref Counters.Batches);
        UdpSendResult result = _udp.Send(batch, count);
        if (result.Failed > 0)
        {
            Interlocked.Add(ref Counters.UdpSendFailures, result.Failed);
        }

        count = 0;
    }

    private bool Seal(Peer peer, Span<byte> region, int length, out int messageLength)
    {
        switch (_device.TrySeal(peer, region, length, _mtu, out messageLength))
        {
            case SealStatus.Sealed:
                return true;
            case SealStatus.NoSession:
                // Rare (no session yet, or keys expired): the engine copies and stages the packet.
                _device.SendPacket(peer, region.Slice(Headroom, length), _mtu);
                return false;
            default:
                return false;
        }
    }

    // ------------------------------------------------------------------ outside: UDP → TUN

    private void OutsideLoop()
    {
        try
        {
            using var batch = new UdpReceiveBatch(BatchSize, _udp.GroEnabled ? UdpReceiveBatch.GroBufferSize : 2048);
            var tunWriter = new TunWriter(_tun, Counters);
            // With a virtio header the kernel accepts GSO super-packets: merge TCP segments (GRO).
            _coalescer = _tun.HasVirtioHeader ? new TcpCoalescer(tunWriter) : null;
            ReadOnlySpan<byte> virtio = stackalloc byte[VirtioNetHeader.Size]; // all zero: no offload on plain writes
            while (!_stopping)
            {
                PollResult ready = Poll.WaitReadable(_udp.Handle, _stop, _injectedWake);
                if (_stopping)
                {
                    continue;
                }

                if ((ready & PollResult.Work) != 0)
                {
                    DrainInjected();
                    _coalescer?.Flush();
                }

                if ((ready & PollResult.Readable) == 0)
                {
                    continue;
                }

                int received = _udp.Receive(batch);
                if (received < 0)
                {
                    Interlocked.Increment(ref Counters.UdpReceiveErrors);
                    continue;
                }

                for (int i = 0; i < received; i++)
                {
                    Span<byte> message = batch.GetMessage(i);
                    UdpEndpoint source = batch.GetSource(i);
                    int segment = batch.GetSegmentSize(i);
                    if (segment <= 0 || segment >= message.Length)
                    {
                        HandleDatagram(message, source, virtio);
                        continue;
                    }

                    // A GRO super-datagram: consecutive datagrams of `segment` bytes, the last may be shorter.
                    for (int offset = 0; offset < message.Length; offset += segment)
                    {
                        HandleDatagram(message.Slice(offset, Math.Min(segment, message.Length - offset)), source, virtio);
                    }
                }

                _coalescer?.Flush();
            }
        }
        catch (Exception e)
        {
            Faults.Enqueue(e);
        }
    }

    /// <summary>borrowed: datagram, valid until the next recvmmsg.</summary>
    private void HandleDatagram(Span<byte> datagram, in UdpEndpoint source, ReadOnlySpan<byte> virtio)
    {
        if (!WireGuardMessage.LooksLikeWireGuard(datagram))
        {
            if (ForeignDatagrams is { } foreign)
            {
                foreign(datagram, source);
            }
            else
            {
                Interlocked.Increment(ref Counters.UnknownDatagrams);
            }

            return;
        }

        if (datagram[0] != (byte)MessageType.TransportData)
        {
            if (_controlQueue.Count >= ControlQueueLimit)
            {
                Interlocked.Increment(ref Counters.ControlQueueFull);
                return;
            }

            _controlQueue.Enqueue((datagram.ToArray(), source));
            _controlWakeup.Set();
            return;
        }

        InboundResult result = _device.ReceiveTransport(datagram, source);
        if (result.Kind != InboundKind.Data)
        {
            return;
        }

        ReadOnlySpan<byte> packet = datagram.Slice(result.PayloadOffset, result.PayloadLength);
        int version = packet.Length > 0 ? packet[0] >> 4 : 0;
        if (version is not (4 or 6))
        {
            // Not IP: a mesh control frame inside the session (authenticated by it).
            Interlocked.Increment(ref Counters.ControlFrames);
            ControlFrames?.Invoke(result.Peer!, packet, source);
            return;
        }

        if (!Routes.IsAllowedSource(packet, result.Peer!))
        {
            Interlocked.Increment(ref Counters.SourceNotAllowed);
            return;
        }

        Interlocked.Increment(ref Counters.PacketsToTun);
        if (_coalescer is not null)
        {
            _coalescer.Add(packet);
            return;
        }

        int written = _tun.HasVirtioHeader ? _tun.Write(virtio, packet) : _tun.Write(packet);
        if (written < 0)
        {
            Interlocked.Increment(ref Counters.TunWriteErrors);
        }
    }

    private sealed class TunWriter(TunDevice tun, DataPlaneCounters counters) : IVirtioPacketWriter
    {
        public void Write(ReadOnlySpan<byte> virtioHeader, ReadOnlySpan<byte> packet)
        {
            if (tun.Write(virtioHeader, packet) < 0)
            {
                Interlocked.Increment(ref counters.TunWriteErrors);
            }
        }
    }

    // ------------------------------------------------------------------ control

    private void ControlLoop()
    {
        while (!_stopping)
        {
            _controlWakeup.WaitOne(TimeSpan.FromMilliseconds(100));
            try
            {
                while (_controlQueue.TryDequeue(out (byte[] Datagram, UdpEndpoint Source) item))
                {
                    _device.ProcessHandshake(item.Datagram, item.Source.ToIPEndPoint(), _controlQueue.Count);
                }

                _device.Tick();
            }
            catch (Exception e)
            {
                Faults.Enqueue(e);
            }
        }
    }

    /// <summary>One line of totals for logs.</summary>
    public string Summary()
    {
        DataPlaneCounters c = Counters;
        return $"from tun {c.PacketsFromTun} (segments {c.Segments}), to tun {c.PacketsToTun} (super-packets {_coalescer?.SuperPackets ?? 0} of {_coalescer?.CoalescedSegments ?? 0} segments), "
            + $"batches {c.Batches}, drops: no route {c.NoRoute}, no endpoint {c.NoEndpoint}, source not allowed {c.SourceNotAllowed}, malformed {c.MalformedFromTun}, "
            + $"udp send failures {c.UdpSendFailures}, tun write errors {c.TunWriteErrors}, control queue full {c.ControlQueueFull}";
    }

    public void Dispose()
    {
        _stopping = true;
        _stop.Signal();
        _controlWakeup.Set();
        foreach (Thread thread in new[] { _inside, _outside, _control })
        {
            if (thread.IsAlive)
            {
                thread.Join(TimeSpan.FromSeconds(5));
            }
        }

        _stop.Dispose();
        _controlWakeup.Dispose();
        _injectedWake.Dispose();
    }
}
