using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Net;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Nat;
using MeshAgent.Engine.Paths;
using MeshAgent.Engine.Relay;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.Mesh;

// Reaching members behind NATs (DESIGN §5): STUN-reflexive endpoints for this node's record, and the relay path.
//
//   reflexive: every ReflexiveInterval the loop starts STUN queries over the agent's own socket (so the
//              answer is the NAT mapping peers will see) to the relays, or to live members when there are none;
//              answers arrive as foreign datagrams (OnForeignDatagram → StunClient.TryHandleResponse); new
//              addresses are appended to the record's endpoints and republished.
//   relay:     one RelayClient to the first relay, over the same socket ('m','r' frames demultiplexed in
//              OnForeignDatagram); when its session is not up within 5 s, also a TcpRelayClient to the relay's TCP
//              stream (SuperviseRelay), used until UDP works again. Either carries the relayed paths (the active
//              one, UDP preferred) and join exchanges of joiners that reach this node through the relay
//              (OnRelayJoin → HandleJoinMessage). A member reached through it has a synthetic peer endpoint
//              (RelayedEndpoint: relay 0, the member's slot); the data plane and UdpOutsideSender hand datagrams
//              for such endpoints to SendRelayed, and payloads from the relay are fed back to the data plane
//              as if they came from that endpoint, so WireGuard roaming moves between relay and direct paths.
//
// Slots: assigned on the loop when a member gets a peer, never reused while the runtime lives; the two maps are
// read lock-free from the data-plane threads.
internal sealed partial class MeshRuntime
{
    private static readonly TimeSpan ReflexiveInterval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StunTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan RelayResolveRetry = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan NatUnknownInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan NatUnknownFastWindow = TimeSpan.FromMinutes(2);
    private const int MaxStunServers = 4;
    private const ushort RelayIndex = 0;

    private readonly ConcurrentDictionary<uint, NodePublicKey> _slotKeys = new();
    private readonly ConcurrentDictionary<NodePublicKey, UdpEndpoint> _keyEndpoints = new();
    private uint _nextSlot;
    private StunClient _stunClient = null!;
    private IReadOnlyList<IPEndPoint> _reflexive = [];
    private NatMapping _natMapping = NatMapping.Unknown;
    private long _natStartedAt;
    private long _relayResolveAt;
    private bool _relayResolving;
    private long _lastReflexiveQuery;
    private bool _reflexiveRunning;
    private bool _reflexiveQueried;
    private int _reflexiveFailures;
    private RelayClient? _relayClient;
    private UdpEndpoint _relayUdp;
    private IPEndPoint? _relayAddress;
    private long _relayDropped;

    // The TCP stream relay (for networks that block UDP): started when the UDP relay session has not been up for
    // TcpRelayFallback, stopped as soon as the UDP session is up again. Never both for long: the relay keeps one
    // session per node, so two clients would keep replacing each other's session. _activeRelay is the client relayed
    // sends go through (UDP preferred); read lock-free by the data-plane threads, written on the loop.
    private static readonly TimeSpan TcpRelayFallback = TimeSpan.FromSeconds(5);
    private TcpRelayClient? _tcpRelay;
    private IPEndPoint? _relayTcpEndpoint;
    private IRelayClient? _activeRelay;
    private long _udpRelayDownSince;
    private bool _udpRelayUp;
    private int _tcpRelayStarts;

    /// <summary>A relay client is authenticated (over UDP or TCP): relayed endpoints work.</summary>
    private bool RelayUsable => Volatile.Read(ref _activeRelay) is { State: RelayClientState.Connected };

    private void StartNat()
    {
        _natStartedAt = _time.GetTimestamp();
        _stunClient = new StunClient(SendStun, new StunClientOptions { Timeout = StunTimeout }, _time);
        _sender.Relayed = SendRelayed;
        _dataPlane.RelayedDatagrams = SendRelayed;
        if (_settings.Relays.Count == 0)
        {
            return;
        }

        NetworkRelay first = _settings.Relays[0];
        if (first.TryGetAddress(out RelayAddress literal) && literal.Address is not null && ResolveRelay(first) is { } address)
        {
            StartRelay(first, address);
        }

        // A name is resolved off the loop at the first housekeeping (RetryRelayResolution): DNS may be slow or down.
    }

