using System.Net;
using System.Security.Cryptography;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Net;
using MeshAgent.Core.Stun;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Control;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Relay;
using MemberRecord = MeshAgent.Core.Trust.MemberRecord;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.Mesh;

// Admin work and the frames that carry it: answering joins on the UDP port, issuing certificates,
// spreading used-token records, revocations and admin grants.
internal sealed partial class MeshRuntime
{
    /// <summary>A join exchange is four datagrams; one that takes longer than this is abandoned.</summary>
    private static readonly TimeSpan JoinSessionLifetime = TimeSpan.FromSeconds(30);

    /// <summary>How long a freshly accepted node may take to announce itself by gossip before its provisional peer goes.</summary>
    private static readonly TimeSpan PendingLifetime = TimeSpan.FromMinutes(2);

    /// <summary>Certificates last a year; renewal before expiry is future work (README).</summary>
    private static readonly TimeSpan CertificateLifetime = TimeSpan.FromDays(365);

    private const int MaxJoinSessions = 256;

    /// <summary>Join exchanges in progress, by where they come from: a UDP source (channel 0), or a relay's endpoint and the relay's join channel.</summary>
    private readonly Dictionary<(UdpEndpoint Source, ulong Channel, uint Session), JoinSession> _joinSessions = [];
    private readonly Dictionary<MemberId, TaskCompletionSource<bool>> _grantAcks = [];
    private JoinResponderOptions? _joinOptions;
    private IPEndPoint? _joinSource;
    private bool _joinRelayed;
    private long _joinDropped;

    private sealed record JoinSession(JoinResponder Responder, long StartedAt);

    // ------------------------------------------------------------------ datagrams from the data plane

    private void OnControlFrame(Peer peer, ReadOnlySpan<byte> frame, in UdpEndpoint source)
    {
        byte[] copy = frame.ToArray();
        UdpEndpoint from = source;
        Post(() => HandleControlFrame(peer, copy, from));
    }

    private readonly StunResponder _stun = new("meshagent");

    private void OnForeignDatagram(ReadOnlySpan<byte> datagram, in UdpEndpoint source)
    {
        if (TryHandleRelayFrame(datagram, source))
        {
            return;
        }

        if (StunMessage.LooksLikeStun(datagram) && !IsStunRequest(datagram))
        {
            HandleStunResponse(datagram, source);
            return;
        }

        if (StunMessage.LooksLikeStun(datagram))
        {
            // Agents answer STUN binding requests on their WireGuard port (DESIGN §5: any public peer is a
            // STUN server for the mesh). Answered right here on the outside thread: no state, no allocation
            // beyond the reply's destination.
            Span<byte> reply = stackalloc byte[StunResponder.MaxResponseSize];
            int length = _stun.Respond(datagram, source, reply);
            if (length > 0)
            {
                _sender.Send(reply[..length], source.ToIPEndPoint());
            }

            return;
        }

        if (datagram.Length < JoinMessages.HeaderSize || datagram[0] != (byte)'m' || datagram[1] != (byte)'j')
        {
            Interlocked.Increment(ref _dataPlane.Counters.UnknownDatagrams);
            return;
        }

        byte[] copy = datagram.ToArray();
        UdpEndpoint from = source;
        Post(() => HandleJoinMessage(copy, from));
    }

