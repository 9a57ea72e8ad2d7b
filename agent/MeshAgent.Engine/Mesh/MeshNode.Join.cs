using System.Net;
using MeshAgent.Core.Net;
using System.Net.Sockets;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Control;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.State;

namespace MeshAgent.Engine.Mesh;

// `meshagent join TOKEN`: the joiner's side of the join exchange (Core/Invitations/JoinProtocol) over UDP
// to the endpoints in the token, then the first start of the runtime with what the inviter sent.
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
            JoinResponse response = await ExchangeAsync(token, initiator, progress, cancellationToken);
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

    /// <summary>Runs the four-message exchange against whichever token endpoint answers first.</summary>
    private async Task<JoinResponse> ExchangeAsync(JoinToken token, JoinInitiator initiator, IProgress<string> progress, CancellationToken cancellationToken)
    {
        IReadOnlyList<IPEndPoint> endpoints = token.Endpoints;
        if (endpoints.Count == 0)
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, "the token lists no endpoint for its inviter (only relays), and joining through a relay is not available yet — ask for a token from an admin with a reachable address");
        }

        using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, _options.ListenPort));
        }
        catch (SocketException)
        {
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        }

        IPEndPoint[] targets = [.. endpoints.Select(e => new IPEndPoint(e.Address.MapToIPv6(), e.Port))];
        progress.Report($"contacting the inviter at {string.Join(", ", endpoints)}");
        byte[] message = initiator.Start();
        IPEndPoint? inviter = null;
        var buffer = new byte[65536];
        DateTimeOffset deadline = DateTimeOffset.UtcNow + JoinTimeout;
        DateTimeOffset nextSend = DateTimeOffset.MinValue;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            DateTimeOffset now = DateTimeOffset.UtcNow;
            if (now >= deadline)
            {
                throw new MeshControlException(ControlErrorKind.Remote, inviter is null
                    ? $"no answer from the inviter at {string.Join(", ", endpoints)} within {JoinTimeout.TotalSeconds:0} s — check that the inviting node runs (meshagent status on it) and that this machine can reach one of those addresses over UDP"
                    : $"the inviter at {inviter} stopped answering in the middle of the join — try again");
            }

            if (now >= nextSend)
            {
                foreach (IPEndPoint target in inviter is null ? targets : [inviter])
                {
                    try
                    {
                        await socket.SendToAsync(message, target, cancellationToken);
                    }
                    catch (SocketException)
                    {
                        // unreachable family or route: the other endpoints may work
                    }
                }

                nextSend = now + JoinRetransmit;
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(nextSend - DateTimeOffset.UtcNow is { } left && left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.IPv6Any, 0), wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                continue;
            }
            catch (SocketException)
            {
                continue; // ICMP port unreachable from one endpoint: keep waiting for the others
            }

            var from = (IPEndPoint)received.RemoteEndPoint;
            if (inviter is not null && !from.Equals(inviter))
            {
                continue;
            }

            JoinStepResult step = initiator.Receive(buffer.AsSpan(0, received.ReceivedBytes));
            switch (step.Step)
            {
                case JoinStep.Send:
                    if (inviter is null)
                    {
                        progress.Report($"the inviter answered from {from.Unmapped()}; proving the token's secret");
                    }

                    inviter = from;
                    message = step.Message!;
                    nextSend = DateTimeOffset.MinValue;
                    break;
                case JoinStep.Finished:
                    return step.Response!;
                case JoinStep.Failed:
                    throw new MeshControlException(ControlErrorKind.Remote, $"the join failed: {step.Error}");
            }
        }
    }


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
