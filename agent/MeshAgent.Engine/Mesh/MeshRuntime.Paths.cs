using System.Net;
using MeshAgent.Core.Net;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Paths;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.Mesh;

// Path selection per member (DESIGN §5): one PathManager per member with a peer, on the control loop.
//
//   candidates: the member's record endpoints (local, then reflexive) + the relay while our relay session is up;
//               ours (announced in call-me-maybes) are this node's record endpoints.
//   probes:     control frame 0x06 (PathFrame body) sealed in the member's session and sent to ONE address with
//               WireGuardDevice.SendPacketTo — a direct candidate, or the member's RelayedEndpoint for the relay —
//               without touching Peer.Endpoint. Frames arrive with their datagram's source (relayed ones with the
//               synthetic RelayedEndpoint), which is the path they are credited to.
//   switching:  SwitchPath sets Peer.Endpoint. WireGuard roaming may still move the endpoint to where the peer's
//               packets come from; housekeeping puts it back on the manager's choice, which is authoritative.
//   no session: a probe cannot be sealed before the first handshake; the few frames asked for meanwhile are kept
//               (bounded) and sent as soon as the session is up (pings stay valid for PathConfig.PingTimeout), so
//               the first discovery round is not lost to the handshake.
//   hard NAT:   this node's NAT mapping (from its STUN rounds, MeshRuntime.Nat.cs) goes to every manager and out in
//               call-me-maybes; a hard side's manager opens probe sockets (MeshRuntime.HardNat.cs), paths through
//               them are PathAddress.Direct(endpoint, socket k) ↔ a synthetic endpoint per (socket, remote).
//
// Members without a confirmed path and without a relay (a LAN with no relay configured) still get RotateEndpoints
// until their manager has a path.
internal sealed partial class MeshRuntime
{
    private const string RelayId = "relay0";
    private const int MaxPendingPathFrames = 32;

    private readonly Random _pathRandom = new();

    /// <summary>
    /// MESHAGENT_TRACE=paths: one log line per path probe and answer while a member has no direct path, and per
    /// call-me-maybe (for debugging NAT traversal; the heartbeats of a working direct path are not traced).
    /// </summary>
    private readonly bool _tracePaths = (Environment.GetEnvironmentVariable("MESHAGENT_TRACE") ?? "").Split(',').Contains("paths");

    private void StartPaths(MemberEntry entry)
    {
        if (entry.Paths is not null || entry.Peer is null)
        {
            return;
        }

        var paths = new MemberPaths(this, entry);
        entry.Paths = paths;
        paths.Manager = new PathManager(PathConfig.Default, paths, _time, _pathRandom);
        paths.Manager.SetLocalCandidates(LocalPathCandidates(), _natMapping);
        UpdatePathCandidates(entry);
    }

    private static void StopPaths(MemberEntry entry)
    {
        entry.Paths?.Manager.Stop();
        entry.Paths?.CloseProbeSockets(keepSocket: 0);
        entry.Paths = null;
    }

    /// <summary>The member's record endpoints and the relay (while usable) as the manager's candidate set.</summary>
    private void UpdatePathCandidates(MemberEntry entry)
    {
        if (entry.Paths is not { } paths)
        {
            return;
        }

        var candidates = new List<PathCandidate>();
        foreach (IPEndPoint endpoint in entry.Record?.Endpoints ?? [])
        {
            UdpEndpoint udp = UdpEndpoint.FromIPEndPoint(Normalize(endpoint));
            candidates.Add(IsPrivate(endpoint.Address) ? PathCandidate.Local(udp) : PathCandidate.Reflexive(udp));
        }

        if (RelayUsable)
        {
            candidates.Add(PathCandidate.Relay(RelayId));
        }
        else
        {
            candidates.AddRange(PeerRelayChooser.Choose(PeerRelayOffers(), SelfId, entry.Id));
        }

        paths.Manager.SetCandidates(candidates, NatMapping.Unknown);
    }

    private List<PathCandidate> LocalPathCandidates()
    {
        var candidates = new List<PathCandidate>();
        foreach (IPEndPoint endpoint in RecordEndpoints())
        {
            UdpEndpoint udp = UdpEndpoint.FromIPEndPoint(endpoint.Unmapped());
            candidates.Add(IsPrivate(endpoint.Address) ? PathCandidate.Local(udp) : PathCandidate.Reflexive(udp));
        }

        return candidates;
    }