    /// <param name="source">Where the datagram came from (a <see cref="RelayedEndpoint"/> for one that came through the relay): path probes are answered along it.</param>
    private void HandleControlFrame(Peer peer, byte[] frame, UdpEndpoint source)
    {
        if (!_byWireGuardKey.TryGetValue(peer.PublicKeyBase64, out MemberId from))
        {
            Interlocked.Increment(ref _controlDropped);
            return;
        }

        if (!ControlFrame.TryRead(frame, out ControlFrameType type, out ReadOnlySpan<byte> body))
        {
            Interlocked.Increment(ref _controlDropped);
            return;
        }

        switch (type)
        {
            case ControlFrameType.Gossip:
                _gossip.Receive(from, body);
                break;
            case ControlFrameType.PeerRelay:
                HandlePeerRelay(from, body);
                break;
            case ControlFrameType.PeerRelayed:
                HandlePeerRelayed(from, body);
                break;
            case ControlFrameType.UsedToken:
                if (UsedTokenRecord.TryRead(body, out UsedTokenRecord? used) && used is not null)
                {
                    AcceptUsedRecord(used, from);
                }

                break;
            case ControlFrameType.AdminGrant:
                AcceptAdminGrant(from, body);
                break;
            case ControlFrameType.Revoked:
                if (Revocation.TryDecode(body, out Revocation? notice, out _) && notice.NodeKey == _settings.Identity.PublicKey
                    && _revocations.TryAdd(notice, _settings.Root, out RevocationSet withNotice))
                {
                    _revocations = withNotice;
                    _gossip.ImportRevocation(SelfId, notice.Encode());
                    if (!_gossip.IsRevoked)
                    {
                        _log.WriteLine("meshagent: an admin revoked this node; taking the interface down");
                        Post(() => _selfRemoved("revoked"));
                    }
                }

                break;
            case ControlFrameType.Path:
                HandlePathFrame(from, body, source);
                break;
            case ControlFrameType.AdminAck:
                if (_grantAcks.Remove(from, out TaskCompletionSource<bool>? ack))
                {
                    ack.TrySetResult(true);
                }

                break;
            default:
                Interlocked.Increment(ref _controlDropped);
                break;
        }
    }

    // ------------------------------------------------------------------ join service (admins)

    /// <param name="source">The joiner's UDP endpoint, or (through a relay) the relay's.</param>
    /// <param name="relay">The relay client the message came through (answers go back through it, on <paramref name="channel"/>); null for a direct join.</param>
    private void HandleJoinMessage(byte[] message, UdpEndpoint source, IRelayClient? relay = null, ulong channel = 0)
    {
        if (_rootKey is null || !JoinMessages.TryReadHeader(message, out JoinMessageType type, out uint session))
        {
            Interlocked.Increment(ref _joinDropped);
            return;
        }

        var key = (source, channel, session);
        if (!_joinSessions.TryGetValue(key, out JoinSession? join))
        {
            if (type != JoinMessageType.Hello || _joinSessions.Count >= MaxJoinSessions)
            {
                Interlocked.Increment(ref _joinDropped);
                return;
            }

            join = new JoinSession(new JoinResponder(JoinOptions()), _time.GetTimestamp());
            _joinSessions[key] = join;
        }

        _joinSource = relay is null ? source.ToIPEndPoint() : null;
        _joinRelayed = relay is not null;
        JoinStepResult result;
        try
        {
            result = join.Responder.Receive(message);
        }
        finally
        {
            _joinSource = null;
            _joinRelayed = false;
        }

        if (result.Message is { } reply && result.Step is JoinStep.Send or JoinStep.Retransmit)
        {
            if (relay is null)
            {
                _sender.Send(reply, source.ToIPEndPoint());
            }
            else if (!relay.SendJoinReply(channel, reply))
            {
                Interlocked.Increment(ref _joinDropped);
            }
        }

        string from = relay is null ? source.ToString() : $"{RelayText(relay)} (join channel {channel:x16})";

        if (result.UsedRecord is { } used)
        {
            Span<byte> signature = stackalloc byte[64];
            _settings.Identity.Sign(UsedTokenContext, used.GetSignedBytes(), signature);
            UsedTokenRecord signed = used.WithSignature(signature);
            _settings.Invitations.AddUsedRecord(signed);
            foreach (MemberEntry entry in _members.Values)
            {
                SendControl(entry.Id, ControlFrameType.UsedToken, signed.ToArray());
            }
        }

        if (result.Step == JoinStep.Failed)
        {
            _log.WriteLine($"meshagent: a join attempt from {from} failed: {result.Error}");
        }

        if (join.Responder.FinalStatus is { } status && status != JoinStatus.Accepted)
        {
            _log.WriteLine($"meshagent: refused a join from {from}: {status}");
        }
    }

    private const string UsedTokenContext = "meshagent used token v1";

