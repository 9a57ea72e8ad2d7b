using System.Net;
using MeshAgent.Core.Config;
using MeshAgent.Core.Net;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Control;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Paths;
using MemberRecord = MeshAgent.Core.Trust.MemberRecord;
using MeshAgent.Engine.Routing;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.Mesh;

// Members → WireGuard peers and routes (DESIGN §3, §4): every member with a valid record gets a peer;
// live ones (alive, suspect) also get cryptokey routes and kernel routes for their overlay addresses and
// approved subnets; dead ones keep the peer (so they can come back and say so) but lose their routes;
// left and revoked ones lose everything.
internal sealed partial class MeshRuntime
{
    /// <summary>A handshake that has not completed this long after choosing an endpoint moves on to the member's next candidate.</summary>
    private static readonly TimeSpan EndpointTrial = TimeSpan.FromSeconds(6);

    /// <summary>A session older than this (WireGuard's REJECT_AFTER_TIME) no longer proves the endpoint works.</summary>
    private static readonly TimeSpan HandshakeFreshness = TimeSpan.FromSeconds(180);

    private static readonly TimeSpan PersistentKeepalive = TimeSpan.FromSeconds(25);

    private readonly Dictionary<MemberId, MemberEntry> _members = [];
    private readonly Dictionary<string, MemberId> _byWireGuardKey = [];
    private readonly HashSet<IPNetwork> _kernelRoutes = [];
    private MembershipCertificate _certificate;
    private NetworkRootKey? _rootKey;
    private RevocationSet _revocations;
    private MemberRecord _selfRecord = null!;
    private ulong _recordVersion;
    private IReadOnlyList<IPEndPoint> _localEndpoints = [];
    private long _lastEndpointRefresh;

    private sealed class MemberEntry(MemberId id)
    {
        public MemberId Id { get; } = id;

        public MemberRecord? Record { get; set; }

        /// <summary>A certificate we issued moments ago, before the member's own record arrives by gossip.</summary>
        public MembershipCertificate? PendingCertificate { get; set; }

        public long PendingUntil { get; set; }

        public MemberState State { get; set; }

        public Peer? Peer { get; set; }

        public int EndpointIndex { get; set; }

        public long EndpointChosenAt { get; set; }

        /// <summary>Path selection for this member, while it has a peer (MeshRuntime.Paths.cs).</summary>
        public MemberPaths? Paths { get; set; }

        public MembershipCertificate? Certificate => Record?.Certificate ?? PendingCertificate;

        public bool IsLive => State is MemberState.Alive or MemberState.Suspect || PendingCertificate is not null;
    }

    // ------------------------------------------------------------------ trust hooks (gossip engine, on the loop)

    private bool ValidatePayload(MemberId id, ReadOnlyMemory<byte> data)
    {
        if (!MemberRecord.TryDecode(data.Span, out MemberRecord? record, out string? error))
        {
            _log.WriteLine($"meshagent: dropped a member record for {id}: {error}");
            return false;
        }

        if (new MemberId(record.NodeKey.AsSpan()) != id)
        {
            _log.WriteLine($"meshagent: dropped a member record carried for {id} but made for {record.NodeKey}");
            return false;
        }

        MemberRecordValidation validation = record.Verify(_settings.Root, _time.GetUtcNow(), _revocations);
        if (validation != MemberRecordValidation.Valid)
        {
            _log.WriteLine($"meshagent: dropped the record of '{record.Certificate.Name}' ({record.NodeKey}): {validation}");
            return false;
        }

        return true;
    }

    private bool ValidateRevocation(MemberId id, ReadOnlyMemory<byte> proof)
    {
        if (!Revocation.TryDecode(proof.Span, out Revocation? revocation, out _)
            || new MemberId(revocation.NodeKey.AsSpan()) != id
            || !_revocations.TryAdd(revocation, _settings.Root, out RevocationSet updated))
        {
            return false;
        }

        if (updated.Count != _revocations.Count)
        {
            PushRevocationsToRelay([revocation]);
        }

        _revocations = updated;
        _dirty = true;
        return true;
    }

    // ------------------------------------------------------------------ member changes

