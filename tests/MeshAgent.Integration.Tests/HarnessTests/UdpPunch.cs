using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Integration.Tests.Harness;

namespace MeshAgent.Integration.Tests.HarnessTests;

/// <summary>Which of a peer's candidates a side probes (ICE terms, RFC 8445 §5.1.1).</summary>
internal enum Candidates
{
    /// <summary>Host candidates (the peer's own addresses) and its server-reflexive one (STUN mapping).</summary>
    All,

    /// <summary>Only the server-reflexive candidate: two hosts of one site then need hairpinning.</summary>
    PublicOnly,
}

/// <summary>
/// One side of a plain-UDP hole-punching attempt (no meshagent): a socket in a lab host, its
/// host candidates and the mapping a STUN server reported for it.
/// </summary>
internal sealed class PunchSide(string name, LabHost host, Socket socket, IPEndPoint? reflexive) : IDisposable
{
    public string Name { get; } = name;

    public LabHost Host { get; } = host;

    public Socket Socket { get; } = socket;

    /// <summary>The STUN mapping; null when STUN got no answer (UDP blocked).</summary>
    public IPEndPoint? Reflexive { get; } = reflexive;

    public int LocalPort => ((IPEndPoint)Socket.LocalEndPoint!).Port;

    /// <summary>Opens a socket on an ephemeral port inside <paramref name="host"/> and asks <paramref name="stun"/> for its mapping.</summary>
    public static async Task<PunchSide> OpenAsync(string name, LabHost host, IPEndPoint stun)
    {
        var socket = host.Namespace.OpenUdpSocket(new IPEndPoint(IPAddress.Any, 0));
        var reflexive = await LabStun.QueryAsync(socket, stun, TimeSpan.FromSeconds(1));
        return new PunchSide(name, host, socket, reflexive);
    }

    /// <summary>What the other side may probe: host candidates (with <see cref="LocalPort"/>) and the STUN mapping.</summary>
    public IReadOnlyList<(IPEndPoint EndPoint, string Kind)> CandidatesFor(Candidates which)
    {
        List<(IPEndPoint, string)> list = [];
        if (Reflexive is not null)
        {
            list.Add((Reflexive, "srflx"));
        }
        if (which == Candidates.All)
        {
            list.AddRange(Host.LocalAddresses.Select(a => (new IPEndPoint(a, LocalPort), "host")));
        }
        return list;
    }

    public void Dispose() => Socket.Dispose();

    public override string ToString() => $"{Name} ({Host.Namespace.Label}:{LocalPort}, mapped {Reflexive?.ToString() ?? "none"})";
}

/// <summary>Outcome of one side: when its first probe was acknowledged and over which candidate.</summary>
internal sealed record PunchSideResult(TimeSpan? AckAfter, string? PathKind, IPEndPoint? AckFrom, int ProbesSent, int ProbesReceived)
{
    public bool Succeeded => AckAfter is not null;
}

/// <summary>Outcome of a pair: direct means each side got an answer to its own probe.</summary>
internal sealed record PunchResult(PunchSideResult A, PunchSideResult B)
{
    public bool Direct => A.Succeeded && B.Succeeded;

    /// <summary>"direct", "one-way" or "relay" (no direct path: a relay would be needed), as in the lab's matrix.</summary>
    public string Outcome => Direct ? "direct" : A.Succeeded || B.Succeeded ? "one-way" : "relay";

    public override string ToString() => Outcome switch
    {
        "relay" => $"relay (probes sent {A.ProbesSent}/{B.ProbesSent}, received {A.ProbesReceived}/{B.ProbesReceived})",
        _ => $"{Outcome}: A {Describe(A)}, B {Describe(B)}",
    };

    private static string Describe(PunchSideResult r)
        => r.Succeeded ? $"{r.PathKind} {r.AckFrom} after {r.AckAfter!.Value.TotalMilliseconds:0} ms" : "no answer";
}

