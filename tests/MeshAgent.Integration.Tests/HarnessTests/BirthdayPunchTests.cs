using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using MeshAgent.Integration.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.HarnessTests;

/// <summary>
/// The birthday-paradox technique for a port-restricted cone NAT (easy side) and a symmetric NAT
/// with random ports (hard side), which plain simultaneous open cannot join (see
/// <see cref="PunchMatrixTests"/>): the hard side sends from <see cref="HardSockets"/> sockets to
/// the easy side's mapping, opening that many random ports at its NAT that accept replies from
/// exactly that mapping; the easy side sends probes from its one socket to random ports of the
/// hard side's public address. A probe that hits one of the open ports is delivered and
/// answered, and the answer is let in because the probe opened the easy side's filter for it.
/// With n open ports out of N = 64,512 (1024–65535), k distinct probes miss all of them with
/// probability ≈ (1 − n/N)^k: for n = 256, 37 % after 250 probes, 1.9 % after 1,000, 5e-5 after
/// 2,500 (the expected number is N/(n + 1) ≈ 251).
/// </summary>
[Collection(NetnsCollection.Name)]
public sealed class BirthdayPunchTests(ITestOutputHelper output)
{
    private const int HardSockets = 256;

    /// <summary>
    /// The probe budget per attempt. 1,000 would fail 1.9 % of attempts by bad luck alone; 2,500
    /// keeps a false failure below 1 in 10,000 runs of this test while the probe counts are
    /// still reported.
    /// </summary>
    private const int MaxProbes = 2500;

    private const int Attempts = 3;
    private const int FirstPort = 1024;
    private const int PortCount = 65536 - FirstPort;
    private static readonly TimeSpan ProbeSpacing = TimeSpan.FromMilliseconds(2);

    private const byte Spray = 1;
    private const byte Probe = 2;
    private const byte Ack = 3;
    private const byte Data = 4;

    [Fact]
    public async Task Cone_meets_symmetric_when_the_hard_side_opens_256_ports_and_the_easy_side_probes_random_ports()
    {
        await using var lab = await Lab.CreateAsync(output);
        var stun = await lab.AddStunServerAsync();
        var easySite = await lab.AddNatSiteAsync("easy", NatType.Cone);
        var hardSite = await lab.AddNatSiteAsync("hard", NatType.Symmetric);

        var results = new List<BirthdayResult>();
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            var result = await AttemptAsync(easySite.Hosts[0], hardSite.Hosts[0], stun.EndPoint);
            output.WriteLine($"attempt {attempt}: {result}");
            results.Add(result);
        }

