using System.Collections.Concurrent;
using MeshAgent.Engine.Control;

namespace MeshAgent.Tests.Api;

/// <summary>
/// A stand-in for the daemon's node (the node is not what these tests test): answers with what a test sets
/// and records every call with its request, so a test can also prove the daemon was NOT asked.
/// </summary>
internal sealed class FakeMeshControl : IMeshControl
{
    public ConcurrentQueue<(string Method, object? Request)> Calls { get; } = new();

    public NodeStatus Status { get; set; } = SampleData.RunningStatus();

    public Func<InitRequest, CancellationToken, Task<NodeStatus>> Init { get; set; } = (_, _) => Task.FromResult(SampleData.RunningStatus());

    public Func<InviteRequest, CancellationToken, Task<InviteResult>> Invite { get; set; } = (r, _) => Task.FromResult(SampleData.Invite(r.Name));

    public Func<JoinRequestModel, IProgress<string>, CancellationToken, Task<NodeStatus>> Join { get; set; } = (_, _, _) => Task.FromResult(SampleData.RunningStatus());

    public Func<CancellationToken, Task> Leave { get; set; } = _ => Task.CompletedTask;

    public Func<RevokeRequest, CancellationToken, Task<RevokeResult>> Revoke { get; set; } = (r, _) => Task.FromResult(SampleData.Revoked(r.Name));

    public Func<GrantAdminRequest, CancellationToken, Task<MemberInfo>> GrantAdmin { get; set; } = (r, _) => Task.FromResult(SampleData.Member(r.Name, "alive") with { IsAdmin = true });

    public Func<PingRequest, CancellationToken, Task<PingReply>> Ping { get; set; } = (r, _) => Task.FromResult(new PingReply
    {
        Peer = r.Peer,
        OverlayIPv4 = "100.96.0.2",
        OverlayIPv6 = "fd7a:115c:a1e0::2",
        Replied = true,
        Path = "direct",
        Endpoint = "203.0.113.10:41820",
        RttMilliseconds = 0.42,
    });

    /// <summary>When set, every method throws it (before doing anything else).</summary>
    public Exception? Failure { get; set; }

    public NodeStatus GetStatus()
    {
        Record("status", null);
        return Status;
    }

    public Task<NodeStatus> InitAsync(InitRequest request, CancellationToken cancellationToken)
    {
        Record("init", request);
        return Init(request, cancellationToken);
    }

    public Task<InviteResult> InviteAsync(InviteRequest request, CancellationToken cancellationToken)
    {
        Record("invite", request);
        return Invite(request, cancellationToken);
    }

    public Task<NodeStatus> JoinAsync(JoinRequestModel request, IProgress<string> progress, CancellationToken cancellationToken)
    {
        Record("join", request);
        return Join(request, progress, cancellationToken);
    }

    public Task LeaveAsync(CancellationToken cancellationToken)
    {
        Record("leave", null);
        return Leave(cancellationToken);
    }

    public Task<RevokeResult> RevokeAsync(RevokeRequest request, CancellationToken cancellationToken)
    {
        Record("revoke", request);
        return Revoke(request, cancellationToken);
    }

    public Task<MemberInfo> GrantAdminAsync(GrantAdminRequest request, CancellationToken cancellationToken)
    {
        Record("admins", request);
        return GrantAdmin(request, cancellationToken);
    }

    public Task<PingReply> PingAsync(PingRequest request, CancellationToken cancellationToken)
    {
        Record("ping", request);
        return Ping(request, cancellationToken);
    }

    private void Record(string method, object? request)
    {
        Calls.Enqueue((method, request));
        if (Failure is { } failure)
        {
            throw failure;
        }
    }
}

/// <summary>Plausible API data: a three-member network seen from "nas".</summary>
internal static class SampleData
{
    public const string RootKey = "meshroot1:7kq2x9c4v8n3m5b6z1a0s2d4f6g8h0j2k4l6p8o0i2u4y6t8r0e2w";

    public static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static MemberInfo Member(string name, string state, int host = 2) => new()
    {
        Name = name,
        NodeKey = $"meshnode1:{name}key",
        WireGuardKey = Convert.ToBase64String(Enumerable.Repeat((byte)host, 32).ToArray()),
        OverlayIPv4 = $"100.96.0.{host}",
        OverlayIPv6 = $"fd7a:115c:a1e0::{host}",
        State = state,
    };

    public static NodeStatus RunningStatus() => new()
    {
        Phase = NodePhase.Running,
        Network = new NetworkInfo { Name = "acme-production", RootPublicKey = RootKey, IPv4Network = "100.96.0.0/16", IPv6Prefix = "fd7a:115c:a1e0::/64" },
        Self = Member("nas", "self", 1) with { IsAdmin = true, Path = "self" },
        Members =
        [
            Member("laptop", "alive", 2) with
            {
                Path = "direct",
                Endpoint = "203.0.113.10:41820",
                LastHandshake = Now.AddSeconds(-12),
                RxBytes = 1536,
                TxBytes = 12_897_485,
                Routes = ["192.168.1.0/24"],
                CertificateExpiresAt = Now.AddDays(365),
            },
            Member("phone", "suspect", 3) with { Path = "relay", Endpoint = "198.51.100.7:3478", LastHandshake = Now.AddMinutes(-5), RxBytes = 0, TxBytes = 512 },
            Member("build-server-07", "alive", 4),
        ],
        InterfaceName = "mesh0",
        ListenPort = 41820,
    };

    public static InviteResult Invite(string? name) => new()
    {
        Token = "mesh1:abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnop",
        QrText = "MESH1:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOP",
        ExpiresAt = DateTimeOffset.UtcNow.AddHours(1),
        Name = name,
    };

    public static RevokeResult Revoked(string name) => new() { Name = name, NodeKey = $"meshnode1:{name}key", RevokedAt = Now };
}