    private void OnMemberChanged(MemberChange change)
    {
        _dirty = true;
        if (change.Member == SelfId)
        {
            if (change.Current == MemberState.Revoked)
            {
                _log.WriteLine("meshagent: this node was revoked by an admin of the network; taking the interface down");
                Post(() => _selfRemoved("revoked"));
            }

            return;
        }

        if (!_members.TryGetValue(change.Member, out MemberEntry? entry))
        {
            entry = new MemberEntry(change.Member);
            _members[change.Member] = entry;
        }

        MemberState previous = entry.State;
        entry.State = change.Current;
        if (change.Payload is { Data.Length: > 0 } payload && (change.PayloadChanged || entry.Record is null)
            && MemberRecord.TryDecode(payload.Data.Span, out MemberRecord? record, out _))
        {
            entry.Record = record;
            entry.PendingCertificate = null;
        }

        switch (change.Current)
        {
            case MemberState.Alive or MemberState.Suspect:
                EnsurePeer(entry, change.PayloadChanged);
                break;
            case MemberState.Revoked or MemberState.Left:
                RemovePeer(entry);
                break;
        }

        if (change.Previous != change.Current || change.PayloadChanged)
        {
            string name = entry.Certificate?.Name ?? change.Member.ToString();
            if (change.Previous is null || previous != change.Current)
            {
                _log.WriteLine($"meshagent: member '{name}' is {Describe(change.Current)}");
            }

            if (change.Current == MemberState.Alive && change.Previous is not null)
            {
                // A member that comes back (restart) resends our used-token records it may have missed.
                SendUsedTokensTo(entry);
            }

            SyncRoutes();
        }
    }

    private void EnsurePeer(MemberEntry entry, bool endpointsChanged)
    {
        MembershipCertificate? certificate = entry.Certificate;
        if (certificate is null || !certificate.NodeKey.TryGetWireGuardPublicKey(out WireGuardPublicKey key))
        {
            return;
        }

        if (entry.Peer is null)
        {
            entry.Peer = _device.FindPeer(key.AsSpan()) ?? _device.AddPeer(key.AsSpan(), default, null, PersistentKeepalive);
            _byWireGuardKey[entry.Peer.PublicKeyBase64] = entry.Id;
            endpointsChanged = true;
        }

        List<IPEndPoint> candidates = CandidatesOf(entry);
        if (endpointsChanged && candidates.Count > 0 && !HasFreshSession(entry.Peer))
        {
            entry.EndpointIndex = 0;
            entry.EndpointChosenAt = _time.GetTimestamp();
            entry.Peer.Endpoint = candidates[0];
        }

        StartPaths(entry);
        if (endpointsChanged)
        {
            UpdatePathCandidates(entry);
        }
    }

    private void RemovePeer(MemberEntry entry)
    {
        entry.PendingCertificate = null;
        StopPaths(entry);
        if (entry.Peer is not null)
        {
            _device.RemovePeer(entry.Peer);
            _byWireGuardKey.Remove(entry.Peer.PublicKeyBase64);
            entry.Peer = null;
        }
    }

    private bool HasFreshSession(Peer peer) =>
        peer.Current is not null && peer.LastHandshake is { } at && _time.GetUtcNow() - at < HandshakeFreshness;

    /// <summary>
    /// Until its path manager has a path (no relay, nothing confirmed yet: the first handshake on a LAN), a
    /// member is tried at each endpoint its record lists in turn; WireGuard roaming then follows wherever its
    /// authenticated packets come from.
    /// </summary>
    private void RotateEndpoints()
    {
        long now = _time.GetTimestamp();
        foreach (MemberEntry entry in _members.Values)
        {
            if (entry.Peer is null || !entry.IsLive || HasFreshSession(entry.Peer) || entry.Paths?.Manager.CurrentPath is not null
                || _time.GetElapsedTime(entry.EndpointChosenAt, now) < EndpointTrial
                || CandidatesOf(entry) is not { Count: > 1 } candidates)
            {
                continue;
            }

            entry.EndpointIndex = (entry.EndpointIndex + 1) % candidates.Count;
            entry.EndpointChosenAt = now;
            entry.Peer.Endpoint = candidates[entry.EndpointIndex];
            _device.RequestHandshake(entry.Peer);
        }
    }

    /// <summary>Our socket is dual-stack: IPv4 peers are addressed as IPv4-mapped IPv6.</summary>
    private static IPEndPoint Normalize(IPEndPoint endpoint) =>
        endpoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? new IPEndPoint(endpoint.Address.MapToIPv6(), endpoint.Port) : endpoint;

