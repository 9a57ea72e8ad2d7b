using System.Buffers.Binary;
using System.Net;
using MeshAgent.Core.Net;
using Xunit;
using Libc = MeshAgent.Core.Interop.Linux.Interop.Libc;

namespace MeshAgent.Tests.Interop;

/// <summary>
/// UdpBatchSocket on 127.0.0.1 of the test's own namespace (loopback only: no address or route is changed).
/// The namespace-isolated versions of these exchanges are in MeshAgent.Integration.Tests/Interop.
/// </summary>
public sealed class UdpBatchSocketTests
{
    private static readonly IPEndPoint Loopback = new(IPAddress.Loopback, 0);

    [Fact]
    public void Exchanges_a_64_message_batch_with_sources_and_lengths()
    {
        using var sender = UdpBatchSocket.Open(Loopback);
        using var receiver = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gro = false });
        using var send = new UdpSendBatch(64, 2048);
        using var receive = new UdpReceiveBatch(64, 2048);
        using var stop = new EventFd();
        var destination = UdpEndpoint.FromIPEndPoint(receiver.LocalEndPoint);

        for (int i = 0; i < 64; i++)
        {
            Fill(send.GetBuffer(i)[..(100 + i)], seed: i);
            send.Set(i, 100 + i, destination);
        }

        UdpSendResult result = sender.Send(send, 64);
        Assert.Equal(new UdpSendResult(64, 0, 0), result);

        var seen = new HashSet<int>();
        ReceiveUntil(receiver, receive, stop, 64, (batch, i) =>
        {
            Span<byte> message = batch.GetMessage(i);
            int seed = message.Length - 100;
            Assert.True(seen.Add(seed), $"message {seed} arrived twice");
            Assert.True(IsFilled(message, seed), $"message {seed} has wrong content");
            Assert.Equal(UdpEndpoint.FromIPEndPoint(sender.LocalEndPoint), batch.GetSource(i));
            Assert.Equal(0, batch.GetSegmentSize(i));
            Assert.False(batch.IsTruncated(i));
            return 1;
        });
        Assert.Equal(64, seen.Count);
    }

    [Fact]
    public void Gso_message_arrives_as_separate_datagrams_at_a_receiver_without_gro()
    {
        using var sender = UdpBatchSocket.Open(Loopback);
        using var receiver = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gro = false });
        Assert.True(sender.GsoEnabled, "UDP_SEGMENT should be supported (Linux >= 4.18)");
        Assert.False(receiver.GroEnabled);

        List<byte[]> datagrams = SendOneSegmentedMessage(sender, receiver, receiveBufferSize: 2048);
        Assert.Equal(10, datagrams.Count);
        Assert.All(datagrams, d => Assert.Equal(1000, d.Length));
        Assert.True(IsFilled(datagrams.SelectMany(d => d).ToArray(), seed: 7));
    }

    [Fact]
    public void Gso_message_arrives_coalesced_with_its_segment_size_at_a_gro_receiver()
    {
        using var sender = UdpBatchSocket.Open(Loopback);
        using var receiver = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gro = true });
        Assert.True(receiver.GroEnabled, "UDP_GRO should be supported (Linux >= 5.12)");

        var segmentSizes = new List<int>();
        List<byte[]> messages = SendOneSegmentedMessage(sender, receiver, UdpReceiveBatch.GroBufferSize, segmentSizes);

        // Loopback hands the GSO superpacket to a GRO socket whole, with UDP_GRO cmsg = segment size.
        Assert.Single(messages);
        Assert.Equal(10_000, messages[0].Length);
        Assert.Equal([1000], segmentSizes);
        Assert.True(IsFilled(messages[0], seed: 7));
    }

    [Fact]
    public void Without_gso_a_segmented_message_is_split_into_datagrams_in_software()
    {
        using var sender = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gso = false });
        using var receiver = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gro = false });
        Assert.False(sender.GsoEnabled);

        List<byte[]> datagrams = SendOneSegmentedMessage(sender, receiver, receiveBufferSize: 2048);
        Assert.Equal(10, datagrams.Count);
        Assert.All(datagrams, d => Assert.Equal(1000, d.Length));
        Assert.True(IsFilled(datagrams.SelectMany(d => d).ToArray(), seed: 7));
    }

    [Fact]
    public void A_message_the_kernel_refuses_is_counted_and_the_rest_still_go()
    {
        using var sender = UdpBatchSocket.Open(Loopback);
        using var receiver = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gro = false });
        using var send = new UdpSendBatch(3, 64);
        using var receive = new UdpReceiveBatch(8, 64);
        using var stop = new EventFd();
        var good = UdpEndpoint.FromIPEndPoint(receiver.LocalEndPoint);

        send.Set(0, 10, good);
        send.Set(1, 10, new UdpEndpoint(IPAddress.IPv6Loopback, 9)); // IPv6 from an IPv4 socket
        send.Set(2, 20, good);
        send.GetBuffer(2)[0] = 2;
        send.GetBuffer(0)[0] = 0;

        Assert.Equal(new UdpSendResult(2, 1, Libc.EAFNOSUPPORT), sender.Send(send, 3));
        var lengths = new List<int>();
        ReceiveUntil(receiver, receive, stop, 2, (batch, i) =>
        {
            lengths.Add(batch.GetMessage(i).Length);
            return 1;
        });
        Assert.Equal([10, 20], lengths.Order());
    }

    [Fact]
    public void Dual_stack_socket_talks_to_ipv4_peers_as_ipv4_endpoints()
    {
        using var v6 = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = new IPEndPoint(IPAddress.IPv6Any, 0), DualStack = true, Gro = false });
        using var v4 = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gro = false });
        using var send = new UdpSendBatch(1, 64);
        using var receive = new UdpReceiveBatch(4, 64);
        using var stop = new EventFd();

        // IPv4 peer -> dual-stack socket: the source is reported as plain IPv4, not ::ffff:127.0.0.1.
        send.Set(0, 5, new UdpEndpoint(IPAddress.Loopback, v6.LocalEndPoint.Port));
        Assert.Equal(1, v4.Send(send, 1).Sent);
        UdpEndpoint source = default;
        ReceiveUntil(v6, receive, stop, 1, (batch, i) =>
        {
            source = batch.GetSource(i);
            return 1;
        });
        Assert.Equal(UdpEndpoint.FromIPEndPoint(v4.LocalEndPoint), source);
        Assert.False(source.IsIPv6);

        // Dual-stack socket -> IPv4 endpoint (sent as ::ffff:a.b.c.d).
        send.Set(0, 6, source);
        Assert.Equal(1, v6.Send(send, 1).Sent);
        ReceiveUntil(v4, receive, stop, 1, (batch, i) =>
        {
            Assert.Equal(6, batch.GetMessage(i).Length);
            Assert.Equal(v6.LocalEndPoint.Port, batch.GetSource(i).Port);
            return 1;
        });
    }

    [Fact]
    public void Buffers_are_forced_to_7_MiB_when_privileged()
    {
        using var socket = UdpBatchSocket.Open(Loopback);

        // The kernel reports twice the value set (half is bookkeeping overhead). Unprivileged, SO_RCVBUF is
        // capped by net.core.rmem_max instead.
        if (Environment.IsPrivilegedProcess)
        {
            Assert.Equal(2 * UdpBatchOptions.DefaultBufferSize, socket.ReceiveBufferSize);
            Assert.Equal(2 * UdpBatchOptions.DefaultBufferSize, socket.SendBufferSize);
        }
        else
        {
            Assert.True(socket.ReceiveBufferSize > 0 && socket.SendBufferSize > 0);
        }
    }

    [Fact]
    public void Reuse_port_lets_sockets_share_a_port_and_a_busy_port_gets_a_clear_error()
    {
        using var first = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, ReusePort = true });
        var shared = new IPEndPoint(IPAddress.Loopback, first.LocalEndPoint.Port);
        using var second = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = shared, ReusePort = true });
        Assert.Equal(first.LocalEndPoint, second.LocalEndPoint);

        var error = Assert.Throws<NativeCallException>(() => UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = shared }));
        Assert.Equal(Libc.EADDRINUSE, error.Errno);
        Assert.StartsWith($"opening UDP socket on {shared} failed: bind: address already in use (EADDRINUSE) — ", error.Message);
    }

    [Fact]
    public void Receive_on_an_empty_socket_returns_zero_without_blocking()
    {
        using var socket = UdpBatchSocket.Open(Loopback);
        using var receive = new UdpReceiveBatch(8, 64);
        Assert.Equal(0, socket.Receive(receive));
        Assert.Equal(0, receive.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => receive.GetMessage(0));
    }

    [Fact]
    public void Batches_do_not_allocate()
    {
        using var sender = UdpBatchSocket.Open(Loopback);
        using var receiver = UdpBatchSocket.Open(new UdpBatchOptions { LocalEndPoint = Loopback, Gro = false });
        using var send = new UdpSendBatch(64, 1500);
        using var receive = new UdpReceiveBatch(64, 1500);
        using var stop = new EventFd();
        var destination = UdpEndpoint.FromIPEndPoint(receiver.LocalEndPoint);

        long checksum = 0;
        void RoundTrip()
        {
            for (int i = 0; i < 64; i++)
            {
                Span<byte> buffer = send.GetBuffer(i);
                BinaryPrimitives.WriteInt32LittleEndian(buffer, i);
                send.Set(i, 200 + i, destination);
            }

            UdpSendResult result = sender.Send(send, 64);
            if (result.Sent != 64)
            {
                throw new InvalidOperationException($"sent {result.Sent} of 64 (errno {result.LastError})");
            }

            int received = 0;
            while (received < 64)
            {
                if (Poll.WaitReadable(receiver.Handle, stop, 5000) != PollResult.Readable)
                {
                    throw new TimeoutException($"received {received} of 64");
                }

                int n = receiver.Receive(receive);
                for (int i = 0; i < n; i++)
                {
                    checksum += BinaryPrimitives.ReadInt32LittleEndian(receive.GetMessage(i)) + receive.GetSource(i).Port;
                }

                received += Math.Max(n, 0);
            }
        }

        for (int i = 0; i < 20; i++)
        {
            RoundTrip(); // warm up: JIT, tiering, first-call stubs
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 500; i++)
        {
            RoundTrip();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.NotEqual(0, checksum);
    }

    /// <summary>Sends one 10 000-byte message with segment size 1000 and collects what arrives.</summary>
    private static List<byte[]> SendOneSegmentedMessage(UdpBatchSocket sender, UdpBatchSocket receiver, int receiveBufferSize, List<int>? segmentSizes = null)
    {
        using var send = new UdpSendBatch(1, 10_000);
        using var receive = new UdpReceiveBatch(16, receiveBufferSize);
        using var stop = new EventFd();
        Fill(send.GetBuffer(0), seed: 7);
        send.Set(0, 10_000, UdpEndpoint.FromIPEndPoint(receiver.LocalEndPoint), segmentSize: 1000);
        Assert.Equal(new UdpSendResult(1, 0, 0), sender.Send(send, 1));

        var messages = new List<byte[]>();
        int bytes = 0;
        ReceiveUntil(receiver, receive, stop, 10_000, (batch, i) =>
        {
            byte[] message = batch.GetMessage(i).ToArray();
            messages.Add(message);
            segmentSizes?.Add(batch.GetSegmentSize(i));
            bytes += message.Length;
            return message.Length;
        });
        Assert.Equal(10_000, bytes);
        return messages;
    }

    /// <summary>Polls and receives until <paramref name="handle"/> has accounted for <paramref name="target"/> units.</summary>
    internal static void ReceiveUntil(UdpBatchSocket socket, UdpReceiveBatch batch, EventFd stop, int target, Func<UdpReceiveBatch, int, int> handle)
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

    internal static void Fill(Span<byte> buffer, int seed)
    {
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = (byte)((i * 31) + seed);
        }
    }

    internal static bool IsFilled(ReadOnlySpan<byte> buffer, int seed)
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
