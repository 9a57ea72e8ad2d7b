using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Control;
using MeshAgent.Engine.Membership;
using MeshAgent.Engine.State;
using MemberRecord = MeshAgent.Core.Trust.MemberRecord;

namespace MeshAgent.Engine.Mesh;

/// <summary>
/// One mesh node, as the daemon runs it: the state directory (identity, certificate, membership), and
/// when the node is in a network a <see cref="MeshRuntime"/> (interface, sessions, gossip). It implements
/// the local API's operations; they are serialised by one gate, and membership work runs on the runtime's
/// control loop. A restart reads the state directory and comes back with the same identity, addresses
/// and known members (DESIGN §8).
/// </summary>
public sealed partial class MeshNode : IMeshControl, IAsyncDisposable
{
    private static readonly TimeSpan LeaveSpreadLimit = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan GrantAckTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CertificateLifetime = TimeSpan.FromDays(365);

    private readonly MeshNodeOptions _options;
    private readonly StateDirectory _state;
    private readonly NodeIdentity _identity;
    private readonly FileInvitationStore _invitations;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TextWriter _log;
    private MeshRuntime? _runtime;
    private NodePhase _phase;
    private NodeState? _nodeState;

    private MeshNode(MeshNodeOptions options, StateDirectory state, NodeIdentity identity)
    {
        _options = options;
        _state = state;
        _identity = identity;
        _log = TextWriter.Synchronized(options.Log);
        _invitations = state.OpenInvitations();
    }

    /// <summary>The port the node listens on (the configured one, or the one the system picked for 0).</summary>
    public int ListenPort => _runtime?.ListenPort ?? _options.ListenPort;