    /// <summary>This node's endpoints changed (republished record): every manager announces the new set.</summary>
    private void UpdateLocalPathCandidates()
    {
        List<PathCandidate> local = LocalPathCandidates();
        foreach (MemberEntry entry in _members.Values)
        {
            entry.Paths?.Manager.SetLocalCandidates(local, _natMapping);
        }
    }

    private void UpdateAllPathCandidates()
    {
        foreach (MemberEntry entry in _members.Values)
        {
            UpdatePathCandidates(entry);
        }
    }

    /// <summary>Each loop turn: flush frames that waited for a session, run managers whose wake time has come.</summary>
    private void TickPaths()
    {
        TimeSpan now = TimeSpan.FromTicks((long)((Int128)_time.GetTimestamp() * TimeSpan.TicksPerSecond / _time.TimestampFrequency));
        foreach (MemberEntry entry in _members.Values)
        {
            if (entry.Paths is not { } paths)
            {
                continue;
            }

            paths.FlushPending();
            if (paths.Manager.NextWakeAt is { } wake && wake <= now)
            {
                paths.Manager.Tick();
                paths.ReportSpray();
            }
        }
    }

    /// <summary>
    /// Housekeeping: tell each manager whether data moved (byte counters, gossip included) and keep the peer's
    /// endpoint on the manager's path when roaming moved it elsewhere.
    /// </summary>
    private void SupervisePaths()
    {
        foreach (MemberEntry entry in _members.Values)
        {
            if (entry.Paths is not { } paths || entry.Peer is not { } peer)
            {
                continue;
            }

            long received = peer.ReceivedBytes;
            long sent = peer.SentBytes;
            if (received != paths.LastReceived && peer.CurrentEndpoint is { } from)
            {
                paths.Manager.OnDataReceived(PathOf(from.Udp));
            }

            if (sent != paths.LastSent)
            {
                paths.Manager.OnDataSent();
            }

            paths.LastReceived = received;
            paths.LastSent = sent;
            if (paths.Manager.CurrentPath is { } path && EndpointOf(entry, path) is { } wanted && !wanted.Equals(peer.Endpoint))
            {
                peer.Endpoint = wanted;
            }
        }
    }

    /// <summary>On the loop: a 0x06 frame from a member, received from <paramref name="source"/>.</summary>
    private void HandlePathFrame(MemberId from, ReadOnlySpan<byte> body, UdpEndpoint source)
    {
        if (TryConsumeDiagnosticPong(from, body, source)) return; // meshagent ping's pongs (MeshRuntime.Ping.cs)
        if (!_members.TryGetValue(from, out MemberEntry? entry) || entry.Paths is not { } paths || !PathFrame.TryReadType(body, out PathMessageType type))
        {
            Interlocked.Increment(ref _controlDropped);
            return;
        }

        PathAddress path = PathOf(source);
        if (_tracePaths && (type == PathMessageType.CallMeMaybe || paths.Manager.CurrentPath is not { IsDirect: true }))
        {
            _log.WriteLine($"meshagent: trace: path {type} from '{entry.Certificate?.Name}' via {path}");
        }

        switch (type)
        {
            case PathMessageType.Ping when PathFrame.TryReadPing(body, out PathPing ping):
                paths.Manager.OnPingReceived(ping.TxId, path);
                break;
            case PathMessageType.Pong when PathFrame.TryReadPong(body, out PathPong pong):
                paths.Manager.OnPong(pong.TxId, path);
                break;
            case PathMessageType.CallMeMaybe when PathFrame.TryReadCallMeMaybe(body, out CallMeMaybe? message) && message is not null:
                // The peer announces its own endpoints as it sees them; on our dual-stack socket IPv4 is mapped.
                var candidates = message.Candidates
                    .Select(c => c with { Address = PathAddress.Direct(UdpEndpoint.FromIPEndPoint(Normalize(c.Address.Endpoint.ToIPEndPoint()))) })
                    .ToList();
                paths.Manager.OnCallMeMaybe(message with { Candidates = candidates });
                break;
            default:
                Interlocked.Increment(ref _controlDropped);
                break;
        }
    }

    /// <summary>
    /// The path a datagram from <paramref name="source"/> took: a probe socket's direct path or the relay for a synthetic
    /// endpoint, else direct from the main socket (IPv4-mapped form, as candidates are kept).
    /// </summary>
    private PathAddress PathOf(in UdpEndpoint source)
    {
        if (TryProbePathOf(source, out PathAddress probe) || TryPeerRelayPathOf(source, out probe))
        {
            return probe;
        }

        return RelayedEndpoint.TryRead(source, out _, out _)
            ? PathAddress.Relay(RelayId)
            : PathAddress.Direct(UdpEndpoint.FromIPEndPoint(Normalize(source.ToIPEndPoint())));
    }

