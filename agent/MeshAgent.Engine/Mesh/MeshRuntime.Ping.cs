using System.Net;
using System.Security.Cryptography;
using MeshAgent.Core.Net;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Control;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Paths;
using MeshAgent.Engine.Relay;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.Mesh;

// Diagnostics (meshagent ping): one PathPing to a member along its CURRENT path — Peer.Endpoint, a direct address or
// the member's RelayedEndpoint — sealed in its WireGuard session like the path managers' probes (control frame 0x06),
// with a fresh random txid kept in _diagnosticPings, apart from the managers' own. The member's PathManager answers
// it like any ping (a PathPong back along the path the ping came in on); HandlePathFrame hands the pong to
// TryConsumeDiagnosticPong first, so the managers never see it. Without a session, SendPacketTo asks for a handshake
// and the caller polls until one is up or its timeout ends.
//
//   caller (API thread)                loop
//   PingAsync ── InvokeAsync ────────► StartPing: find member, send, track txid ─► Sent | NoSession | NoPath
//            ◄─ await answer (≤ timeout) ◄── HandlePathFrame → TryConsumeDiagnosticPong completes it
//            ── Post(CancelPing) on timeout
internal sealed partial class MeshRuntime
{
    /// <summary>Pings in flight at once (every user's, all members); more are refused, not queued.</summary>
    private const int MaxDiagnosticPings = 64;

    public static readonly TimeSpan DefaultPingTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan MaxPingTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How often a ping waiting for the first handshake checks for the session.</summary>
    private static readonly TimeSpan SessionPoll = TimeSpan.FromMilliseconds(50);

    private readonly PendingPings _diagnosticPings = new(MaxDiagnosticPings);

    private enum PingStartKind
    {
        Sent,
        NoSession,
        NoPath,
    }

    private sealed record PingStart(PingStartKind Kind, PingReply Reply, PathTxId TxId, long SentAt, Task<PingAnswer> Answer);