    /// <summary>
    /// Housekeeping: a relay given by name that did not resolve at start (a NAS booting before its DNS works) is
    /// resolved again every <see cref="RelayResolveRetry"/>, off the loop (a DNS timeout must not stall it).
    /// </summary>
    private void RetryRelayResolution()
    {
        if (_relayClient is not null || _settings.Relays.Count == 0 || _relayResolving || _time.GetTimestamp() < _relayResolveAt)
        {
            return;
        }

        _relayResolving = true;
        NetworkRelay first = _settings.Relays[0];
        _ = Task.Run(() =>
        {
            IPEndPoint? address = ResolveRelay(first);
            Post(() =>
            {
                _relayResolving = false;
                if (_relayClient is not null || _stopping)
                {
                    return;
                }

                if (address is null)
                {
                    if (_relayResolveAt == 0)
                    {
                        _log.WriteLine($"meshagent: warning: cannot resolve relay {first.Address} (DNS not answering yet?); members behind NATs may be unreachable until it resolves — retrying every {RelayResolveRetry.TotalSeconds:0} s");
                    }

                    _relayResolveAt = _time.GetTimestamp() + (long)(RelayResolveRetry.TotalSeconds * _time.TimestampFrequency);
                    return;
                }

                _log.WriteLine($"meshagent: relay {first.Address} resolved to {address}");
                StartRelay(first, address);
            });
        });
    }

    /// <summary>On the loop: the relay clients for <paramref name="relay"/> at <paramref name="address"/> (UDP now, TCP when UDP does not come up).</summary>
    private void StartRelay(NetworkRelay relay, IPEndPoint address)
    {
        NetworkRelay first = relay;
        _relayAddress = address;
        _relayUdp = UdpEndpoint.FromIPEndPoint(_relayAddress);
        // No tcp= given: the relay's TCP stream is expected on the same port number as its UDP (meshrelay README).
        _relayTcpEndpoint = new IPEndPoint(_relayAddress.Address, first.TcpPort ?? _relayAddress.Port);
        IPEndPoint destination = Normalize(_relayAddress);
        RelayClient client = new(_settings.Identity, _certificate, _relayAddress,
            frame => _sender.Send(frame, destination),
            new RelayClientOptions { ExpectedRelayKey = first.PinnedKey }, _time);
        _relayClient = client;
        client.PayloadReceived += OnRelayPayload;
        client.JoinReceived += (channel, message) => OnRelayJoin(client, channel, message);
        client.StateChanged += state => Post(() => OnRelayStateChanged(client, state));
        _owned.Insert(0, client);
        _owned.Insert(0, new TcpRelayOwner(this));
        // After a join that only got through over TCP, UDP is likely blocked: the TCP stream starts at the first housekeeping.
        _udpRelayDownSince = _time.GetTimestamp() - (_settings.RelayOverTcpFirst ? (long)(TcpRelayFallback.TotalSeconds * _time.TimestampFrequency) : 0);
        client.Start();
    }