    /// <summary>Where to send for a path; null when it cannot be used now (the relay is down, a probe socket closed, or a peer relay: not implemented).</summary>
    private IPEndPoint? EndpointOf(MemberEntry entry, PathAddress path) => path.Kind switch
    {
        PathKind.Direct when path.Socket > 0 => entry.Paths?.ProbeSocket(path.Socket) is { } socket ? ProbeEndpointOf(socket, path.Endpoint).ToIPEndPoint() : null,
        PathKind.Direct => path.Endpoint.ToIPEndPoint(),
        PathKind.PeerRelay when _members.TryGetValue(path.Via, out MemberEntry? via) && via.Peer is not null && entry.Certificate is { } certificate
            => PeerRelayEndpointOf(via, certificate.NodeKey),
        PathKind.Relay when RelayUsable && entry.Certificate is { } certificate => RelayedEndpointOf(certificate.NodeKey),
        _ => null,
    };

    /// <summary>For the stop log: the device's handshakes and every non-zero drop reason (STYLE rule 12: counters, not log lines).</summary>
    private string HandshakeSummary()
    {
        DeviceCounters c = _device.Counters;
        string drops = string.Join(", ", Enum.GetValues<DropReason>().Where(r => c[r] > 0).Select(r => $"{r} {c[r]}"));
        return $"handshakes: initiations sent {c.HandshakeInitiationsSent}, responses sent {c.HandshakeResponsesSent}, completed {c.HandshakesCompleted}; drops: {(drops.Length == 0 ? "none" : drops)}";
    }

    /// <summary>For the stop log: what the paths machinery did and dropped.</summary>
    private string PathSummary() =>
        $"paths: control frames dropped {Interlocked.Read(ref _controlDropped)}, probe-socket drops {Interlocked.Read(ref _probeDropped)}, "
        + $"peer relay forwarded {Interlocked.Read(ref _peerRelayForwarded)} dropped {Interlocked.Read(ref _peerRelayDropped)}, injected drops {Interlocked.Read(ref _dataPlane.Counters.InjectedDropped)}";