/// <summary>
/// Simultaneous open as in ICE connectivity checks, reduced to what proves the NAT lab: both sides
/// start at once and every <see cref="ProbeInterval"/> send a probe to each candidate of the
/// other; a probe is answered with an ack to the address it came from, and a source not among
/// the candidates becomes a peer-reflexive candidate (RFC 8445 §7.3.1.3). A side succeeds when
/// an ack comes back. Both sides run in this process, so the attempt ends when both succeeded.
/// <code>
/// datagram: "LPUN" | kind (1 = probe, 2 = ack) | attempt id (u32) | sender (0 = A, 1 = B) | probe number (u32)
/// </code>
/// </summary>
internal static class UdpPunch
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(50);

    private const int MessageLength = 14;
    private const byte Probe = 1;
    private const byte Ack = 2;
    private static int _nextAttempt;

    public static async Task<PunchResult> RunAsync(PunchSide a, PunchSide b, Candidates candidates, TimeSpan budget)
    {
        var attempt = (uint)Interlocked.Increment(ref _nextAttempt);
        using var stop = new CancellationTokenSource(budget);
        var sideA = new Runner(a, 0, attempt, b.CandidatesFor(candidates));
        var sideB = new Runner(b, 1, attempt, a.CandidatesFor(candidates));
        var started = Stopwatch.GetTimestamp();
        var both = Task.WhenAll(sideA.SucceededTask, sideB.SucceededTask);
        var runs = Task.WhenAll(sideA.RunAsync(started, stop.Token), sideB.RunAsync(started, stop.Token));
        await Task.WhenAny(both, Task.Delay(budget));
        await stop.CancelAsync();
        await runs;
        return new PunchResult(sideA.Result(), sideB.Result());
    }

    private sealed class Runner(PunchSide side, byte sender, uint attempt, IReadOnlyList<(IPEndPoint EndPoint, string Kind)> initial)
    {
        private readonly List<(IPEndPoint EndPoint, string Kind)> _targets = [.. initial];
        private readonly Dictionary<uint, (IPEndPoint EndPoint, string Kind)> _sentTo = [];
        private readonly TaskCompletionSource _succeeded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _lock = new();
        private TimeSpan? _ackAfter;
        private string? _pathKind;
        private IPEndPoint? _ackFrom;
        private int _probesSent;
        private int _probesReceived;

        public Task SucceededTask => _succeeded.Task;

        public PunchSideResult Result()
        {
            lock (_lock)
            {
                return new PunchSideResult(_ackAfter, _pathKind, _ackFrom, _probesSent, _probesReceived);
            }
        }

        public async Task RunAsync(long started, CancellationToken stop)
        {
            var receive = ReceiveAsync(started, stop);
            var message = new byte[MessageLength];
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    (IPEndPoint EndPoint, string Kind)[] targets;
                    lock (_lock)
                    {
                        targets = [.. _targets];
                    }
                    foreach (var target in targets)
                    {
                        uint number;
                        lock (_lock)
                        {
                            number = (uint)++_probesSent;
                            _sentTo[number] = target;
                        }
                        Write(message, Probe, attempt, sender, number);
                        await SendAsync(message, target.EndPoint, stop);
                    }
                    await Task.Delay(ProbeInterval, stop);
                }
            }
            catch (OperationCanceledException)
            {
                // Budget spent or both sides done.
            }
            await receive;
        }

        private async Task ReceiveAsync(long started, CancellationToken stop)
        {
            var buffer = new byte[1500];
            var reply = new byte[MessageLength];
            while (!stop.IsCancellationRequested)
            {
                SocketReceiveFromResult received;
                try
                {
                    received = await side.Socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (SocketException)
                {
                    continue;
                }
                var from = (IPEndPoint)received.RemoteEndPoint;
                if (!TryRead(buffer.AsSpan(0, received.ReceivedBytes), out var kind, out var id, out var peer, out var number)
                    || id != attempt || peer == sender)
                {
                    continue;
                }
                if (kind == Probe)
                {
                    lock (_lock)
                    {
                        _probesReceived++;
                        if (!_targets.Any(t => t.EndPoint.Equals(from)))
                        {
                            _targets.Add((from, "prflx"));
                        }
                    }
                    Write(reply, Ack, attempt, sender, number);
                    await SendAsync(reply, from, stop);
                }
                else
                {
                    lock (_lock)
                    {
                        if (_ackAfter is null && _sentTo.TryGetValue(number, out var target))
                        {
                            _ackAfter = Stopwatch.GetElapsedTime(started);
                            _pathKind = $"{target.Kind} {target.EndPoint}";
                            _ackFrom = from;
                            _succeeded.TrySetResult();
                        }
                    }
                }
            }
        }

        private async Task SendAsync(byte[] message, IPEndPoint to, CancellationToken stop)
        {
            try
            {
                await side.Socket.SendToAsync(message, SocketFlags.None, to, stop);
            }
            catch (SocketException)
            {
                // E.g. EPERM or unreachable: the probe is lost, as on a real network.
            }
        }
    }

    private static void Write(Span<byte> message, byte kind, uint attempt, byte sender, uint number)
    {
        "LPUN"u8.CopyTo(message);
        message[4] = kind;
        BinaryPrimitives.WriteUInt32BigEndian(message[5..], attempt);
        message[9] = sender;
        BinaryPrimitives.WriteUInt32BigEndian(message[10..], number);
    }

    private static bool TryRead(ReadOnlySpan<byte> message, out byte kind, out uint attempt, out byte sender, out uint number)
    {
        kind = 0;
        attempt = 0;
        sender = 0;
        number = 0;
        if (message.Length != MessageLength || !message.StartsWith("LPUN"u8) || message[4] is not (Probe or Ack))
        {
            return false;
        }
        kind = message[4];
        attempt = BinaryPrimitives.ReadUInt32BigEndian(message[5..]);
        sender = message[9];
        number = BinaryPrimitives.ReadUInt32BigEndian(message[10..]);
        return true;
    }
}
