using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using MeshAgent.Core.Net;
using Xunit;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Interop;

/// <summary>
/// UdpBatchSocket in a fresh namespace: batch exchanges over its loopback, and GSO leaving through TUN
/// devices with and without UDP segmentation offload.
/// </summary>
public sealed class UdpBatchNamespaceTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint Loopback = new(IPAddress.Loopback, 0);

    [Fact]
    public void Two_sockets_exchange_64_message_batches_with_and_without_gso()
    {
        using var ns = InteropNamespace.Create();
        ns.Run(() =>
        {
            using (var netlink = Netlink.Open())
            {
                netlink.SetLinkUp("lo"); // a new namespace starts with lo down
            }

            using var a = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gro = false });
            using var b = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gro = false });
            using var stop = new EventFd();
            using var send = new UdpSendBatch(64, 4000);
            using var receive = new UdpReceiveBatch(64, 2048);
            Assert.True(a.GsoEnabled);

            // Plain batches both ways: every message arrives once, intact, from the right source.
            foreach ((UdpBatchSocket from, UdpBatchSocket to) in new[] { (a, b), (b, a) })
            {
                for (int i = 0; i < 64; i++)
                {
                    Fill(send.GetBuffer(i)[..(64 + i)], seed: i);
                    send.Set(i, 64 + i, UdpEndpoint.FromIPEndPoint(to.LocalEndPoint));
                }

                Assert.Equal(new UdpSendResult(64, 0, 0), from.Send(send, 64));
                var seeds = new HashSet<int>();
                ReceiveUntil(to, receive, stop, 64, (batch, i) =>
                {
                    Span<byte> message = batch.GetMessage(i);
                    Assert.True(IsFilled(message, message.Length - 64));
                    Assert.True(seeds.Add(message.Length - 64));
                    Assert.Equal(UdpEndpoint.FromIPEndPoint(from.LocalEndPoint), batch.GetSource(i));
                    return 1;
                });
            }

            // 64 GSO messages of 4 x 1000 bytes in one sendmmsg: 256 datagrams at a receiver without GRO.
            // Each segment starts with (message, segment) so every datagram can be told apart.
            for (int i = 0; i < 64; i++)
            {
                Span<byte> message = send.GetBuffer(i)[..4000];
                Fill(message, seed: i);
                for (int k = 0; k < 4; k++)
                {
                    message[1000 * k] = (byte)i;
                    message[(1000 * k) + 1] = (byte)k;
                }

                send.Set(i, 4000, UdpEndpoint.FromIPEndPoint(b.LocalEndPoint), segmentSize: 1000);
            }

            Assert.Equal(new UdpSendResult(64, 0, 0), a.Send(send, 64));
            var segments = new HashSet<(int Message, int Segment)>();
            ReceiveUntil(b, receive, stop, 256, (batch, i) =>
            {
                Span<byte> datagram = batch.GetMessage(i);
                Assert.Equal(1000, datagram.Length);
                Assert.Equal(0, batch.GetSegmentSize(i));
                int message = datagram[0];
                int segment = datagram[1];
                Assert.True(segments.Add((message, segment)), $"segment {segment} of message {message} arrived twice");
                for (int j = 2; j < datagram.Length; j++)
                {
                    Assert.Equal((byte)((((1000 * segment) + j) * 31) + message), datagram[j]);
                }

                return 1;
            });
            Assert.Equal(256, segments.Count);
        });
    }

    [Fact]
    public void A_10_KB_gso_message_arrives_as_10_datagrams_or_coalesced_with_its_segment_size()
    {
        using var ns = InteropNamespace.Create();
        ns.Run(() =>
        {
            using (var netlink = Netlink.Open())
            {
                netlink.SetLinkUp("lo");
            }

            using var sender = UdpBatchSocket.Open(Loopback);
            using var plain = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gro = false });
            using var gro = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gro = true });
            using var stop = new EventFd();
            using var send = new UdpSendBatch(2, 10_000);
            using var receive = new UdpReceiveBatch(16, UdpReceiveBatch.GroBufferSize);
            Assert.True(gro.GroEnabled);

            Fill(send.GetBuffer(0), seed: 3);
            Fill(send.GetBuffer(1), seed: 3);
            send.Set(0, 10_000, UdpEndpoint.FromIPEndPoint(plain.LocalEndPoint), segmentSize: 1000);
            send.Set(1, 10_000, UdpEndpoint.FromIPEndPoint(gro.LocalEndPoint), segmentSize: 1000);
            Assert.Equal(new UdpSendResult(2, 0, 0), sender.Send(send, 2));

            var plainLengths = new List<int>();
            var assembled = new List<byte>();
            ReceiveUntil(plain, receive, stop, 10, (batch, i) =>
            {
                plainLengths.Add(batch.GetMessage(i).Length);
                assembled.AddRange(batch.GetMessage(i).ToArray());
                return 1;
            });
            Assert.All(plainLengths, length => Assert.Equal(1000, length));
            Assert.True(IsFilled(assembled.ToArray(), seed: 3));

            int groBytes = 0;
            var segmentSizes = new List<int>();
            ReceiveUntil(gro, receive, stop, 10_000, (batch, i) =>
            {
                Assert.True(IsFilled(batch.GetMessage(i), seed: 3), "the coalesced message differs from what was sent");
                segmentSizes.Add(batch.GetSegmentSize(i));
                groBytes += batch.GetMessage(i).Length;
                return batch.GetMessage(i).Length;
            });
            Assert.Equal([1000], segmentSizes);
        });
    }

    [Fact]
    public void Gso_through_a_tun_with_uso_arrives_as_one_superpacket_with_its_virtio_header()
    {
        using var ns = InteropNamespace.Create();
        ns.Run(() =>
        {
            using var tun = TunDevice.Create("mtest0");
            using (var netlink = Netlink.Open())
            {
                netlink.AddAddress("mtest0", IPAddress.Parse("10.77.0.1"), 24);
                netlink.SetLinkUp("mtest0");
            }

            using var socket = UdpBatchSocket.Open(new IPEndPoint(IPAddress.Parse("10.77.0.1"), 0));
            List<(VirtioNetHeader Header, byte[] Packet)> packets = SendGsoAndCapture(socket, tun, expectedPayloadBytes: 10_000);

            if ((tun.Offloads & TunOffloads.Uso4) != 0)
            {
                // Kernel >= 6.2 with TUN_F_USO4/6: the 10 datagrams reach us as one UDP superpacket.
                (VirtioNetHeader header, byte[] packet) = Assert.Single(packets);
                Assert.Equal(VirtioGsoType.UdpL4, header.GsoType);
                Assert.Equal(1000, header.GsoSize);
                Assert.True(header.Flags.HasFlag(VirtioNetHeaderFlags.NeedsChecksum));
                Assert.Equal(Packets.IPv4HeaderLength, header.ChecksumStart);
                Assert.Equal(6, header.ChecksumOffset); // the UDP checksum field
                Assert.Equal(Packets.IPv4HeaderLength + 8 + 10_000, packet.Length);
            }
            else
            {
                Assert.Equal(10, packets.Count);
                Assert.All(packets, p => Assert.Equal(VirtioGsoType.None, p.Header.GsoType));
            }
        });
    }

    [Fact]
    public void Gso_through_a_device_without_checksum_offload_still_delivers_every_datagram()
    {
        using var ns = InteropNamespace.Create();
        ns.Run(() =>
        {
            // No virtio header, no offloads: the device cannot checksum. Older kernels fail such a GSO send with
            // EIO, which must switch GSO off and resend the message split; newer ones (6.11+) segment in software.
            using var tun = TunDevice.Create("mtest1", new TunOptions { VirtioHeader = false, Offloads = TunOffloads.None });
            using (var netlink = Netlink.Open())
            {
                netlink.AddAddress("mtest1", IPAddress.Parse("10.77.0.1"), 24);
                netlink.SetLinkUp("mtest1");
            }

            using var socket = UdpBatchSocket.Open(new IPEndPoint(IPAddress.Parse("10.77.0.1"), 0));
            Assert.True(socket.GsoEnabled);
            List<(VirtioNetHeader Header, byte[] Packet)> packets = SendGsoAndCapture(socket, tun, expectedPayloadBytes: 10_000);
            Assert.Equal(10, packets.Count);
            Assert.All(packets, p => Assert.Equal(Packets.IPv4HeaderLength + 8 + 1000, p.Packet.Length));
            output.WriteLine(socket.GsoEnabled
                ? "the kernel segmented the GSO send in software (no EIO)"
                : "the kernel refused the GSO send with EIO; GSO is off and the message went out split");
        });
    }

    /// <summary>
    /// Sends one 10 000-byte message (segment size 1000) to 10.77.0.2:9 and reads the UDP packets that come out
    /// of <paramref name="tun"/> until their payloads add up to <paramref name="expectedPayloadBytes"/>.
    /// </summary>
    private static List<(VirtioNetHeader Header, byte[] Packet)> SendGsoAndCapture(UdpBatchSocket socket, TunDevice tun, int expectedPayloadBytes)
    {
        using var send = new UdpSendBatch(1, 10_000);
        Fill(send.GetBuffer(0), seed: 5);
        send.Set(0, 10_000, new UdpEndpoint(IPAddress.Parse("10.77.0.2"), 9), segmentSize: 1000);
        Assert.Equal(new UdpSendResult(1, 0, 0), socket.Send(send, 1));

        var packets = new List<(VirtioNetHeader, byte[])>();
        var payload = new List<byte>();
        byte[] buffer = new byte[TunDevice.MaxReadSize];
        var clock = Stopwatch.StartNew();
        while (payload.Count < expectedPayloadBytes && clock.ElapsedMilliseconds < 5000)
        {
            int n = tun.Read(buffer);
            Assert.True(n >= 0, $"reading {tun.Name} failed: {Errno.Describe(-n)}");
            if (n == 0)
            {
                Thread.Sleep(1);
                continue;
            }

            VirtioNetHeader header = default;
            int offset = 0;
            if (tun.HasVirtioHeader)
            {
                Assert.True(VirtioNetHeader.TryRead(buffer.AsSpan(0, n), out header));
                offset = VirtioNetHeader.Size;
            }

            ReadOnlySpan<byte> packet = buffer.AsSpan(offset, n - offset);
            if (!Packets.TryReadIPv4(packet, out byte protocol, out _, out ReadOnlySpan<byte> destination, out ReadOnlySpan<byte> udp)
                || protocol != Packets.ProtocolUdp || destination[3] != 2)
            {
                continue; // IPv6 router solicitations and the like
            }

            Assert.Equal(9, BinaryPrimitives.ReadUInt16BigEndian(udp[2..]));
            packets.Add((header, packet.ToArray()));
            payload.AddRange(udp[8..].ToArray());
        }

        Assert.Equal(expectedPayloadBytes, payload.Count);
        Assert.True(IsFilled(payload.ToArray(), seed: 5), "the UDP payloads do not reassemble into what was sent");
        return packets;
    }

    private static void ReceiveUntil(UdpBatchSocket socket, UdpReceiveBatch batch, EventFd stop, int target, Func<UdpReceiveBatch, int, int> handle)
    {
        int total = 0;
        while (total < target)
        {
            PollResult ready = Poll.WaitReadable(socket.Handle, stop, 5000);
            Assert.True(ready == PollResult.Readable, $"waiting for data: {ready} after {total} of {target}");
            int n = socket.Receive(batch);
            Assert.True(n >= 0, $"receive failed: {Errno.Describe(-n)}");
            for (int i = 0; i < n; i++)
            {
                total += handle(batch, i);
            }
        }

        Assert.Equal(target, total);
    }

    // Byte i of a message with seed s is (i * 31 + s) mod 256: position-dependent, so reordering or loss shows.
    private static void Fill(Span<byte> buffer, int seed)
    {
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = (byte)((i * 31) + seed);
        }
    }

    private static bool IsFilled(ReadOnlySpan<byte> buffer, int seed)
    {
        for (int i = 0; i < buffer.Length; i++)
        {
            if (buffer[i] != (byte)((i * 31) + seed))
            {
                return false;
            }
        }

        return true;
    }
}