    /// <summary>Any thread: one diagnostic ping to the member <paramref name="request"/> names; refusals are <see cref="MeshControlException"/>s.</summary>
    public async Task<PingReply> PingAsync(PingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        TimeSpan timeout = request.Timeout ?? DefaultPingTimeout;
        if (timeout <= TimeSpan.Zero || timeout > MaxPingTimeout)
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, $"ping timeout {timeout.TotalSeconds:0.###} s is out of range — give more than 0 and at most {MaxPingTimeout.TotalSeconds:0} s");
        }

        if (!PeerQuery.TryParse(request.Peer, out PeerQuery query, out string? error))
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, error!);
        }

        long started = _time.GetTimestamp();
        while (true)
        {
            PingStart start = await InvokeAsync(() => StartPing(query, timeout));
            TimeSpan remaining = timeout - _time.GetElapsedTime(started);
            switch (start.Kind)
            {
                case PingStartKind.NoPath:
                    return start.Reply;
                case PingStartKind.NoSession when remaining <= TimeSpan.Zero:
                    return start.Reply with
                    {
                        Detail = $"no WireGuard session with '{start.Reply.Peer}': the handshake{(start.Reply.Endpoint is { } at ? $" via {start.Reply.Path} {at}" : "")} did not complete within {timeout.TotalSeconds:0.###} s"
                            + " — check that it is online and reachable ('meshagent peers' shows its state, path and last handshake)",
                    };
                case PingStartKind.NoSession:
                    await Task.Delay(remaining < SessionPoll ? remaining : SessionPoll, _time, cancellationToken);
                    continue;
            }

            Task<PingAnswer> answer = start.Answer;
            if (remaining > TimeSpan.Zero)
            {
                try
                {
                    await answer.WaitAsync(remaining, _time, cancellationToken);
                }
                catch (TimeoutException)
                {
                }
                catch (OperationCanceledException)
                {
                    Post(() => _diagnosticPings.Cancel(start.TxId));
                    throw;
                }
            }

            if (!answer.IsCompleted || answer.Result is not { Replied: true } reply)
            {
                Post(() => _diagnosticPings.Cancel(start.TxId));
                return start.Reply with
                {
                    Detail = $"no reply within {timeout.TotalSeconds:0.###} s — the session is up, so the probe or its answer was lost on the {start.Reply.Path} path; try again, or see the path in 'meshagent peers'",
                };
            }

            (string path, string? endpoint) = DescribePath(reply.Source);
            return start.Reply with
            {
                Replied = true,
                Path = path,
                Endpoint = endpoint,
                RttMilliseconds = _time.GetElapsedTime(start.SentAt, reply.ReceivedAt).TotalMilliseconds,
                ObservedEndpoint = reply.ObservedSource.IsEmpty ? null : reply.ObservedSource.ToIPEndPoint().Unmapped().ToString(),
            };
        }
    }

    /// <summary>On the loop: finds the member and sends one ping along its current path.</summary>
    private PingStart StartPing(PeerQuery query, TimeSpan timeout)
    {
        if (query.Find([_certificate], c => c.Name, c => c.OverlayIPv4, c => c.OverlayIPv6) is not null)
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, $"'{query}' is this node ({_certificate.Name}) — ping another member; 'meshagent peers' lists them");
        }

        List<MemberEntry> candidates = [.. _members.Values.Where(e => e.Certificate is not null && e.State != MemberState.Revoked)];
        if (query.Find(candidates, e => e.Certificate!.Name, e => e.Certificate!.OverlayIPv4, e => e.Certificate!.OverlayIPv6) is not { } entry)
        {
            string what = query.Name is { } name ? $"named '{name}'" : $"with the overlay address {query.Address}";
            throw new MeshControlException(ControlErrorKind.NotFound, $"no member {what} in network '{_settings.NetworkName}' — 'meshagent peers' lists the members with their names and addresses");
        }

        MembershipCertificate certificate = entry.Certificate!;
        var reply = new PingReply
        {
            Peer = certificate.Name,
            OverlayIPv4 = certificate.OverlayIPv4.ToString(),
            OverlayIPv6 = certificate.OverlayIPv6.ToString(),
        };
        if (entry.Peer is not { } peer)
        {
            throw new MeshControlException(ControlErrorKind.Conflict, $"'{certificate.Name}' is {Describe(entry.State)}: this node keeps no WireGuard peer for it, so there is nothing to ping — 'meshagent peers' shows its state");
        }

        if (peer.Endpoint is not { } endpoint)
        {
            return new PingStart(PingStartKind.NoPath, reply with
            {
                Detail = $"no path to '{certificate.Name}': its record lists no endpoint and no relay is connected — check 'meshagent netcheck' on both machines, or configure a relay (meshagent init --relay)",
            }, default, 0, Task.FromResult(PingAnswer.None));
        }

        (string path, string? shown) = DescribePath(UdpEndpoint.FromIPEndPoint(endpoint));
        reply = reply with { Path = path, Endpoint = shown };

        Span<byte> txidBytes = stackalloc byte[PathTxId.Size];
        RandomNumberGenerator.Fill(txidBytes);
        var txid = new PathTxId(txidBytes);
        long now = _time.GetTimestamp();
        Span<byte> body = stackalloc byte[PathFrame.PingSize];
        int length = PathFrame.WritePing(body, new PathPing(txid, (ulong)(now * 1_000_000.0 / _time.TimestampFrequency)));
        byte[] frame = ControlFrame.Create(ControlFrameType.Path, body[..length]);

        long deadline = now + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        if (!_diagnosticPings.TryAdd(txid, entry.Id, now, deadline, out Task<PingAnswer> answer))
        {
            throw new MeshControlException(ControlErrorKind.Conflict, $"{MaxDiagnosticPings} pings are already waiting for answers on this node — wait for them to finish (each ends within its timeout) and try again");
        }

        // Without a session this asks for a handshake (the device allows one per REKEY_TIMEOUT) and sends nothing.
        if (!_device.SendPacketTo(peer, frame, endpoint))
        {
            _diagnosticPings.Cancel(txid);
            return new PingStart(PingStartKind.NoSession, reply, default, 0, Task.FromResult(PingAnswer.None));
        }

        return new PingStart(PingStartKind.Sent, reply, txid, now, answer);
    }

    /// <summary>
    /// On the loop, before the path manager sees the frame: true when it is the pong of a diagnostic ping (consumed).
    /// Anything else (pings, call-me-maybes, the managers' pongs, malformed bodies) is left to HandlePathFrame.
    /// </summary>
    private bool TryConsumeDiagnosticPong(MemberId from, ReadOnlySpan<byte> body, in UdpEndpoint source) =>
        _diagnosticPings.Count > 0
        && PathFrame.TryReadPong(body, out PathPong pong)
        && _diagnosticPings.TryComplete(pong.TxId, from, source, pong.ObservedSource, _time.GetTimestamp());

    /// <summary>
    /// ("direct", ip:port) for a direct endpoint or a hard-NAT probe socket's path, ("peer-relay", member name) for a
    /// path through a peer relay, ("relay", relay address) for the meshrelay.
    /// </summary>
    private (string Path, string? Endpoint) DescribePath(in UdpEndpoint endpoint)
    {
        var peerEndpoint = new PeerEndpoint(endpoint);
        if (ProbeEndpointText(peerEndpoint) is { } probe)
        {
            return ("direct", probe);
        }

        if (PeerRelayEndpointText(peerEndpoint) is { } via)
        {
            return ("peer-relay", via);
        }

        return RelayedEndpoint.TryRead(endpoint, out _, out _)
            ? ("relay", _relayAddress?.ToString())
            : ("direct", endpoint.ToIPEndPoint().Unmapped().ToString());
    }

    /// <summary>The network's relays for status: the first (the one used) with its session state, the others as configured.</summary>
    public IReadOnlyList<RelayInfo> DescribeRelays()
    {
        var relays = new List<RelayInfo>();
        for (int i = 0; i < _settings.Relays.Count; i++)
        {
            string state = i > 0 ? "configured"
                : _relayClient is { } client ? client.State.ToString().ToLowerInvariant()
                : "unresolved";
            relays.Add(new RelayInfo { Address = _settings.Relays[i].Address, State = state });
        }

        return relays;
    }
}