    private JoinResponderOptions JoinOptions() => _joinOptions ??= new JoinResponderOptions
    {
        StaticPrivateKey = _settings.Identity.WireGuardPrivateKey.AsSpan().ToArray(),
        NetworkRootPublicKey = _settings.Root.AsSpan().ToArray(),
        AdminIdentityPublicKey = _settings.Identity.PublicKey.AsSpan().ToArray(),
        Store = _settings.Invitations,
        Decide = Decide,
        Time = _time,
    };

    private void ExpireJoinSessions()
    {
        long now = _time.GetTimestamp();
        foreach (var (key, session) in _joinSessions.Where(p => _time.GetElapsedTime(p.Value.StartedAt, now) > JoinSessionLifetime).ToList())
        {
            session.Responder.Dispose();
            _joinSessions.Remove(key);
        }
    }

    /// <summary>Issues the certificate for a join that proved the token's secret (called inside the responder, on the loop).</summary>
    private JoinDecision Decide(JoinRequest request)
    {
        NetworkRootKey? root = _rootKey;
        if (root is null)
        {
            return JoinDecision.Refuse(JoinStatus.Refused, "this node is no longer an admin");
        }

        var nodeKey = new NodePublicKey(request.JoinerIdentityPublicKey);
        var id = new MemberId(nodeKey.AsSpan());
        if (_revocations.Contains(nodeKey))
        {
            return JoinDecision.Refuse(JoinStatus.Refused, "this node's identity was revoked in this network; a revoked identity cannot join again");
        }

        if (id == SelfId)
        {
            return JoinDecision.Refuse(JoinStatus.Refused, "a node cannot join through itself");
        }

        string name = request.RequestedName
            ?? _settings.Invitations.Pending(_time.GetUtcNow()).FirstOrDefault(p => p.Id.Equals(request.TokenId))?.Name
            ?? "node-" + nodeKey.ToString()[NodePublicKey.TextPrefix.Length..][..6].ToLowerInvariant();
        if (string.Equals(name, _certificate.Name, StringComparison.Ordinal)
            || _members.Values.Any(e => e.Id != id && e.State != MemberState.Revoked && e.State != MemberState.Left && string.Equals(e.Certificate?.Name, name, StringComparison.Ordinal)))
        {
            return JoinDecision.Refuse(JoinStatus.NameTaken, $"the name '{name}' is taken");
        }

        var allocator = OverlayAddressAllocator.ForNetwork(_settings.Root, _settings.IPv4Network, _settings.IPv6Prefix);
        var used = new List<IPAddress> { _certificate.OverlayIPv4, _certificate.OverlayIPv6 };
        foreach (MemberEntry entry in _members.Values)
        {
            if (entry.Certificate is { } c && entry.Id != id)
            {
                used.Add(c.OverlayIPv4);
                used.Add(c.OverlayIPv6);
            }
        }

        IPAddress v4, v6;
        if (_members.TryGetValue(id, out MemberEntry? existing) && existing.Certificate is { } previous)
        {
            // The same identity joining again (after leave): keep its addresses.
            (v4, v6) = (previous.OverlayIPv4, previous.OverlayIPv6);
        }
        else if (!allocator.TryAllocate(nodeKey, used, out IPAddress? a4, out IPAddress? a6) || a6 is null)
        {
            return JoinDecision.Refuse(JoinStatus.Refused, $"the overlay network {_settings.IPv4Network} has no free address left");
        }
        else
        {
            (v4, v6) = (a4, a6);
        }

        DateTimeOffset now = _time.GetUtcNow();
        MembershipCertificate certificate = MembershipCertificate.Issue(root, new CertificateFields
        {
            NodeKey = nodeKey,
            Name = name,
            OverlayIPv4 = v4,
            OverlayIPv6 = v6,
            IssuedAt = now - TimeSpan.FromMinutes(1),
            ExpiresAt = now + CertificateLifetime,
        });

        // Provisional peer: the new node's first handshake arrives before its record does.
        if (!_members.TryGetValue(id, out MemberEntry? pending))
        {
            pending = new MemberEntry(id) { State = MemberState.Alive };
            _members[id] = pending;
        }

        pending.PendingCertificate = certificate;
        pending.PendingUntil = _time.GetTimestamp() + (long)(PendingLifetime.TotalSeconds * _time.TimestampFrequency);
        EnsurePeer(pending, endpointsChanged: false);
        if (pending.Peer is not null && _joinSource is { } source)
        {
            pending.Peer.Endpoint = source;
        }
        else if (pending.Peer is not null && _joinRelayed)
        {
            // Joined through the relay: the new member is reached the same way until a direct path is found.
            pending.Peer.Endpoint = RelayedEndpointOf(nodeKey);
        }

        SyncRoutes();
        _log.WriteLine($"meshagent: accepted '{name}' ({nodeKey}) {(_joinRelayed ? "through the relay" : $"from {_joinSource}")}: {v4} {v6}");
        return JoinDecision.Accept(certificate.Encode(), CreateSnapshot().Encode());
    }