    private static IPEndPoint? ResolveRelay(NetworkRelay relay)
    {
        if (!relay.TryGetAddress(out RelayAddress address))
        {
            return null;
        }

        if (address.Address is { } literal)
        {
            return new IPEndPoint(literal, address.Port);
        }

        try
        {
            IPAddress[] found = Dns.GetHostAddresses(address.Host);
            IPAddress? chosen = found.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? found.FirstOrDefault();
            return chosen is null ? null : new IPEndPoint(chosen, address.Port);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    // ------------------------------------------------------------------ relay path

    /// <summary>The member's slot endpoint (assigned on first use, on the loop).</summary>
    private IPEndPoint RelayedEndpointOf(NodePublicKey key)
    {
        if (!_keyEndpoints.TryGetValue(key, out UdpEndpoint endpoint))
        {
            uint slot = ++_nextSlot;
            _slotKeys[slot] = key;
            endpoint = UdpEndpoint.FromIPEndPoint(RelayedEndpoint.Create(RelayIndex, slot));
            _keyEndpoints[key] = endpoint;
        }

        return endpoint.ToIPEndPoint();
    }

    /// <summary>
    /// Data-plane threads and the engine's control thread: a sealed datagram for a relayed endpoint, sent through the
    /// active relay client. Never blocks: over UDP it is one sendto; over TCP it is copied into the client's bounded
    /// queue (RelayClientOptions.MaxQueuedBytes; dropped and counted when full). No allocation over UDP.
    /// </summary>
    private void SendRelayed(ushort relay, uint slot, ReadOnlySpan<byte> datagram)
    {
        if (relay == ProbeRelayIndex)
        {
            SendProbe(slot, datagram);
            return;
        }

        if (relay == PeerRelayIndex)
        {
            SendViaPeer(slot, datagram);
            return;
        }

        if (relay != RelayIndex || Volatile.Read(ref _activeRelay) is not { } client || !_slotKeys.TryGetValue(slot, out NodePublicKey key) || !client.Send(key, datagram))
        {
            Interlocked.Increment(ref _relayDropped);
        }
    }

    /// <summary>Outside thread (the UDP relay client is fed from OnForeignDatagram): a WireGuard datagram from a member via the relay.</summary>
    private void OnRelayPayload(NodePublicKey source, ReadOnlySpan<byte> payload)
    {
        if (_keyEndpoints.TryGetValue(source, out UdpEndpoint endpoint))
        {
            _dataPlane.ReceiveRelayed(payload, endpoint);
        }
        else
        {
            Interlocked.Increment(ref _relayDropped);
        }
    }

    /// <summary>The TCP relay client's reader thread: the same, queued to the outside thread (InjectRelayed copies it).</summary>
    private void OnTcpRelayPayload(NodePublicKey source, ReadOnlySpan<byte> payload)
    {
        if (!_keyEndpoints.TryGetValue(source, out UdpEndpoint endpoint) || !_dataPlane.InjectRelayed(payload, endpoint))
        {
            Interlocked.Increment(ref _relayDropped);
        }
    }

    /// <summary>Any relay client's receiving thread: a joiner's join message through the relay; answered on the loop, back through the same client.</summary>
    private void OnRelayJoin(IRelayClient client, ulong channel, ReadOnlySpan<byte> message)
    {
        byte[] copy = message.ToArray();
        Post(() => HandleJoinMessage(copy, _relayUdp, client, channel));
    }

    /// <summary>Outside thread: true when the datagram was a frame from our relay (consumed).</summary>
    private bool TryHandleRelayFrame(ReadOnlySpan<byte> datagram, in UdpEndpoint source)
    {
        if (_relayClient is not { } client || datagram.Length < 2 || datagram[0] != (byte)'m' || datagram[1] != (byte)'r' || source != _relayUdp)
        {
            return false;
        }

        client.HandleFrame(datagram);
        return true;
    }

    /// <summary>On the loop: a relay client changed state (UDP, or the current TCP one).</summary>
    private void OnRelayStateChanged(IRelayClient client, RelayClientState state)
    {
        if (client is TcpRelayClient && !ReferenceEquals(client, _tcpRelay))
        {
            return; // a TCP client already stopped
        }

        _log.WriteLine($"meshagent: relay {_relayAddress}: {state.ToString().ToLowerInvariant()} ({TransportName(client)}){(state == RelayClientState.Refused && client.LastRefusal is { } refusal ? $" ({refusal})" : "")}");
        if (client is RelayClient)
        {
            bool up = state == RelayClientState.Connected;
            if (_udpRelayUp && !up)
            {
                _udpRelayDownSince = _time.GetTimestamp();
            }

            _udpRelayUp = up;
            if (up && _tcpRelay is { } tcp)
            {
                // UDP is preferred (no head-of-line blocking, no TCP-over-TCP), and the UDP session just replaced the
                // TCP one at the relay anyway.
                _log.WriteLine($"meshagent: relay {_relayAddress}: UDP works again; closing the TCP stream");
                _tcpRelay = null;
                ChooseActiveRelay();
                _ = StopTcpRelayAsync(tcp);
                return;
            }
        }

        ChooseActiveRelay();
    }

    /// <summary>
    /// On the loop (housekeeping, every second): starts the TCP stream relay when the UDP relay session has been down
    /// for <see cref="TcpRelayFallback"/> (since start, or since it was lost). The UDP client keeps retrying by itself
    /// meanwhile (ClientHello with backoff up to 30 s); when it connects, the TCP client is stopped (OnRelayStateChanged).
    /// </summary>
    private void SuperviseRelay()
    {
        if (_relayClient is not { } udp || _relayTcpEndpoint is not { } tcpEndpoint)
        {
            return;
        }

        if (udp.State != RelayClientState.Connected && _tcpRelay is null && _time.GetElapsedTime(_udpRelayDownSince, _time.GetTimestamp()) >= TcpRelayFallback)
        {
            _log.WriteLine(_settings.RelayOverTcpFirst && _tcpRelayStarts == 0
                ? $"meshagent: relay {_relayAddress}: the join came through its TCP stream; using it at once ({tcpEndpoint}), UDP keeps being tried"
                : $"meshagent: relay {_relayAddress}: no session over UDP for {TcpRelayFallback.TotalSeconds:0} s; trying its TCP stream at {tcpEndpoint}");
            _tcpRelayStarts++;
            var client = new TcpRelayClient(_settings.Identity, _certificate, tcpEndpoint,
                new RelayClientOptions { ExpectedRelayKey = _settings.Relays[0].PinnedKey }, _time);
            client.PayloadReceived += OnTcpRelayPayload;
            client.JoinReceived += (channel, message) => OnRelayJoin(client, channel, message);
            client.StateChanged += state => Post(() => OnRelayStateChanged(client, state));
            _tcpRelay = client;
            client.Start();
        }
    }

    private static async Task StopTcpRelayAsync(TcpRelayClient client)
    {
        try
        {
            await client.DisposeAsync();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // closing anyway
        }
    }

    /// <summary>On the loop: relayed sends go over UDP when its session is up, else over TCP when that one is; when the relay becomes usable, members move onto it.</summary>
    private void ChooseActiveRelay()
    {
        bool wasUsable = RelayUsable;
        IRelayClient? before = Volatile.Read(ref _activeRelay);
        IRelayClient? chosen = _relayClient is { State: RelayClientState.Connected } udp ? udp
            : _tcpRelay is { State: RelayClientState.Connected } tcp ? tcp
            : (IRelayClient?)_relayClient;
        Volatile.Write(ref _activeRelay, chosen);
        if (!ReferenceEquals(before, chosen) && RelayUsable && before is not null && wasUsable)
        {
            _log.WriteLine($"meshagent: relay {_relayAddress}: relayed traffic now goes over {TransportName(chosen)}");
        }

        UpdateAllPathCandidates(); // the relay candidate comes and goes with the relay session
        if (wasUsable || !RelayUsable)
        {
            return;
        }

        PushRevocationsToRelay(_revocations.Revocations);

        // Traffic starts through the relay at once (DESIGN §5) for every member not already reached.
        foreach (MemberEntry entry in _members.Values)
        {
            if (entry.Peer is { } peer && entry.IsLive && entry.Certificate is { } certificate && !HasFreshSession(peer))
            {
                entry.EndpointIndex = 0;
                entry.EndpointChosenAt = _time.GetTimestamp();
                peer.Endpoint = RelayedEndpointOf(certificate.NodeKey);
                _device.RequestHandshakeOnNewPath(peer);
            }
        }
    }

    private static string TransportName(IRelayClient? client) => client is TcpRelayClient ? "tcp" : "udp";

    /// <summary>"relay HOST:PORT (udp|tcp)" for status and logs: the relay and the transport relayed traffic uses.</summary>
    private string RelayText(IRelayClient? client = null) => $"relay {_relayAddress} ({TransportName(client ?? Volatile.Read(ref _activeRelay))})";

    /// <summary>
    /// Tells the relay about revocations (each verified by the relay against the root key: any member may push), so it
    /// refuses a revoked node at once instead of at its next restart. On every new session all are sent (the relay may
    /// have restarted); afterwards each new one as gossip or an admin brings it.
    /// </summary>
    private void PushRevocationsToRelay(IEnumerable<Revocation> revocations)
    {
        if (!RelayUsable || Volatile.Read(ref _activeRelay) is not { } client)
        {
            return;
        }

        foreach (Revocation revocation in revocations)
        {
            if (!client.PushRevocation(revocation))
            {
                Interlocked.Increment(ref _relayDropped);
            }
        }
    }

    /// <summary>Disposes the TCP relay client (asynchronous) when the runtime's owned objects go.</summary>
    private sealed class TcpRelayOwner(MeshRuntime runtime) : IDisposable
    {
        public void Dispose()
        {
            if (Interlocked.Exchange(ref runtime._tcpRelay, null) is { } client)
            {
                StopTcpRelayAsync(client).Wait(TimeSpan.FromSeconds(3));
            }
        }
    }

    /// <summary>Where to try a member, in order: the relay first when it is up, then the record's endpoints.</summary>
    private List<IPEndPoint> CandidatesOf(MemberEntry entry)
    {
        var candidates = new List<IPEndPoint>();
        if (RelayUsable && entry.Certificate is { } certificate)
        {
            candidates.Add(RelayedEndpointOf(certificate.NodeKey));
        }

        foreach (IPEndPoint endpoint in entry.Record?.Endpoints ?? [])
        {
            candidates.Add(Normalize(endpoint));
        }

        return candidates;
    }

    /// <summary>"relay" for an endpoint through a relay (not a hard-NAT probe socket's synthetic endpoint), for status.</summary>
    private static bool IsRelayed(Peer? peer) => IsSynthetic(peer?.CurrentEndpoint, RelayIndex);

    // ------------------------------------------------------------------ reflexive endpoints

    private void SendStun(ReadOnlySpan<byte> datagram, IPEndPoint destination) => _sender.Send(datagram, Normalize(destination));

    /// <summary>Outside thread: a STUN response (not a request) from a server we asked.</summary>
    private void HandleStunResponse(ReadOnlySpan<byte> datagram, in UdpEndpoint source) =>
        _stunClient.TryHandleResponse(datagram, source.ToIPEndPoint());

    /// <summary>STUN message class (RFC 8489 §5): bits C1 (0x0100) and C0 (0x0010) of the type; both zero for a request.</summary>
    private static bool IsStunRequest(ReadOnlySpan<byte> datagram) => datagram.Length >= 2 && (((datagram[0] << 8) | datagram[1]) & 0x0110) == 0;

    /// <summary>On the loop (housekeeping): starts a round of STUN queries when one is due.</summary>
    private void RefreshReflexive()
    {
        long now = _time.GetTimestamp();
        // Until the NAT mapping is known (two servers must answer: the relay and a public member, who may not be
        // live yet), ask again sooner for the first minutes: the hard-NAT plan waits on it.
        TimeSpan interval = _natMapping == NatMapping.Unknown && _time.GetElapsedTime(_natStartedAt, now) < NatUnknownFastWindow ? NatUnknownInterval : ReflexiveInterval;
        if (_reflexiveRunning || (_reflexiveQueried && _time.GetElapsedTime(_lastReflexiveQuery, now) < interval))
        {
            return;
        }

        List<IPEndPoint> servers = StunServers();
        if (servers.Count == 0)
        {
            return;
        }

        _reflexiveQueried = true;
        _reflexiveRunning = true;
        _lastReflexiveQuery = now;
        _ = Task.Run(async () =>
        {
            var found = new List<(IPEndPoint Server, IPEndPoint Mapped)>();
            try
            {
                // Answers are used as they come: a member's endpoint that never answers (behind its NAT) would otherwise
                // hold back the relay's answer for the whole STUN timeout, and with it the first call-me-maybe that
                // carries our public endpoint (lab: direct paths 3 s later).
                var pending = servers.Select(s => _stunClient.QueryAsync(s)).ToList();
                while (pending.Count > 0)
                {
                    Task<StunResult> done = await Task.WhenAny(pending);
                    pending.Remove(done);
                    StunResult result = await done;
                    if (result.IsSuccess && result.ReflexiveEndPoint is { } mapped)
                    {
                        found.Add((result.Server, mapped));
                        if (pending.Count > 0)
                        {
                            List<(IPEndPoint Server, IPEndPoint Mapped)> early = [.. found];
                            Post(() => ApplyEarlyReflexive(early));
                        }
                    }
                }
            }
            catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException or SocketException)
            {
                // stopping, or the socket failed: the next round tries again
            }

            Post(() => ApplyReflexive(found, servers.Count));
        });
    }

    /// <summary>
    /// The relays (the network's STUN servers), then live members that look public (their record's first endpoint,
    /// a local one, is not a private address: every agent answers STUN), then — with fewer than two so far — any live
    /// member's endpoints. Two servers at least are needed to tell an easy NAT from a hard one (<see cref="NatMappingClassifier"/>).
    /// </summary>
    private List<IPEndPoint> StunServers()
    {
        var servers = new List<IPEndPoint>();
        if (_relayAddress is not null)
        {
            servers.Add(_relayAddress);
        }

        foreach (NetworkRelay relay in _settings.Relays.Skip(1))
        {
            if (relay.TryGetAddress(out RelayAddress address) && address.Address is { } literal)
            {
                servers.Add(new IPEndPoint(literal, address.Port));
            }
        }

        foreach (MemberEntry entry in _members.Values.Where(e => e.IsLive))
        {
            if (entry.Record?.Endpoints is [var first, ..] && !IsPrivate(first.Address) && !_localEndpoints.Any(l => l.Address.Equals(first.Address)))
            {
                servers.Add(first);
            }
        }

        if (servers.Count < 2)
        {
            // Too few to classify the NAT (or none at all): any live member may answer, as far as its NAT lets us in.
            foreach (MemberEntry entry in _members.Values.Where(e => e.IsLive))
            {
                foreach (IPEndPoint endpoint in entry.Record?.Endpoints ?? [])
                {
                    if (!_localEndpoints.Any(l => l.Address.Equals(endpoint.Address)))
                    {
                        servers.Add(endpoint);
                    }
                }
            }
        }

        return [.. servers.Distinct().Take(MaxStunServers)];
    }

    /// <summary>
    /// On the loop, while a round is still waiting for slower servers: new public endpoints are added at once (never
    /// removed: the round's end decides that) and the NAT mapping is judged on what answered so far.
    /// </summary>
    private void ApplyEarlyReflexive(List<(IPEndPoint Server, IPEndPoint Mapped)> answers)
    {
        ApplyNatMapping(answers);
        List<IPEndPoint> added = [.. answers.Select(a => a.Mapped.Unmapped()).Distinct()
            .Where(e => !_localEndpoints.Contains(e) && !_reflexive.Contains(e))];
        if (added.Count > 0)
        {
            _reflexive = [.. _reflexive.Concat(added)];
            _log.WriteLine($"meshagent: reflexive endpoints ({answers.Count} STUN server(s) answered so far): {string.Join(", ", _reflexive)}");
            RepublishSelf();
        }
    }

    private void ApplyReflexive(List<(IPEndPoint Server, IPEndPoint Mapped)> answers, int asked)
    {
        _reflexiveRunning = false;
        ApplyNatMapping(answers);
        List<IPEndPoint> found = [.. answers.Select(a => a.Mapped)];
        if (found.Count == 0)
        {
            // Keep what we had through a few lost rounds; then stop advertising what nobody confirms.
            if (++_reflexiveFailures < 3 || _reflexive.Count == 0)
            {
                return;
            }

            found = [];
        }
        else
        {
            _reflexiveFailures = 0;
        }

        List<IPEndPoint> current = [.. found.Select(e => e.Unmapped())
            .Distinct().Where(e => !_localEndpoints.Contains(e))];
        if (!current.SequenceEqual(_reflexive))
        {
            _reflexive = current;
            _log.WriteLine($"meshagent: reflexive endpoints ({found.Count} of {asked} STUN server(s) answered): {(current.Count == 0 ? "none" : string.Join(", ", current))}");
            RepublishSelf();
        }
    }

    /// <summary>
    /// This node's NAT mapping from the round's answers; a change goes to every path manager (and so into the next
    /// call-me-maybes). An inconclusive round (fewer than two answers) keeps the last conclusion.
    /// </summary>
    private void ApplyNatMapping(List<(IPEndPoint Server, IPEndPoint Mapped)> answers)
    {
        // Only servers on public addresses say anything about our NAT: a LAN neighbour sees our LAN address.
        NatMapping mapping = NatMappingClassifier.Classify([.. answers.Where(a => !IsPrivate(a.Server.Address))], _localEndpoints);
        if (mapping == NatMapping.Unknown || mapping == _natMapping)
        {
            return;
        }

        _natMapping = mapping;
        _log.WriteLine($"meshagent: NAT mapping: {NatMappingClassifier.Describe(mapping)} ({string.Join(", ", answers.Select(a => $"{a.Server.Unmapped()} saw {a.Mapped.Unmapped()}"))})");
        UpdateLocalPathCandidates();
    }

    /// <summary>This node's record endpoints: local ones, then reflexive ones, within the record's limit.</summary>
    private IReadOnlyList<IPEndPoint> RecordEndpoints() =>
        [.. _localEndpoints.Concat(_reflexive).Distinct().Take(Core.Trust.MemberRecord.MaxEndpoints)];

    private string RelaySummary() => _relayClient is { } client
        ? $"relay {_relayAddress} udp {client.State.ToString().ToLowerInvariant()}{(_tcpRelay is { } tcp ? $", tcp {tcp.State.ToString().ToLowerInvariant()}" : "")}, relayed drops {Interlocked.Read(ref _relayDropped)}"
        : "no relay";
}