    private void ExpirePending()
    {
        long now = _time.GetTimestamp();
        foreach (MemberEntry entry in _members.Values.Where(e => e.PendingCertificate is not null && e.Record is null && now > e.PendingUntil).ToList())
        {
            _log.WriteLine($"meshagent: '{entry.PendingCertificate!.Name}' joined but never announced itself; dropping its provisional peer (it will be added when its record arrives)");
            RemovePeer(entry);
            _members.Remove(entry.Id);
            SyncRoutes();
        }
    }

    /// <summary>Rebuilds the cryptokey routing snapshot and brings kernel routes in line with it.</summary>
    private void SyncRoutes()
    {
        var builder = new AllowedIpsTable<Peer>.Builder();
        var wanted = new HashSet<IPNetwork>();
        foreach (MemberEntry entry in _members.Values)
        {
            if (!entry.IsLive || entry.Peer is null || entry.Certificate is not { } certificate)
            {
                continue;
            }

            foreach (IPNetwork prefix in RoutesOf(entry))
            {
                builder.Add(prefix, entry.Peer);
                wanted.Add(prefix);
            }
        }

        _dataPlane.Routes = builder.Build();
        try
        {
            using Netlink netlink = Netlink.Open();
            foreach (IPNetwork stale in _kernelRoutes.Where(r => !wanted.Contains(r)).ToList())
            {
                try
                {
                    netlink.DeleteRoute(_interfaceName, stale);
                }
                catch (NativeCallException e) when (e.Errno is 3) // ESRCH: already gone
                {
                }

                _kernelRoutes.Remove(stale);
            }

            foreach (IPNetwork prefix in wanted.Where(r => !_kernelRoutes.Contains(r)))
            {
                try
                {
                    netlink.AddRoute(_interfaceName, prefix);
                }
                catch (NativeCallException e) when (e.Errno is 17) // EEXIST: another member or the system already routes it here
                {
                }

                _kernelRoutes.Add(prefix);
            }
        }
        catch (NativeCallException e)
        {
            _log.WriteLine($"meshagent: warning: could not update kernel routes on {_interfaceName}: {e.Message}");
        }
    }

    /// <summary>Overlay /32 and /128, plus advertised subnets the certificate approves.</summary>
    private static IEnumerable<IPNetwork> RoutesOf(MemberEntry entry)
    {
        MembershipCertificate certificate = entry.Certificate!;
        yield return new IPNetwork(certificate.OverlayIPv4, 32);
        yield return new IPNetwork(certificate.OverlayIPv6, 128);
        if (entry.Record is { } record)
        {
            foreach (IPNetwork route in record.AdvertisedRoutes)
            {
                if (certificate.Approves(route))
                {
                    yield return route;
                }
            }
        }
    }

    // ------------------------------------------------------------------ this node's record

    private MemberRecord CreateSelfRecord()
    {
        _recordVersion = MemberRecord.NextVersion(_recordVersion, _time.GetUtcNow());
        return MemberRecord.Create(_certificate, _settings.Identity, new MemberStateFields
        {
            Version = _recordVersion,
            Endpoints = RecordEndpoints(),
            Timestamp = _time.GetUtcNow(),
        });
    }

    /// <summary>Publishes a new record (new endpoints or a new certificate).</summary>
    private void RepublishSelf()
    {
        _selfRecord = CreateSelfRecord();
        _gossip.UpdatePayload(new MemberPayload(_selfRecord.Version, _selfRecord.Encode()));
        _dirty = true;
        UpdateLocalPathCandidates();
    }

    private void RefreshLocalEndpoints()
    {
        long now = _time.GetTimestamp();
        if (_time.GetElapsedTime(_lastEndpointRefresh, now) < TimeSpan.FromSeconds(30))
        {
            return;
        }

        _lastEndpointRefresh = now;
        IReadOnlyList<IPEndPoint> current = LocalEndpoints.Discover(ListenPort, _interfaceName, _settings.IPv4Network, _settings.IPv6Prefix);
        if (!current.SequenceEqual(_localEndpoints))
        {
            _log.WriteLine($"meshagent: local endpoints changed: {string.Join(", ", current)}");
            _localEndpoints = current;
            RepublishSelf();
        }
    }

    // ------------------------------------------------------------------ gossip transport

    private long _controlDropped;

    private void SendControl(MemberId to, ControlFrameType type, ReadOnlySpan<byte> body)
    {
        if (!_members.TryGetValue(to, out MemberEntry? entry) || entry.Peer is null)
        {
            Interlocked.Increment(ref _controlDropped);
            return;
        }

        _device.SendPacket(entry.Peer, ControlFrame.Create(type, body));
    }