    private MembershipSnapshot CreateSnapshot()
    {
        var members = new List<SnapshotMember> { new(_selfRecord.Encode(), true, _gossip.Incarnation) };
        foreach (MemberView view in _gossip.GetMembers().OrderByDescending(v => v.State == MemberState.Alive))
        {
            if (view.Member != SelfId && view.State is MemberState.Alive or MemberState.Suspect or MemberState.Dead && view.Payload is { Data.Length: > 0 } payload)
            {
                members.Add(new SnapshotMember(payload.Data.ToArray(), view.State != MemberState.Dead, view.Incarnation));
            }
        }

        return new MembershipSnapshot
        {
            NetworkName = _settings.NetworkName,
            IPv4Network = _settings.IPv4Network.ToString(),
            IPv6Prefix = _settings.IPv6Prefix.ToString(),
            Members = members,
            Revocations = _revocations.Revocations.Select(r => r.Encode()).ToList(),
            UsedTokens = _settings.Invitations.UsedRecords.Select(u => u.ToArray()).ToList(),
            Relays = _settings.Relays,
        };
    }

    /// <summary>A used-token record from a member: kept when an admin of this network signed it, and passed on once.</summary>
    private void AcceptUsedRecord(UsedTokenRecord record, MemberId from)
    {
        var admin = new NodePublicKey(record.AdminIdentityPublicKey);
        bool signedByAdmin = admin == _settings.Identity.PublicKey
            ? _rootKey is not null
            : _members.TryGetValue(new MemberId(admin.AsSpan()), out MemberEntry? entry) && entry.Certificate is { IsAdmin: true };
        if (!signedByAdmin || !admin.Verify(UsedTokenContext, record.GetSignedBytes(), record.Signature))
        {
            Interlocked.Increment(ref _controlDropped);
            return;
        }

        if (_settings.Invitations.ApplyUsedRecord(record))
        {
            foreach (MemberEntry other in _members.Values.Where(e => e.Id != from && e.IsLive))
            {
                SendControl(other.Id, ControlFrameType.UsedToken, record.ToArray());
            }
        }
    }

    private void SendUsedTokensTo(MemberEntry entry)
    {
        foreach (UsedTokenRecord record in _settings.Invitations.UsedRecords)
        {
            SendControl(entry.Id, ControlFrameType.UsedToken, record.ToArray());
        }
    }

    // ------------------------------------------------------------------ admin operations (on the loop)

