using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Dns;
using MeshAgent.Core.Trust;

namespace MeshAgent.Engine.Discovery;

/// <summary>
/// LAN discovery of agents by Multicast DNS service discovery (RFC 6762, RFC 6763), as DESIGN §5
/// asks: works with no internet at all, and stock tools (avahi-browse, dns-sd) see the agent.
/// <para>
/// Publishes "&lt;node name&gt;._meshagent._udp.local" (SRV → "&lt;host&gt;.local":port, TXT v=1,
/// net=&lt;network tag&gt;, node=&lt;node key&gt;, A/AAAA of each interface's addresses, PTR from the
/// service type and from the service type enumeration): probes 3 times 250 ms apart, announces
/// twice 1 s apart (§8), renames "name (2)" / "host-2" on a conflict (§9), answers queries with
/// known-answer suppression (§7.1) and NSEC for missing address families (§6.1), says goodbye with
/// TTL 0 on stop (§10.1). Browses with PTR queries at 1 s doubling to 60 min (§5.2), keeps a TTL
/// cache with cache-flush (§10.2) and refresh queries at 80–95 % of TTL (§5.2), resolves
/// SRV/TXT/addresses, and reports agents of our network only (TXT net= equal to ours) through
/// <see cref="PeerDiscovered"/> (also when a peer's endpoints change) and <see cref="PeerLost"/>.
/// </para>
/// <para>
/// Threading: every entry point (datagram, timer, start, stop) takes one lock, so the state machine
/// runs one step at a time; events are raised after the lock is released, in order, one at a time.
/// Time comes from <see cref="MdnsServiceOptions.Time"/> (a single timer re-armed to the next
/// deadline) and randomness from <see cref="MdnsServiceOptions.Random"/>, so tests drive it exactly.
/// </para>
/// </summary>
public sealed partial class MdnsService : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan Never = TimeSpan.MaxValue;
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromHours(1);

    private readonly MdnsServiceOptions _options;
    private readonly IMdnsTransport _transport;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly long _origin;
    private readonly Lock _gate = new();
    private readonly Lock _eventGate = new();
    private readonly ConcurrentQueue<(bool Discovered, MdnsPeer Peer)> _events = new();
    private readonly byte[] _sendBuffer = new byte[DnsMessage.MaxMulticastSize];
    private readonly Receiver _receiver;
    private IReadOnlyList<MdnsInterface> _interfaces = [];
    private ITimer? _timer;
    private RunState _state;

    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public MdnsService(MdnsServiceOptions options, IMdnsTransport transport)
    {
        IReadOnlyList<string> problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("mDNS options are invalid:\n  " + string.Join("\n  ", problems), nameof(options));
        }

        _options = options;
        _transport = transport;
        _time = options.Time;
        _random = options.Random ?? new Random();
        _origin = _time.GetTimestamp();
        _receiver = new Receiver(this);
        _ownNodeKey = NodePublicKey.Parse(options.NodePublicKeyText);
        _txt = DnsTxtData.FromStrings("v=1", $"net={options.NetworkTag}", $"node={options.NodePublicKeyText}");
        _browseInterval = options.BrowseInitialInterval;
        SetNames(instanceAttempt: 1, hostAttempt: 1);
    }

    private enum RunState
    {
        NotStarted,
        Running,
        Stopped,
    }

    /// <summary>The DNS-SD service type of agents: "_meshagent._udp.local".</summary>
    public static DnsName ServiceType { get; } = DnsName.Parse("_meshagent._udp.local");

    /// <summary>An agent of our network appeared, or the endpoints of one already reported changed.</summary>
    public event EventHandler<MdnsPeerEventArgs>? PeerDiscovered;

    /// <summary>A reported agent left (goodbye, or its records expired).</summary>
    public event EventHandler<MdnsPeerEventArgs>? PeerLost;

    /// <summary>Instance label in use now (the node name, or "name (n)" after conflicts).</summary>
    public string InstanceName
    {
        get
        {
            lock (_gate)
            {
                return _instanceLabel;
            }
        }
    }

    /// <summary>Host label in use now (SRV target "&lt;HostName&gt;.local").</summary>
    public string HostName
    {
        get
        {
            lock (_gate)
            {
                return _hostLabel;
            }
        }
    }

    /// <summary>Where publishing stands: Probing → Announcing → Announced; Off when not publishing.</summary>
    public MdnsPublishState PublishState
    {
        get
        {
            lock (_gate)
            {
                return _publishState;
            }
        }
    }

    /// <summary>Agents of our network known now.</summary>
    public IReadOnlyList<MdnsPeer> Peers
    {
        get
        {
            lock (_gate)
            {
                return [.. _peers.Values];
            }
        }
    }

    public MdnsCounters Counters { get; } = new();

    private TimeSpan Now => _time.GetElapsedTime(_origin);

    /// <summary>Starts the transport and the state machine: probing begins within 250 ms, browsing within 120 ms (RFC 6762 §8.1, §5.2).</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public void Start()
    {
        lock (_gate)
        {
            if (_state != RunState.NotStarted)
            {
                throw new InvalidOperationException($"the mDNS service was already {(_state == RunState.Running ? "started" : "stopped")}");
            }

            _state = RunState.Running;
            _timer = _time.CreateTimer(static s => ((MdnsService)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _interfaces = _transport.Interfaces;
            RebuildOwnRecordKeys();
            TimeSpan now = Now;
            if (_options.Publish)
            {
                StartProbing(now, RandomDelay(0, 250));
            }

            if (_options.Browse)
            {
                _nextBrowseAt = now + RandomDelay(20, 120);
            }

            Reschedule(now);
        }

        _transport.Start(_receiver);
    }

    /// <summary>Says goodbye (our records with TTL 0, RFC 6762 §10.1), stops timers and closes the transport. Idempotent.</summary>
    public ValueTask StopAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => StopAsync();

    public void Dispose() => Stop();

    private void Stop()
    {
        lock (_gate)
        {
            if (_state == RunState.Stopped)
            {
                return;
            }

            if (_state == RunState.Running)
            {
                SendGoodbyes();
            }

            _state = RunState.Stopped;
            _publishState = MdnsPublishState.Off;
            _timer?.Dispose();
            _timer = null;
        }

        _transport.Dispose();
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (_state != RunState.Running)
            {
                return;
            }

            TimeSpan now = Now;
            if (_publishStepAt <= now)
            {
                PublishStep(now);
            }

            FlushDueResponses(now);
            if (_nextBrowseAt <= now)
            {
                SendBrowseQuery(now);
            }

            MaintainCache(now);
            SendDueResolveQueries(now);
            Reschedule(now);
        }

        RaiseEvents();
    }

    private void OnDatagram(ReadOnlySpan<byte> packet, MdnsPacketSource source)
    {
        lock (_gate)
        {
            if (_state != RunState.Running)
            {
                return;
            }

            Counters.PacketsReceived++;
            if (!DnsMessage.TryRead(packet, out DnsMessage? message, out _))
            {
                Counters.MalformedPackets++;
                return;
            }

            MdnsInterface? iface = FindInterface(source.InterfaceIndex);
            if (iface is null || message.Opcode != 0 || message.ResponseCode != 0)
            {
                Counters.IgnoredPackets++;
                return;
            }

            TimeSpan now = Now;
            if (message.IsResponse)
            {
                // RFC 6762 §11: responses come from port 5353 and from this link, or they are ignored.
                if (source.RemoteEndPoint.Port != MdnsProtocol.Port || !iface.IsOnLink(source.RemoteEndPoint.Address))
                {
                    Counters.IgnoredPackets++;
                    return;
                }

                HandleResponseForPublishing(message, iface, now);
                HandleResponseForBrowsing(message, iface, now);
            }
            else
            {
                if (!iface.IsOnLink(source.RemoteEndPoint.Address))
                {
                    Counters.IgnoredPackets++;
                    return;
                }

                HandleQuery(message, source, iface, now);
            }

            Reschedule(now);
        }

        RaiseEvents();
    }

    private void OnInterfacesChanged()
    {
        lock (_gate)
        {
            if (_state != RunState.Running)
            {
                return;
            }

            IReadOnlyList<MdnsInterface> previous = _interfaces;
            _interfaces = _transport.Interfaces;
            TimeSpan now = Now;
            bool changed = previous.Count != _interfaces.Count
                || previous.Any(p => !_interfaces.Any(i => i.SameAs(p)));
            if (!changed)
            {
                return;
            }

            RebuildOwnRecordKeys();
            if (_options.Publish)
            {
                // New addresses or links: probe and announce again so every link learns them (RFC 6762 §8.3, §13).
                StartProbing(now, RandomDelay(0, 250));
            }

            if (_options.Browse)
            {
                ForgetInterfacesNotIn(_interfaces);
                _browseInterval = _options.BrowseInitialInterval;
                _nextBrowseAt = now + RandomDelay(20, 120);
                UpdatePeers(now);
            }

            Reschedule(now);
        }

        RaiseEvents();
    }

    private MdnsInterface? FindInterface(int index)
    {
        foreach (MdnsInterface iface in _interfaces)
        {
            if (iface.Index == index)
            {
                return iface;
            }
        }

        return null;
    }

    private void Reschedule(TimeSpan now)
    {
        TimeSpan next = Min(_publishStepAt, _nextBrowseAt, NextResponseDeadline(), NextCacheDeadline(), NextResolveDeadline());
        if (_timer is null)
        {
            return;
        }

        // Timers take at most ~49 days; waking at least hourly to find nothing due costs nothing.
        TimeSpan due = next <= now ? TimeSpan.Zero : next - now;
        _timer.Change(next == Never ? Timeout.InfiniteTimeSpan : due > MaxTimerDue ? MaxTimerDue : due, Timeout.InfiniteTimeSpan);
    }

    private static TimeSpan Min(params ReadOnlySpan<TimeSpan> values)
    {
        TimeSpan min = Never;
        foreach (TimeSpan value in values)
        {
            if (value < min)
            {
                min = value;
            }
        }

        return min;
    }

    private TimeSpan RandomDelay(int minMilliseconds, int maxMilliseconds) =>
        TimeSpan.FromMilliseconds(_random.Next(minMilliseconds, maxMilliseconds + 1));

    private void RaiseEvents()
    {
        if (_events.IsEmpty)
        {
            return;
        }

        // One dispatcher at a time keeps events in the order the state changed.
        lock (_eventGate)
        {
            while (_events.TryDequeue(out var e))
            {
                (e.Discovered ? PeerDiscovered : PeerLost)?.Invoke(this, new MdnsPeerEventArgs(e.Peer));
            }
        }
    }

    /// <summary>Writes <paramref name="message"/> and multicasts it on <paramref name="iface"/>, on each address family the interface has.</summary>
    private void SendMulticast(DnsMessage message, MdnsInterface iface)
    {
        if (!message.TryWrite(_sendBuffer, out int length) || length > MdnsProtocol.MaxPacketSize)
        {
            // Our own messages are a few hundred bytes; reaching this is a bug worth counting, not a crash.
            Counters.SendErrors++;
            return;
        }

        if (iface.HasIpv4)
        {
            Send(_sendBuffer.AsSpan(0, length), iface.Index, new IPEndPoint(MdnsProtocol.Ipv4Group, MdnsProtocol.Port));
        }

        if (iface.HasIpv6)
        {
            Send(_sendBuffer.AsSpan(0, length), iface.Index, new IPEndPoint(new IPAddress(MdnsProtocol.Ipv6Group.GetAddressBytes(), iface.Index), MdnsProtocol.Port));
        }
    }

    private void SendUnicast(DnsMessage message, MdnsInterface iface, IPEndPoint destination)
    {
        if (!message.TryWrite(_sendBuffer, out int length))
        {
            Counters.SendErrors++;
            return;
        }

        // A link-local querier is reached through the link it asked on (IPAddress.ScopeId throws for IPv4: test the family first).
        IPEndPoint target = destination.AddressFamily == AddressFamily.InterNetworkV6 && destination.Address.IsIPv6LinkLocal && destination.Address.ScopeId == 0
            ? new IPEndPoint(new IPAddress(destination.Address.GetAddressBytes(), iface.Index), destination.Port)
            : destination;
        Send(_sendBuffer.AsSpan(0, length), iface.Index, target);
    }

    private void Send(ReadOnlySpan<byte> packet, int interfaceIndex, IPEndPoint destination)
    {
        if (_transport.Send(packet, interfaceIndex, destination))
        {
            Counters.PacketsSent++;
        }
        else
        {
            Counters.SendErrors++;
        }
    }

    /// <summary>Adapter so the transport can call in without the receiver methods being public on the service.</summary>
    private sealed class Receiver(MdnsService service) : IMdnsReceiver
    {
        public void OnDatagram(ReadOnlySpan<byte> packet, MdnsPacketSource source) => service.OnDatagram(packet, source);

        public void OnInterfacesChanged() => service.OnInterfacesChanged();
    }
}

/// <summary>Publishing state of an <see cref="MdnsService"/> (RFC 6762 §8).</summary>
public enum MdnsPublishState
{
    Off,
    Probing,
    Announcing,
    Announced,
}