    private static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            byte[] b = address.GetAddressBytes();
            return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xC0) == 64) || (b[0] == 169 && b[1] == 254);
        }

        return address.IsIPv6LinkLocal || address.IsIPv6UniqueLocal;
    }

    /// <summary>The manager's host for one member. All calls on the control loop.</summary>
    private sealed class MemberPaths(MeshRuntime runtime, MemberEntry entry) : IPathActions
    {
        private readonly Queue<(byte[] Frame, IPEndPoint To)> _pending = new();
        private readonly Dictionary<int, ProbeSocket> _probeSockets = new();

        public PathManager Manager { get; set; } = null!;

        public long LastReceived { get; set; }

        public long LastSent { get; set; }

        public void SendPing(PathAddress path, PathTxId txid)
        {
            Span<byte> body = stackalloc byte[PathFrame.PingSize];
            ulong micros = (ulong)(runtime._time.GetTimestamp() * 1_000_000.0 / runtime._time.TimestampFrequency);
            int length = PathFrame.WritePing(body, new PathPing(txid, micros));
            Send(path, body[..length]);
        }

        public void SendPong(PathAddress path, PathTxId txid)
        {
            Span<byte> body = stackalloc byte[PathFrame.PongMaxSize];
            UdpEndpoint observed = path.IsDirect ? UdpEndpoint.FromIPEndPoint(path.Endpoint.ToIPEndPoint().Unmapped()) : default;
            int length = PathFrame.WritePong(body, new PathPong(txid, observed));
            Send(path, body[..length]);
        }

        public void SendCallMeMaybe(PathAddress path, CallMeMaybe message)
        {
            Span<byte> body = stackalloc byte[PathFrame.CallMeMaybeMaxSize];
            int length = PathFrame.WriteCallMeMaybe(body, message);
            Send(path, body[..length]);
        }

        public void SwitchPath(PathAddress? path)
        {
            string name = entry.Certificate?.Name ?? entry.Id.ToString();
            if (path is not { } chosen || entry.Peer is not { } peer || runtime.EndpointOf(entry, chosen) is not { } endpoint)
            {
                runtime._log.WriteLine($"meshagent: path to '{name}': none usable (keeping {entry.Peer?.Endpoint?.ToString() ?? "no endpoint"})");
                return;
            }

            // Stable text: tests measure time to direct from this line.
            runtime._log.WriteLine($"meshagent: path to '{name}': {chosen.Kind switch
            {
                PathKind.Direct => $"direct {chosen.Endpoint.ToIPEndPoint().Unmapped()}{(chosen.Socket > 0 ? $" (probe socket {chosen.Socket})" : "")}",
                PathKind.PeerRelay => $"peer relay {(runtime._members.TryGetValue(chosen.Via, out MemberEntry? via) ? via.Certificate?.Name : null) ?? chosen.Via.ToString()}",
                _ => runtime.RelayText(),
            }}{(Manager.CurrentRtt is { } rtt ? $" (rtt {rtt.TotalMilliseconds:0.0} ms)" : "")}");
            peer.Endpoint = endpoint;
            if (peer.Current is null)
            {
                runtime._device.RequestHandshakeOnNewPath(peer);
            }
        }

        /// <summary>The open probe socket numbered <paramref name="index"/> (1..N), or null.</summary>
        public ProbeSocket? ProbeSocket(int index) => _probeSockets.TryGetValue(index, out ProbeSocket? socket) ? socket : null;

        public int OpenProbeSockets(int count)
        {
            CloseProbeSockets(keepSocket: 0); // a new attempt: the last one's winner (if any) is no longer in use
            foreach (ProbeSocket socket in runtime.OpenProbeSockets(entry, count))
            {
                _probeSockets[socket.Index] = socket;
            }

            string name = entry.Certificate?.Name ?? entry.Id.ToString();
            runtime._log.WriteLine($"meshagent: hard-NAT probing towards '{name}': opened {_probeSockets.Count} probe sockets");
            return _probeSockets.Count;
        }

        public void CloseProbeSockets(int keepSocket)
        {
            foreach (ProbeSocket socket in _probeSockets.Values.Where(s => s.Index != keepSocket).ToList())
            {
                runtime.CloseProbeSocket(socket);
                _probeSockets.Remove(socket.Index);
            }
        }

        private bool _spraying;
        private long _sprayProbesAtStart;

        /// <summary>Logs the start and end of birthday probing on the easy side (the hard side logs its sockets).</summary>
        public void ReportSpray()
        {
            if (Manager.IsSpraying == _spraying)
            {
                return;
            }

            _spraying = Manager.IsSpraying;
            string name = entry.Certificate?.Name ?? entry.Id.ToString();
            if (_spraying)
            {
                _sprayProbesAtStart = Manager.Counters.HardNatProbesSent;
                runtime._log.WriteLine($"meshagent: hard-NAT probing towards '{name}': probing random ports of its public address");
            }
            else
            {
                runtime._log.WriteLine($"meshagent: hard-NAT probing towards '{name}': {Manager.Counters.HardNatProbesSent - _sprayProbesAtStart} probes sent, {(Manager.CurrentPath is { IsDirect: true } ? "direct path found" : "no direct path yet")}");
            }
        }

        /// <summary>Sends what waited for the session, once there is one.</summary>
        public void FlushPending()
        {
            if (_pending.Count == 0 || entry.Peer is not { Current: not null } peer)
            {
                return;
            }

            while (_pending.TryDequeue(out (byte[] Frame, IPEndPoint To) item))
            {
                runtime._device.SendPacketTo(peer, item.Frame, item.To);
            }
        }

        private void Send(PathAddress path, ReadOnlySpan<byte> body)
        {
            if (entry.Peer is not { } peer || runtime.EndpointOf(entry, path) is not { } to)
            {
                Interlocked.Increment(ref runtime._controlDropped);
                return;
            }

            byte[] frame = ControlFrame.Create(ControlFrameType.Path, body);
            bool sent = runtime._device.SendPacketTo(peer, frame, to);
            if (runtime._tracePaths && PathFrame.TryReadType(body, out PathMessageType type)
                && (type == PathMessageType.CallMeMaybe || Manager.CurrentPath is not { IsDirect: true }))
            {
                runtime._log.WriteLine($"meshagent: trace: path {type} to '{entry.Certificate?.Name}' via {path}{(sent ? "" : " (queued: no session yet)")}");
            }

            if (!sent)
            {
                if (_pending.Count >= MaxPendingPathFrames)
                {
                    _pending.Dequeue();
                }

                _pending.Enqueue((frame, to));
            }
        }
    }
}