    public InviteResult Invite(InviteRequest request)
    {
        if (_rootKey is null)
        {
            throw new MeshControlException(ControlErrorKind.Forbidden, "this node is not an admin of the network, so it cannot invite — run meshagent invite on an admin node (or have an admin run meshagent admin grant THIS-NODE)");
        }

        if (request.Name is { } name && _members.Values.Any(e => e.IsLive && string.Equals(e.Certificate?.Name, name, StringComparison.Ordinal)))
        {
            throw new MeshControlException(ControlErrorKind.Conflict, $"a member named '{name}' already exists — choose another --name");
        }

        TimeSpan lifetime = request.Expires ?? TimeSpan.FromHours(1);
        if (lifetime <= TimeSpan.Zero || lifetime > TimeSpan.FromDays(30))
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, $"--expires {lifetime} is out of range — give between 1 minute and 30 days");
        }

        if (_localEndpoints.Count == 0)
        {
            throw new MeshControlException(ControlErrorKind.Local, "this node has no network address a joining node could reach (no interface with an address is up) — connect it to a network first");
        }

        byte[] secret = JoinToken.GenerateSecret();
        try
        {
            DateTimeOffset expiresAt = _time.GetUtcNow() + lifetime;
            JoinToken token = MakeToken(secret, expiresAt, request.Name);
            _settings.Invitations.Add(token.Id, secret, token.ExpiresAt, request.Name);
            _log.WriteLine($"meshagent: issued a join token{(request.Name is null ? "" : $" for '{request.Name}'")}, valid until {token.ExpiresAt:u}");
            return new InviteResult { Token = token.ToString(), QrText = token.ToQrText(), ExpiresAt = token.ExpiresAt, Name = request.Name };
        }
        catch (ArgumentException e)
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, $"cannot make a join token: {e.Message}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>
    /// A token with as many of this node's endpoints as fit (the text has a length budget): the first local one (a
    /// joiner on the same LAN), the STUN-reflexive ones (a joiner elsewhere, when our NAT lets it in or forwards the
    /// port), then the other local ones. The relays go in whole: they are the way in when no endpoint answers.
    /// </summary>
    private JoinToken MakeToken(byte[] secret, DateTimeOffset expiresAt, string? name)
    {
        List<IPEndPoint> endpoints = [.. _localEndpoints.Take(1).Concat(_reflexive).Concat(_localEndpoints.Skip(1)).Distinct().Take(JoinToken.MaxEndpoints)];
        List<RelayAddress> relays = TokenRelays();
        for (int count = endpoints.Count; ; count--)
        {
            try
            {
                return new JoinToken(_settings.NetworkName, _settings.Root.AsSpan(), _settings.Identity.PublicKey.AsSpan(),
                    endpoints.Take(count), relays, secret, expiresAt, name);
            }
            catch (ArgumentException) when (count > 1)
            {
                // too long for the token's budget: one endpoint fewer
            }
        }
    }

    private List<RelayAddress> TokenRelays()
    {
        var relays = new List<RelayAddress>();
        foreach (NetworkRelay relay in _settings.Relays.Take(JoinToken.MaxRelays))
        {
            if (relay.TryGetAddress(out RelayAddress address))
            {
                relays.Add(address);
            }
        }

        return relays;
    }

    public RevokeResult Revoke(RevokeRequest request)
    {
        if (_rootKey is null)
        {
            throw new MeshControlException(ControlErrorKind.Forbidden, "this node is not an admin of the network, so it cannot revoke — run meshagent revoke on an admin node");
        }

        if (string.Equals(request.Name, _certificate.Name, StringComparison.Ordinal))
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, $"'{request.Name}' is this node; to take it out of the network run meshagent leave");
        }

        if (!TryFindMemberByName(request.Name, out MemberId id, out MembershipCertificate certificate))
        {
            throw new MeshControlException(ControlErrorKind.NotFound, $"no member named '{request.Name}' — see meshagent peers for the names");
        }

        DateTimeOffset now = _time.GetUtcNow();
        Revocation revocation = Revocation.Issue(_rootKey, certificate.NodeKey, now, request.Reason ?? "");
        _revocations.TryAdd(revocation, _settings.Root, out _revocations);
        PushRevocationsToRelay([revocation]);
        SendControl(id, ControlFrameType.Revoked, revocation.EncodedSpan);
        _gossip.Revoke(id, revocation.Encode());
        if (_members.TryGetValue(id, out MemberEntry? entry))
        {
            entry.State = MemberState.Revoked;
            RemovePeer(entry);
            SyncRoutes();
        }

        _dirty = true;
        _log.WriteLine($"meshagent: revoked '{certificate.Name}' ({certificate.NodeKey})");
        return new RevokeResult { Name = certificate.Name, NodeKey = certificate.NodeKey.ToString(), RevokedAt = now };
    }

    /// <summary>Sends the root key and a new admin certificate to a member; completes when it confirms.</summary>
    public Task<bool> GrantAdmin(GrantAdminRequest request, out MemberInfo info)
    {
        if (_rootKey is null)
        {
            throw new MeshControlException(ControlErrorKind.Forbidden, "this node is not an admin of the network, so it cannot make admins");
        }

        if (!TryFindMemberByName(request.Name, out MemberId id, out MembershipCertificate certificate)
            || !_members.TryGetValue(id, out MemberEntry? entry) || !entry.IsLive)
        {
            throw new MeshControlException(ControlErrorKind.NotFound, $"no live member named '{request.Name}' — see meshagent peers (the member must be online to receive the key)");
        }

        MembershipCertificate promoted = MembershipCertificate.Issue(_rootKey, new CertificateFields
        {
            NodeKey = certificate.NodeKey,
            Name = certificate.Name,
            OverlayIPv4 = certificate.OverlayIPv4,
            OverlayIPv6 = certificate.OverlayIPv6,
            ApprovedRoutes = certificate.ApprovedRoutes,
            Tags = certificate.Tags,
            IssuedAt = _time.GetUtcNow() - TimeSpan.FromMinutes(1),
            ExpiresAt = _time.GetUtcNow() + CertificateLifetime,
            IsAdmin = true,
        });
        var ack = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _grantAcks[id] = ack;
        byte[] seed = new byte[32];
        _rootKey.CopySeed(seed);
        SendControl(id, ControlFrameType.AdminGrant, seed, promoted.EncodedSpan);
        CryptographicOperations.ZeroMemory(seed);
        info = Describe(promoted, Describe(entry.State), entry.Peer, entry.Record) with { IsAdmin = true };
        _log.WriteLine($"meshagent: sent the network root key and an admin certificate to '{certificate.Name}'");
        return ack.Task;
    }

    private void SendControl(MemberId to, ControlFrameType type, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        byte[] body = new byte[first.Length + second.Length];
        first.CopyTo(body);
        second.CopyTo(body.AsSpan(first.Length));
        try
        {
            SendControl(to, type, body);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(body);
        }
    }

    /// <summary>An admin made this node an admin: check everything, then keep the key and publish the new certificate.</summary>
    private void AcceptAdminGrant(MemberId from, ReadOnlySpan<byte> body)
    {
        if (!_members.TryGetValue(from, out MemberEntry? sender) || sender.Certificate is not { IsAdmin: true } || body.Length <= 32)
        {
            _log.WriteLine($"meshagent: ignored an admin grant from {from}: the sender is not an admin");
            return;
        }

        using NetworkRootKey candidate = NetworkRootKey.FromSeed(body[..32]);
        if (candidate.PublicKey != _settings.Root
            || !MembershipCertificate.TryDecode(body[32..], out MembershipCertificate? certificate, out _)
            || certificate.NodeKey != _settings.Identity.PublicKey || !certificate.IsAdmin
            || certificate.Validate(_settings.Root, _time.GetUtcNow(), _revocations) != CertificateValidation.Valid)
        {
            _log.WriteLine($"meshagent: ignored an admin grant from '{sender.Certificate.Name}': the key or certificate does not match this network and node");
            return;
        }

        NetworkRootKey root = NetworkRootKey.FromSeed(body[..32]);
        _settings.State.SaveRootKey(root);
        _rootKey = root;
        _joinOptions = null;
        _certificate = certificate;
        _relayClient?.UpdateCertificate(certificate);
        _tcpRelay?.UpdateCertificate(certificate);
        RepublishSelf();
        SendControl(from, ControlFrameType.AdminAck, certificate.Hash);
        _log.WriteLine($"meshagent: '{sender.Certificate.Name}' made this node an admin of '{_settings.NetworkName}'");
    }

    /// <summary>Announces departure (on the loop). <see cref="GossipEngine.LeavePending"/> says when it has gone out.</summary>
    public void Leave() => _gossip.Leave();

    public bool LeavePending => _gossip.LeavePending;
}