    // ------------------------------------------------------------------ status

    public NodeStatus GetStatus(NodePhase phase, int listenPort)
    {
        var members = new List<MemberInfo>();
        foreach (MemberView view in _gossip.GetMembers())
        {
            if (view.Member == SelfId)
            {
                continue;
            }

            _members.TryGetValue(view.Member, out MemberEntry? entry);
            MembershipCertificate? certificate = entry?.Certificate;
            if (certificate is null && view.Payload is { Data.Length: > 0 } payload && MemberRecord.TryDecode(payload.Data.Span, out MemberRecord? record, out _))
            {
                certificate = record.Certificate;
            }

            if (certificate is null)
            {
                continue;
            }

            members.Add(Describe(certificate, Describe(view.State), entry?.Peer, entry?.Record));
        }

        foreach (MemberEntry pending in _members.Values.Where(e => e.Record is null && e.PendingCertificate is not null))
        {
            members.Add(Describe(pending.PendingCertificate!, "joining", pending.Peer, null));
        }

        members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new NodeStatus
        {
            Phase = phase,
            InterfaceName = _interfaceName,
            ListenPort = listenPort,
            Network = new NetworkInfo
            {
                Name = _settings.NetworkName,
                RootPublicKey = new NetworkRootPublicKey(_settings.Root.AsSpan()).ToString(),
                IPv4Network = _settings.IPv4Network.ToString(),
                IPv6Prefix = _settings.IPv6Prefix.ToString(),
            },
            Self = Describe(_certificate, "self", null, _selfRecord) with { Path = "self" },
            Members = members,
            Nat = _natMapping switch
            {
                NatMapping.None => "none",
                NatMapping.EndpointIndependent => "endpoint-independent",
                NatMapping.EndpointDependent => "endpoint-dependent",
                NatMapping.UdpBlocked => "udp-blocked",
                _ => "unknown",
            },
            PublicEndpoints = [.. _reflexive.Select(e => e.ToString())],
        };
    }

    private MemberInfo Describe(MembershipCertificate certificate, string state, Peer? peer, MemberRecord? record)
    {
        certificate.NodeKey.TryGetWireGuardPublicKey(out WireGuardPublicKey key);
        bool connected = peer is not null && HasFreshSession(peer);
        return new MemberInfo
        {
            Name = certificate.Name,
            NodeKey = certificate.NodeKey.ToString(),
            WireGuardKey = Convert.ToBase64String(key.AsSpan()),
            OverlayIPv4 = certificate.OverlayIPv4.ToString(),
            OverlayIPv6 = certificate.OverlayIPv6.ToString(),
            State = state,
            IsAdmin = certificate.IsAdmin,
            Routes = (record?.AdvertisedRoutes ?? []).Where(certificate.Approves).Select(r => r.ToString()).ToList(),
            Endpoint = IsRelayed(peer) ? RelayText()
                : PeerRelayEndpointText(peer?.CurrentEndpoint) is { } via ? $"via {via}"
                : ProbeEndpointText(peer?.CurrentEndpoint) ?? (peer?.Endpoint is { } endpoint ? endpoint.Unmapped().ToString() : null),
            Path = !connected ? "none" : IsRelayed(peer) ? "relay" : IsPeerRelayPath(peer?.CurrentEndpoint) ? "peer-relay" : "direct",
            LastHandshake = peer?.LastHandshake,
            RxBytes = peer?.ReceivedBytes ?? 0,
            TxBytes = peer?.SentBytes ?? 0,
            CertificateExpiresAt = certificate.ExpiresAt,
        };
    }


    private static string Describe(MemberState state) => state switch
    {
        MemberState.Alive => "alive",
        MemberState.Suspect => "suspect",
        MemberState.Dead => "dead",
        MemberState.Left => "left",
        MemberState.Revoked => "revoked",
        _ => state.ToString().ToLowerInvariant(),
    };

    private bool TryFindMemberByName(string name, out MemberId id, out MembershipCertificate certificate)
    {
        foreach (MemberEntry entry in _members.Values)
        {
            if (entry.Certificate is { } c && string.Equals(c.Name, name, StringComparison.Ordinal) && entry.State != MemberState.Revoked)
            {
                id = entry.Id;
                certificate = c;
                return true;
            }
        }

        id = default;
        certificate = null!;
        return false;
    }
}