    /// <summary>
    /// Opens the state directory and, when the node is in a network, brings the interface up. Throws
    /// <see cref="StateException"/> or <see cref="MeshControlException"/> with a message for humans.
    /// </summary>
    public static Task<MeshNode> StartAsync(MeshNodeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        StateDirectory state = StateDirectory.Open(options.StateDirectory);
        try
        {
            NodeIdentity identity = state.LoadOrCreateIdentity();
            var node = new MeshNode(options, state, identity);
            foreach (string warning in state.Warnings)
            {
                node._log.WriteLine($"meshagent: warning: {warning}");
            }

            node.Resume();
            return Task.FromResult(node);
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    private void Resume()
    {
        _nodeState = _state.LoadNodeState();
        if (_nodeState is null)
        {
            _phase = NodePhase.NotJoined;
            _log.WriteLine($"meshagent: this node ({_identity.PublicKey}) is in no network yet — run meshagent init or meshagent join TOKEN");
            return;
        }

        if (_nodeState.Revoked || _nodeState.Left)
        {
            _phase = _nodeState.Revoked ? NodePhase.Revoked : NodePhase.Left;
            _log.WriteLine($"meshagent: this node {(_nodeState.Revoked ? "was revoked from" : "left")} network '{_nodeState.NetworkName}'; the interface stays down{(_nodeState.Revoked ? "" : " — join again with meshagent join TOKEN")}");
            return;
        }

        if (!MembershipCertificate.TryDecode(_nodeState.Certificate, out MembershipCertificate? certificate, out string? error))
        {
            throw new StateException($"the certificate in {Path.Combine(_state.Path, "node.json")} is damaged ({error}) — restore the file from a backup, or move the state directory away and join the network again");
        }

        var members = new List<SnapshotMember>();
        var seeds = new List<MemberId>();
        foreach (byte[] encoded in _nodeState.Members)
        {
            if (MemberRecord.TryDecode(encoded, out MemberRecord? record, out _))
            {
                members.Add(new SnapshotMember(encoded, true, 0));
                seeds.Add(new MemberId(record.NodeKey.AsSpan()));
            }
        }

        var revocations = new List<Revocation>();
        foreach (byte[] encoded in _nodeState.Revocations)
        {
            if (Revocation.TryDecode(encoded, out Revocation? revocation, out _))
            {
                revocations.Add(revocation);
            }
        }

        StartRuntime(new RuntimeSettings
        {
            Identity = _identity,
            Root = new NetworkRootPublicKey(_nodeState.RootPublicKey),
            NetworkName = _nodeState.NetworkName,
            IPv4Network = IPNetwork.Parse(_nodeState.IPv4Network),
            IPv6Prefix = IPNetwork.Parse(_nodeState.IPv6Prefix),
            Certificate = certificate,
            RootKey = _state.LoadRootKey(),
            Incarnation = _nodeState.Incarnation,
            RecordVersion = _nodeState.RecordVersion,
            Members = members,
            Relays = _nodeState.Relays,
            Revocations = revocations,
            UsedTokens = _invitations.UsedRecords,
            Seeds = seeds,
            State = _state,
            Invitations = _invitations,
        });
    }

    private void StartRuntime(RuntimeSettings settings)
    {
        try
        {
            _runtime = MeshRuntime.Start(settings, _options.InterfaceName, _options.ListenPort, _log, _options.Time, Persist, OnSelfRemoved);
            _phase = NodePhase.Running;
        }
        catch (Exception e) when (e is not MeshControlException and not StateException)
        {
            throw new MeshControlException(ControlErrorKind.Local, $"cannot bring up {_options.InterfaceName}: {e.Message}", e);
        }
    }

    private void Persist(NodeState state)
    {
        _state.SaveNodeState(state);
        _nodeState = state;
    }

    /// <summary>The runtime saw this node revoked: stop it off the loop thread and remember.</summary>
    private void OnSelfRemoved(string reason) => _ = Task.Run(async () =>
    {
        await _gate.WaitAsync();
        try
        {
            MeshRuntime? runtime = _runtime;
            _runtime = null;
            runtime?.Dispose();
            _phase = NodePhase.Revoked;
            if (_nodeState is not null)
            {
                Persist(_nodeState with { Revoked = true });
            }
        }
        finally
        {
            _gate.Release();
        }
    });

    // ------------------------------------------------------------------ IMeshControl

    public NodeStatus GetStatus()
    {
        MeshRuntime? runtime = _runtime;
        if (runtime is not null)
        {
            try
            {
                Task<NodeStatus> status = runtime.InvokeAsync(() => runtime.GetStatus(_phase, runtime.ListenPort) with { Relays = runtime.DescribeRelays() });
                if (status.Wait(TimeSpan.FromSeconds(5)))
                {
                    return status.Result;
                }
            }
            catch (AggregateException)
            {
                // stopping: fall through to the offline view
            }
        }

        NodeStatus offline = new()
        {
            Phase = _phase,
            InterfaceName = _options.InterfaceName,
            ListenPort = _options.ListenPort,
            Relays = [.. (_nodeState?.Relays ?? []).Select(r => new RelayInfo { Address = r.Address, State = "down" })],
        };
        if (_nodeState is not null && MembershipCertificate.TryDecode(_nodeState.Certificate, out MembershipCertificate? certificate, out _))
        {
            offline = offline with
            {
                Network = new NetworkInfo
                {
                    Name = _nodeState.NetworkName,
                    RootPublicKey = new NetworkRootPublicKey(_nodeState.RootPublicKey).ToString(),
                    IPv4Network = _nodeState.IPv4Network,
                    IPv6Prefix = _nodeState.IPv6Prefix,
                },
                Self = new MemberInfo
                {
                    Name = certificate.Name,
                    NodeKey = certificate.NodeKey.ToString(),
                    WireGuardKey = Convert.ToBase64String(_identity.WireGuardPublicKey.AsSpan()),
                    OverlayIPv4 = certificate.OverlayIPv4.ToString(),
                    OverlayIPv6 = certificate.OverlayIPv6.ToString(),
                    State = _phase == NodePhase.Revoked ? "revoked" : "left",
                    IsAdmin = certificate.IsAdmin,
                    Path = "self",
                    CertificateExpiresAt = certificate.ExpiresAt,
                },
            };
        }

        return offline;
    }

    public async Task<NodeStatus> InitAsync(InitRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            EnsureNotRunning("create a network");
            CheckNetworkName(request.Network);
            string name = NodeName(request.NodeName, null);
            IPNetwork v4 = ParseNetwork(request.IPv4Network, OverlayAddressAllocator.DefaultIPv4Network, AddressFamily.InterNetwork, "--cidr");
            using NetworkRootKey root = NetworkRootKey.Generate();
            IPNetwork v6 = ParseNetwork(request.IPv6Prefix, OverlayAddressAllocator.DeriveIPv6Prefix(root.PublicKey), AddressFamily.InterNetworkV6, "--ipv6-prefix");
            List<NetworkRelay> relays = ParseRelays(request.Relays);
            OverlayAddressAllocator allocator;
            try
            {
                allocator = new OverlayAddressAllocator(v4, v6);
            }
            catch (ArgumentException e)
            {
                throw new MeshControlException(ControlErrorKind.InvalidInput, e.Message);
            }

            allocator.TryAllocate(_identity.PublicKey, [], out IPAddress? a4, out IPAddress? a6);
            DateTimeOffset now = _options.Time.GetUtcNow();
            MembershipCertificate certificate = MembershipCertificate.Issue(root, new CertificateFields
            {
                NodeKey = _identity.PublicKey,
                Name = name,
                OverlayIPv4 = a4!,
                OverlayIPv6 = a6!,
                IssuedAt = now - TimeSpan.FromMinutes(1),
                ExpiresAt = now + CertificateLifetime,
                IsAdmin = true,
            });

            // Root key first: a node state that names a network must never exist without its admin key here.
            _state.SaveRootKey(root);
            var state = new NodeState
            {
                NetworkName = request.Network,
                RootPublicKey = root.PublicKey.AsSpan().ToArray(),
                IPv4Network = v4.ToString(),
                IPv6Prefix = v6.ToString(),
                Certificate = certificate.Encode(),
                Relays = relays,
            };
            Persist(state);
            _log.WriteLine($"meshagent: created network '{request.Network}' ({root.PublicKey}); this node '{name}' is its first admin");
            Resume();
            return GetStatus();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<InviteResult> InviteAsync(InviteRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Name is not null)
        {
            CheckNodeName(request.Name);
        }

        MeshRuntime runtime = RequireRunning("invite");
        return await runtime.InvokeAsync(() => runtime.Invite(request));
    }

    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            MeshRuntime runtime = RequireRunning("leave");
            await runtime.InvokeAsync(() =>
            {
                runtime.Leave();
                return true;
            });
            DateTimeOffset deadline = DateTimeOffset.UtcNow + LeaveSpreadLimit;
            while (DateTimeOffset.UtcNow < deadline && await runtime.InvokeAsync(() => runtime.LeavePending))
            {
                await Task.Delay(100, cancellationToken);
            }

            _runtime = null;
            runtime.Dispose(); // persists the state with Left = true
            _phase = NodePhase.Left;
            if (_nodeState is not null && !_nodeState.Left)
            {
                Persist(_nodeState with { Left = true });
            }

            _log.WriteLine("meshagent: left the network; the interface is down");
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<RevokeResult> RevokeAsync(RevokeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        MeshRuntime runtime = RequireRunning("revoke");
        return await runtime.InvokeAsync(() => runtime.Revoke(request));
    }

    public async Task<MemberInfo> GrantAdminAsync(GrantAdminRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        MeshRuntime runtime = RequireRunning("make admins");
        (Task<bool> acknowledged, MemberInfo info) = await runtime.InvokeAsync(() => (runtime.GrantAdmin(request, out MemberInfo i), i));
        if (await Task.WhenAny(acknowledged, Task.Delay(GrantAckTimeout, cancellationToken)) != acknowledged)
        {
            throw new MeshControlException(ControlErrorKind.Remote, $"'{request.Name}' did not confirm within {GrantAckTimeout.TotalSeconds:0} s that it received the admin key — check that it is online (meshagent peers) and try again");
        }

        return info;
    }

    public Task<PingReply> PingAsync(PingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RequireRunning("ping").PingAsync(request, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            MeshRuntime? runtime = _runtime;
            _runtime = null;
            runtime?.Dispose();
            _state.Dispose();
        }
        finally
        {
            _gate.Release();
        }
    }

    // ------------------------------------------------------------------ checks

    private MeshRuntime RequireRunning(string what) => _runtime ?? throw new MeshControlException(ControlErrorKind.Conflict, _phase switch
    {
        NodePhase.NotJoined => $"cannot {what}: this node is in no network yet — run meshagent init --network NAME to create one, or meshagent join TOKEN",
        NodePhase.Left => $"cannot {what}: this node left its network — join again with meshagent join TOKEN",
        NodePhase.Revoked => $"cannot {what}: this node was revoked from its network",
        _ => $"cannot {what}: the node is not running",
    });

    private void EnsureNotRunning(string what)
    {
        if (_runtime is not null)
        {
            throw new MeshControlException(ControlErrorKind.Conflict, $"cannot {what}: this node is already in network '{_nodeState?.NetworkName}' — run meshagent leave first");
        }

        if (_phase == NodePhase.Revoked)
        {
            throw new MeshControlException(ControlErrorKind.Conflict, $"cannot {what}: this node's identity was revoked; move {_state.Path} away to start over with a new identity");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,30}[A-Za-z0-9])?$")]
    private static partial Regex NodeNamePattern();

    private static void CheckNodeName(string name)
    {
        if (!NodeNamePattern().IsMatch(name))
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, $"'{name}' is not a valid node name — use 1–32 letters, digits, '.', '_' or '-', starting and ending with a letter or digit");
        }
    }

