using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Net;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Control;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.Relay;
using MeshAgent.Engine.State;

namespace MeshAgent.Engine.Mesh;

// `meshagent join TOKEN`: the joiner's side of the join exchange (Core/Invitations/JoinProtocol) over UDP
// to the endpoints in the token and, at the same time, through the token's relays (UDP, then the relay's TCP
// stream; RelayProtocol "Joining through the relay"), then the first start of the runtime with what the inviter sent.
public sealed partial class MeshNode
{
    /// <summary>How long to keep trying the inviter (retransmitting every second) before giving up.</summary>
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan JoinRetransmit = TimeSpan.FromSeconds(1);

    public async Task<NodeStatus> JoinAsync(JoinRequestModel request, IProgress<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(progress);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            EnsureNotRunning("join a network");
            DateTimeOffset now = _options.Time.GetUtcNow();
            if (!JoinToken.TryParse(request.Token, now, out JoinToken? token, out JoinTokenError tokenError))
            {
                throw new MeshControlException(tokenError.Kind == JoinTokenErrorKind.Expired ? ControlErrorKind.Conflict : ControlErrorKind.InvalidInput, tokenError.Message);
            }

            ArgumentNullException.ThrowIfNull(token);
            string name = NodeName(request.NodeName, token.SuggestedNodeName);
            var root = new NetworkRootPublicKey(token.NetworkRootPublicKey);
            progress.Report($"token for network '{token.NetworkName}' ({root}), valid until {token.ExpiresAt:u}; joining as '{name}'");

            using JoinInitiator initiator = JoinInitiator.ForIdentity(token, _identity, name);
            (JoinResponse response, bool overTcp) = await ExchangeAsync(token, initiator, progress, cancellationToken);
            (MembershipCertificate certificate, MembershipSnapshot snapshot) = Accept(response, root);
            progress.Report($"received certificate: '{certificate.Name}' {certificate.OverlayIPv4} {certificate.OverlayIPv6}; {snapshot.Members.Count} member(s) known to the inviter");

            var revocations = new List<Revocation>();
            foreach (byte[] encoded in snapshot.Revocations)
            {
                if (Revocation.TryDecode(encoded, out Revocation? revocation, out _))
                {
                    revocations.Add(revocation);
                }
            }

            var used = new List<UsedTokenRecord>();
            foreach (byte[] encoded in snapshot.UsedTokens)
            {
                if (UsedTokenRecord.TryRead(encoded, out UsedTokenRecord? record) && record is not null)
                {
                    used.Add(record);
                }
            }

            IPNetwork v4 = IPNetwork.Parse(snapshot.IPv4Network);
            IPNetwork v6 = IPNetwork.Parse(snapshot.IPv6Prefix);
            var state = new NodeState
            {
                NetworkName = snapshot.NetworkName,
                RootPublicKey = root.AsSpan().ToArray(),
                IPv4Network = v4.ToString(),
                IPv6Prefix = v6.ToString(),
                Certificate = certificate.Encode(),
                Members = snapshot.Members.Select(m => m.Record).ToList(),
                Revocations = snapshot.Revocations,
                Relays = snapshot.Relays,
            };
            Persist(state);
            StartRuntime(new RuntimeSettings
            {
                Identity = _identity,
                Root = root,
                NetworkName = snapshot.NetworkName,
                IPv4Network = v4,
                IPv6Prefix = v6,
                Certificate = certificate,
                Members = snapshot.Members,
                Relays = snapshot.Relays,
                Revocations = revocations,
                UsedTokens = used,
                Seeds = [new MemberId(token.InviterPublicKey)],
                RelayOverTcpFirst = overTcp,
                State = _state,
                Invitations = _invitations,
            });
            progress.Report($"{_options.InterfaceName} is up; exchanging membership with the inviter");
            return GetStatus();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Runs the four-message exchange over whichever way to the inviter answers first: the token's endpoints
    /// directly (UDP) and, at the same time, the token's relays (UDP; over the relay's TCP stream when UDP got no
    /// answer within <see cref="JoinTcpFallback"/>). The first path whose answer the initiator accepts carries the
    /// rest of the exchange; answers from other paths are ignored from then on.
    /// </summary>
    /// <returns>The inviter's response, and whether it came through a relay's TCP stream.</returns>
    private async Task<(JoinResponse Response, bool OverTcp)> ExchangeAsync(JoinToken token, JoinInitiator initiator, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var root = new NetworkRootPublicKey(token.NetworkRootPublicKey);
        var inviterKey = new NodePublicKey(token.InviterPublicKey);
        IReadOnlyList<IPEndPoint> endpoints = token.Endpoints;

        using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, _options.ListenPort));
        }
        catch (SocketException)
        {
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        }

        var direct = endpoints.Select(e => JoinPath.Direct(new IPEndPoint(e.Address.MapToIPv6(), e.Port))).ToList();
        var relays = new List<JoinPath>();
        foreach (RelayAddress relay in token.Relays)
        {
            IPAddress? address = relay.Address;
            if (address is null)
            {
                try
                {
                    IPAddress[] found = await System.Net.Dns.GetHostAddressesAsync(relay.Host, cancellationToken);
                    address = found.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? found.FirstOrDefault();
                }
                catch (SocketException e)
                {
                    progress.Report($"cannot resolve relay {relay} ({e.Message}); not using it");
                }
            }

            if (address is not null)
            {
                relays.Add(JoinPath.RelayUdp(relay.ToString(), new IPEndPoint(address.MapToIPv6(), relay.Port)));
            }
        }

        if (direct.Count == 0 && relays.Count == 0)
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, "none of the token's relays resolves and it lists no endpoint for its inviter — check DNS on this machine, or ask for a token from an admin with a reachable address");
        }

        var inbox = Channel.CreateUnbounded<(JoinPath Path, byte[]? Message)>(new UnboundedChannelOptions { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var connections = new ConcurrentBag<RelayJoinConnection>();
        Task receiving = ReceiveJoinDatagramsAsync(socket, direct, relays, inbox.Writer, progress, stop.Token);
        try
        {
            if (direct.Count > 0)
            {
                progress.Report($"contacting the inviter at {string.Join(", ", endpoints)}");
            }

            foreach (JoinPath relay in relays)
            {
                progress.Report($"trying the inviter through {relay}");
            }

            var active = new List<JoinPath>([.. direct, .. relays]);
            byte[] message = initiator.Start();
            JoinPath? inviter = null;
            DateTimeOffset started = DateTimeOffset.UtcNow;
            DateTimeOffset deadline = started + JoinTimeout;
            DateTimeOffset nextSend = DateTimeOffset.MinValue;
            bool tcpStarted = false;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                DateTimeOffset now = DateTimeOffset.UtcNow;
                if (now >= deadline)
                {
                    string where = string.Join(" or ", new[]
                    {
                        endpoints.Count > 0 ? $"at {string.Join(", ", endpoints)}" : null,
                        relays.Count > 0 ? $"through relay {string.Join(", ", relays.Select(r => r.Relay))} (UDP and TCP)" : null,
                    }.OfType<string>());
                    throw new MeshControlException(ControlErrorKind.Remote, inviter is null
                        ? $"no answer from the inviter {where} within {JoinTimeout.TotalSeconds:0} s — check that the inviting node runs (meshagent status on it; with a relay: that it shows the relay connected) and that this machine can reach one of those addresses over UDP, or the relay over TCP"
                        : $"the inviter ({inviter}) stopped answering in the middle of the join — try again");
                }

                if (inviter is null && !tcpStarted && relays.Count > 0 && now - started >= JoinTcpFallback)
                {
                    tcpStarted = true;
                    foreach (JoinPath relay in relays)
                    {
                        JoinPath tcp = JoinPath.RelayTcp(relay.Relay!, relay.Udp!);
                        progress.Report($"no answer over UDP within {JoinTcpFallback.TotalSeconds:0} s; trying the inviter through {tcp}");
                        _ = RunJoinConnectionAsync(tcp, connections, inbox.Writer, progress, stop.Token);
                    }
                }

                if (now >= nextSend)
                {
                    foreach (JoinPath path in inviter is null ? active : [inviter])
                    {
                        await SendJoinAsync(socket, path, root, inviterKey, message, cancellationToken);
                    }

                    nextSend = now + JoinRetransmit;
                }

                TimeSpan left = nextSend - DateTimeOffset.UtcNow;
                if (!tcpStarted && relays.Count > 0 && started + JoinTcpFallback - DateTimeOffset.UtcNow is var untilTcp && untilTcp < left)
                {
                    left = untilTcp;
                }

                (JoinPath Path, byte[]? Message) item;
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    wait.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
                    try
                    {
                        item = await inbox.Reader.ReadAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        continue;
                    }
                }

                if (item.Message is null)
                {
                    // A TCP path came up: it joins the race at once (or carries on the exchange it was chosen for).
                    active.Add(item.Path);
                    if (inviter is null)
                    {
                        await SendJoinAsync(socket, item.Path, root, inviterKey, message, cancellationToken);
                    }

                    continue;
                }

                if (inviter is not null && !ReferenceEquals(item.Path, inviter))
                {
                    continue;
                }

                JoinStepResult step = initiator.Receive(item.Message);
                switch (step.Step)
                {
                    case JoinStep.Send:
                        if (inviter is null)
                        {
                            progress.Report($"the inviter answered {(item.Path.Relay is null ? $"from {item.Path.Udp!.Unmapped()}" : $"through {item.Path}")}; proving the token's secret");
                        }

                        inviter = item.Path;
                        message = step.Message!;
                        nextSend = DateTimeOffset.MinValue;
                        break;
                    case JoinStep.Finished:
                        return (step.Response!, item.Path.IsTcp);
                    case JoinStep.Failed:
                        throw new MeshControlException(ControlErrorKind.Remote, $"the join failed: {step.Error}");
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await receiving;
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // stopping
            }

            foreach (RelayJoinConnection connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>How long UDP (direct and to the relays) may go unanswered before the relays' TCP streams are tried too.</summary>
    private static readonly TimeSpan JoinTcpFallback = TimeSpan.FromSeconds(3);

    /// <summary>One way to the inviter: a direct UDP endpoint, a relay over UDP (JoinSend frames), or a relay's TCP stream.</summary>
    private sealed class JoinPath
    {
        private JoinPath(string? relay, IPEndPoint? udp, bool tcp)
        {
            Relay = relay;
            Udp = udp;
            IsTcp = tcp;
        }

        /// <summary>The relay's address as the token gives it; null for a direct path.</summary>
        public string? Relay { get; }

        /// <summary>Where datagrams go: the inviter's endpoint, or the relay's UDP endpoint (IPv4-mapped); for TCP, the relay's address (its TCP port is the same number).</summary>
        public IPEndPoint? Udp { get; }

        public bool IsTcp { get; }

        /// <summary>Set once the TCP connection is up (before the path is handed to the exchange loop).</summary>
        public RelayJoinConnection? Connection { get; set; }

        /// <summary>Whether the relay said the inviter is not connected to it (reported once).</summary>
        public bool ReportedUnreachable { get; set; }

        public static JoinPath Direct(IPEndPoint endpoint) => new(null, endpoint, false);

        public static JoinPath RelayUdp(string relay, IPEndPoint endpoint) => new(relay, endpoint, false);

        public static JoinPath RelayTcp(string relay, IPEndPoint endpoint) => new(relay, endpoint, true);

        public override string ToString() => Relay is null ? Udp!.Unmapped().ToString() : $"relay {Relay} ({(IsTcp ? "tcp" : "udp")})";
    }

    private static async Task SendJoinAsync(Socket socket, JoinPath path, NetworkRootPublicKey root, NodePublicKey inviter, byte[] message, CancellationToken cancellationToken)
    {
        if (path.IsTcp)
        {
            path.Connection?.Send(root, inviter, message);
            return;
        }

        byte[] datagram = message;
        if (path.Relay is not null)
        {
            datagram = new byte[JoinSendFrame.Overhead + message.Length];
            new JoinSendFrame(root, inviter, message).Write(datagram);
        }

        try
        {
            await socket.SendToAsync(datagram, path.Udp!, cancellationToken);
        }
        catch (SocketException)
        {
            // unreachable family or route: the other paths may work
        }
    }

    /// <summary>Reads the join socket: relay frames from a relay's endpoint belong to that relay's path; anything else is a direct answer from its source.</summary>
    private static async Task ReceiveJoinDatagramsAsync(Socket socket, List<JoinPath> direct, List<JoinPath> relays, ChannelWriter<(JoinPath, byte[]?)> inbox, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var bySource = direct.ToDictionary(p => p.Udp!);
        var buffer = new byte[65536];
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.IPv6Any, 0), cancellationToken);
            }
            catch (SocketException)
            {
                continue; // ICMP port unreachable from one endpoint: keep waiting for the others
            }

            var from = (IPEndPoint)received.RemoteEndPoint;
            ReadOnlySpan<byte> datagram = buffer.AsSpan(0, received.ReceivedBytes);
            JoinPath? relay = relays.Find(r => r.Udp!.Equals(from));
            if (relay is not null && RelayProtocol.LooksLikeRelayFrame(datagram))
            {
                if (TryReadRelayJoinFrame(relay, datagram, progress) is { } message)
                {
                    inbox.TryWrite((relay, message));
                }

                continue;
            }

            if (!bySource.TryGetValue(from, out JoinPath? path))
            {
                // The inviter may answer from another address than the token lists (several interfaces).
                path = JoinPath.Direct(from);
                bySource[from] = path;
            }

            inbox.TryWrite((path, datagram.ToArray()));
        }
    }

    /// <summary>The join message in a relay's JoinDeliver (copied), or null for anything else (a JoinUnreachable is reported once).</summary>
    private static byte[]? TryReadRelayJoinFrame(JoinPath relay, ReadOnlySpan<byte> frame, IProgress<string> progress)
    {
        if (JoinDeliverFrame.TryRead(frame, out JoinDeliverFrame deliver))
        {
            return deliver.Message.ToArray();
        }

        if (JoinUnreachableFrame.TryRead(frame, out _) && !relay.ReportedUnreachable)
        {
            relay.ReportedUnreachable = true;
            progress.Report($"{relay}: the inviter is not connected to this relay (yet) — still trying");
        }

        return null;
    }

    /// <summary>Connects to a relay's TCP stream, hands the path to the exchange loop, then feeds it what the relay delivers.</summary>
    private static async Task RunJoinConnectionAsync(JoinPath path, ConcurrentBag<RelayJoinConnection> connections, ChannelWriter<(JoinPath, byte[]?)> inbox, IProgress<string> progress, CancellationToken cancellationToken)
    {
        try
        {
            RelayJoinConnection connection = await RelayJoinConnection.ConnectAsync(path.Udp!, JoinTcpConnectTimeout, cancellationToken);
            connections.Add(connection);
            path.Connection = connection;
            inbox.TryWrite((path, null));
            while (true)
            {
                Memory<byte> frame = await connection.ReadAsync(cancellationToken);
                if (frame.IsEmpty)
                {
                    progress.Report($"{path}: the relay closed the connection");
                    return;
                }

                if (TryReadRelayJoinFrame(path, frame.Span, progress) is { } message)
                {
                    inbox.TryWrite((path, message));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // the join is over
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            progress.Report($"{path}: {e.Message}");
        }
    }

    private static readonly TimeSpan JoinTcpConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Checks what the inviter sent: refusals become clear errors; a certificate must be ours and valid.</summary>
    private (MembershipCertificate, MembershipSnapshot) Accept(JoinResponse response, NetworkRootPublicKey root)
    {
        string reason = string.IsNullOrEmpty(response.Reason) ? "" : $" ({response.Reason})";
        switch (response.Status)
        {
            case JoinStatus.Accepted:
                break;
            case JoinStatus.TokenUsed:
                throw new MeshControlException(ControlErrorKind.Conflict, "this join token was already used — each token works once; ask an admin for a new one (meshagent invite)");
            case JoinStatus.TokenExpired:
                throw new MeshControlException(ControlErrorKind.Conflict, "this join token has expired — ask an admin for a new one (meshagent invite)");
            case JoinStatus.UnknownToken:
                throw new MeshControlException(ControlErrorKind.Remote, "the inviter does not know this token (it was issued by another node, or expired long ago and was forgotten) — ask an admin for a new one");
            case JoinStatus.NameTaken:
                throw new MeshControlException(ControlErrorKind.Conflict, $"the inviter refused the name{reason} — choose another with --name");
            default:
                throw new MeshControlException(ControlErrorKind.Remote, $"the inviter refused the join{reason}");
        }

        if (!MembershipCertificate.TryDecode(response.Certificate, out MembershipCertificate? certificate, out string? error))
        {
            throw new MeshControlException(ControlErrorKind.Remote, $"the inviter sent a damaged certificate ({error}) — try again or ask for a new token");
        }

        CertificateValidation validation = certificate.Validate(root, _options.Time.GetUtcNow(), RevocationSet.Empty);
        if (certificate.NodeKey != _identity.PublicKey || validation != CertificateValidation.Valid)
        {
            throw new MeshControlException(ControlErrorKind.Remote, certificate.NodeKey != _identity.PublicKey
                ? "the inviter sent a certificate for another node — refusing it"
                : $"the certificate the inviter sent is not valid: {validation.Describe()} — check both machines' clocks");
        }

        if (!MembershipSnapshot.TryDecode(response.MembershipSnapshot, out MembershipSnapshot? snapshot, out error))
        {
            throw new MeshControlException(ControlErrorKind.Remote, $"the inviter sent damaged membership data ({error}) — try again");
        }

        return (certificate, snapshot);
    }
}
