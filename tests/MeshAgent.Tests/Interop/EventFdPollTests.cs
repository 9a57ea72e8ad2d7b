using System.Diagnostics;
using System.Net;
using MeshAgent.Core.Net;
using Xunit;

namespace MeshAgent.Tests.Interop;

/// <summary>STYLE rule 3: a data-plane reader blocked in poll is stopped by an eventfd, not by closing its fd.</summary>
public sealed class EventFdPollTests
{
    [Fact]
    public void Times_out_when_nothing_happens()
    {
        using var stop = new EventFd();
        using var socket = UdpBatchSocket.Open(new IPEndPoint(IPAddress.Loopback, 0));
        var clock = Stopwatch.StartNew();
        Assert.Equal(PollResult.TimedOut, Poll.WaitReadable(socket.Handle, stop, 100));
        Assert.InRange(clock.ElapsedMilliseconds, 90, 5000);
    }

    [Fact]
    public void Signal_from_another_thread_wakes_a_reader_blocked_forever()
    {
        using var stop = new EventFd();
        using var socket = UdpBatchSocket.Open(new IPEndPoint(IPAddress.Loopback, 0));
        PollResult result = PollResult.TimedOut;
        var reader = new Thread(() => result = Poll.WaitReadable(socket.Handle, stop)) { IsBackground = true };
        reader.Start();

        Thread.Sleep(100);
        Assert.True(reader.IsAlive, "the reader should be blocked in poll");
        stop.Signal();
        Assert.True(reader.Join(5000), "the signal did not wake the reader");
        Assert.Equal(PollResult.Woken, result);

        // Level-triggered until reset: every later wait returns at once, so one signal stops all readers.
        Assert.Equal(PollResult.Woken, Poll.WaitReadable(socket.Handle, stop, 0));
        Assert.True(stop.Reset());
        Assert.False(stop.Reset());
        Assert.Equal(PollResult.TimedOut, Poll.WaitReadable(socket.Handle, stop, 0));
    }

    [Fact]
    public void Reports_readable_when_data_arrives_and_both_when_also_signalled()
    {
        using var stop = new EventFd();
        using var receiver = UdpBatchSocket.Open(new IPEndPoint(IPAddress.Loopback, 0));
        using var sender = UdpBatchSocket.Open(new IPEndPoint(IPAddress.Loopback, 0));
        using var batch = new UdpSendBatch(1, 16);
        batch.Set(0, 16, UdpEndpoint.FromIPEndPoint(receiver.LocalEndPoint));
        Assert.Equal(1, sender.Send(batch, 1).Sent);

        Assert.Equal(PollResult.Readable, Poll.WaitReadable(receiver.Handle, stop, 5000));
        stop.Signal();
        stop.Signal();
        Assert.Equal(PollResult.Readable | PollResult.Woken, Poll.WaitReadable(receiver.Handle, stop, 0));
    }

    [Fact]
    public void The_work_eventfd_wakes_a_reader_and_is_reported_apart_from_stop()
    {
        using var stop = new EventFd();
        using var work = new EventFd();
        using var socket = UdpBatchSocket.Open(new IPEndPoint(IPAddress.Loopback, 0));
        Assert.Equal(PollResult.TimedOut, Poll.WaitReadable(socket.Handle, stop, work, 0));

        PollResult result = PollResult.TimedOut;
        var reader = new Thread(() => result = Poll.WaitReadable(socket.Handle, stop, work)) { IsBackground = true };
        reader.Start();
        Thread.Sleep(100);
        Assert.True(reader.IsAlive, "the reader should be blocked in poll");
        work.Signal();
        Assert.True(reader.Join(5000), "signalling the work eventfd did not wake the reader");
        Assert.Equal(PollResult.Work, result);

        stop.Signal();
        Assert.Equal(PollResult.Work | PollResult.Woken, Poll.WaitReadable(socket.Handle, stop, work, 0));
        Assert.True(work.Reset());
        Assert.Equal(PollResult.Woken, Poll.WaitReadable(socket.Handle, stop, work, 0));
    }

    [Fact]
    public void A_disposed_handle_is_refused_not_polled()
    {
        var stop = new EventFd();
        stop.Dispose();
        using var other = new EventFd();
        Assert.Throws<ObjectDisposedException>(() => Poll.WaitReadable(stop.Handle, other, 0));
    }
}