    private static List<NetworkRelay> ParseRelays(IReadOnlyList<string>? texts)
    {
        var relays = new List<NetworkRelay>();
        var errors = new List<string>();
        foreach (string text in texts ?? [])
        {
            if (NetworkRelay.TryParse(text, out NetworkRelay? relay, out string? error))
            {
                relays.Add(relay);
            }
            else
            {
                errors.Add("--relay: " + error);
            }
        }

        if (relays.Count > JoinToken.MaxRelays)
        {
            errors.Add($"--relay given {relays.Count} times; a network has at most {JoinToken.MaxRelays} relays (a join token carries them all)");
        }

        return errors.Count == 0 ? relays : throw new MeshControlException(ControlErrorKind.InvalidInput, string.Join("; ", errors));
    }

    private static void CheckNetworkName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || System.Text.Encoding.UTF8.GetByteCount(name) > JoinToken.MaxNameBytes || name.Any(char.IsControl))
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, $"'{name}' is not a valid network name — use 1–{JoinToken.MaxNameBytes} bytes of printable text");
        }
    }

    private static string NodeName(string? requested, string? suggested)
    {
        string name = requested ?? suggested ?? SanitizedHostName();
        CheckNodeName(name);
        return name;
    }

    private static string SanitizedHostName()
    {
        string host = Dns.GetHostName().Split('.')[0];
        string cleaned = new([.. host.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_').Take(32)]);
        return cleaned.Length == 0 ? "node" : cleaned.Trim('-', '_');
    }

    private static IPNetwork ParseNetwork(string? text, IPNetwork fallback, AddressFamily family, string option)
    {
        if (text is null)
        {
            return fallback;
        }

        if (!IPNetwork.TryParse(text, out IPNetwork network) || network.BaseAddress.AddressFamily != family)
        {
            throw new MeshControlException(ControlErrorKind.InvalidInput, $"{option} '{text}' is not an {(family == AddressFamily.InterNetwork ? "IPv4 CIDR like 100.96.0.0/16" : "IPv6 prefix like fd7a:115c:a1e0::/64")} (the host bits must be zero)");
        }

        return network;
    }
}