        output.WriteLine($"probes until the hit: {string.Join(", ", results.Select(r => r.HitProbe?.ToString() ?? "none"))} "
            + $"(budget {MaxProbes}, expected ≈ {PortCount / (HardSockets + 1)})");
        Assert.All(results, r => Assert.True(r.HitProbe is not null, $"no direct path: {r}"));
        Assert.All(results, r => Assert.True(r.DataBothWays, $"the path found did not carry data both ways: {r}"));
    }

    private async Task<BirthdayResult> AttemptAsync(LabHost easyHost, LabHost hardHost, IPEndPoint stun)
    {
        using var easy = easyHost.Namespace.OpenUdpSocket(new IPEndPoint(IPAddress.Any, 0));
        var hard = hardHost.Namespace.OpenUdpSockets(HardSockets, new IPEndPoint(IPAddress.Any, 0));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            var easyMapped = await LabStun.QueryAsync(easy, stun, TimeSpan.FromSeconds(1))
                ?? throw new InvalidOperationException($"{easyHost} got no STUN answer");
            // Only the address matters: every new destination gets another random port.
            var hardMapped = await LabStun.QueryAsync(hard[0], stun, TimeSpan.FromSeconds(1))
                ?? throw new InvalidOperationException($"{hardHost} got no STUN answer");

            // Hard side: answer any probe on any of the sockets, from that socket.
            var hits = new TaskCompletionSource<(int Socket, IPEndPoint From)>(TaskCreationOptions.RunContinuationsAsynchronously);
            var hardData = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var hardLoops = hard.Select((socket, index) => HardLoopAsync(socket, index, hits, hardData, stop.Token)).ToArray();
            var message = new byte[9];
            foreach (var socket in hard)
            {
                Write(message, Spray, 0);
                await socket.SendToAsync(message, SocketFlags.None, easyMapped, stop.Token);
                await socket.SendToAsync(message, SocketFlags.None, easyMapped, stop.Token);
            }

            // Easy side: distinct random ports, paced, until an ack arrives.
            var ack = EasyReceiveAsync(easy, Ack, stop.Token);
            var ports = Enumerable.Range(FirstPort, PortCount).ToArray();
            RandomNumberGenerator.Shuffle(ports.AsSpan());
            var clock = Stopwatch.StartNew();
            var sent = 0;
            while (sent < MaxProbes && !ack.IsCompleted)
            {
                Write(message, Probe, (uint)(sent + 1));
                await easy.SendToAsync(message, SocketFlags.None, new IPEndPoint(hardMapped.Address, ports[sent]), stop.Token);
                sent++;
                var ahead = ProbeSpacing * sent - clock.Elapsed;
                if (ahead > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(ahead, stop.Token);
                }
            }
            var answered = await Task.WhenAny(ack, Task.Delay(TimeSpan.FromMilliseconds(500), stop.Token)) == ack;
            if (!answered)
            {
                return new BirthdayResult(easyMapped, sent, null, null, clock.Elapsed, null, false);
            }
            var (hitProbe, hardEndPoint) = await ack;
            var elapsed = clock.Elapsed;
            var (hardSocket, _) = await hits.Task;

            // The path carries data both ways: easy → the hard socket that was hit, and back.
            Write(message, Data, 1);
            await easy.SendToAsync(message, SocketFlags.None, hardEndPoint, stop.Token);
            var dataAtHard = await Task.WhenAny(hardData.Task, Task.Delay(1000, stop.Token)) == hardData.Task && await hardData.Task == hardSocket;
            var back = EasyReceiveAsync(easy, Data, stop.Token);
            Write(message, Data, 2);
            await hard[hardSocket].SendToAsync(message, SocketFlags.None, easyMapped, stop.Token);
            var dataAtEasy = await Task.WhenAny(back, Task.Delay(1000, stop.Token)) == back;

            await stop.CancelAsync();
            await Task.WhenAll(hardLoops);
            return new BirthdayResult(easyMapped, sent, (int)hitProbe, hardEndPoint, elapsed, hardSocket, dataAtHard && dataAtEasy);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var socket in hard)
            {
                socket.Dispose();
            }
        }
    }

    private static async Task HardLoopAsync(
        Socket socket, int index, TaskCompletionSource<(int, IPEndPoint)> hits, TaskCompletionSource<int> data, CancellationToken stop)
    {
        var buffer = new byte[64];
        var reply = new byte[9];
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), stop);
                if (!TryRead(buffer.AsSpan(0, received.ReceivedBytes), out var kind, out var number))
                {
                    continue;
                }
                var from = (IPEndPoint)received.RemoteEndPoint;
                if (kind == Probe)
                {
                    hits.TrySetResult((index, from));
                    Write(reply, Ack, number);
                    await socket.SendToAsync(reply, SocketFlags.None, from, stop);
                }
                else if (kind == Data)
                {
                    data.TrySetResult(index);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                // Keep listening.
            }
        }
    }

    /// <summary>The first datagram of <paramref name="kind"/>: its number and where it came from.</summary>
    private static async Task<(uint Number, IPEndPoint From)> EasyReceiveAsync(Socket socket, byte kind, CancellationToken stop)
    {
        var buffer = new byte[64];
        while (true)
        {
            var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), stop);
            if (TryRead(buffer.AsSpan(0, received.ReceivedBytes), out var k, out var number) && k == kind)
            {
                return (number, (IPEndPoint)received.RemoteEndPoint);
            }
        }
    }

    // "LBDY" | kind | number (u32)
    private static void Write(Span<byte> message, byte kind, uint number)
    {
        "LBDY"u8.CopyTo(message);
        message[4] = kind;
        BinaryPrimitives.WriteUInt32BigEndian(message[5..], number);
    }

    private static bool TryRead(ReadOnlySpan<byte> message, out byte kind, out uint number)
    {
        kind = message.Length == 9 && message.StartsWith("LBDY"u8) ? message[4] : (byte)0;
        number = kind == 0 ? 0 : BinaryPrimitives.ReadUInt32BigEndian(message[5..]);
        return kind != 0;
    }

    private sealed record BirthdayResult(
        IPEndPoint EasyMapped, int ProbesSent, int? HitProbe, IPEndPoint? HardEndPoint, TimeSpan Elapsed, int? HardSocket, bool DataBothWays)
    {
        public override string ToString() => HitProbe is null
            ? $"no hit after {ProbesSent} probes in {Elapsed.TotalSeconds:0.00} s (easy side mapped {EasyMapped})"
            : $"probe {HitProbe} (of {ProbesSent} sent) hit hard socket {HardSocket} at {HardEndPoint} after {Elapsed.TotalMilliseconds:0} ms; "
                + $"data both ways: {DataBothWays} (easy side mapped {EasyMapped})";
    }
}
