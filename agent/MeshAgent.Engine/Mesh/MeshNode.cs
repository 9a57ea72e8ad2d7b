using MeshAgent.Engine.Control;

namespace MeshAgent.Engine.Mesh;

/// <summary>
/// One mesh node: state directory, identity, WireGuard device and data plane, gossip, join service.
/// (Being built: this skeleton fixes the contract the daemon and the local API build against.)
/// </summary>
public sealed class MeshNode : IMeshControl, IAsyncDisposable
{
    private readonly MeshNodeOptions _options;

    private MeshNode(MeshNodeOptions options) => _options = options;

    /// <summary>Opens the state directory and, when the node is in a network, brings the interface up.</summary>
    public static Task<MeshNode> StartAsync(MeshNodeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Task.FromResult(new MeshNode(options));
    }

    public NodeStatus GetStatus() => new() { Phase = NodePhase.NotJoined, InterfaceName = _options.InterfaceName, ListenPort = _options.ListenPort };

    public Task<NodeStatus> InitAsync(InitRequest request, CancellationToken cancellationToken) => throw NotYet();

    public Task<InviteResult> InviteAsync(InviteRequest request, CancellationToken cancellationToken) => throw NotYet();

    public Task<NodeStatus> JoinAsync(JoinRequestModel request, IProgress<string> progress, CancellationToken cancellationToken) => throw NotYet();

    public Task LeaveAsync(CancellationToken cancellationToken) => throw NotYet();

    public Task<RevokeResult> RevokeAsync(RevokeRequest request, CancellationToken cancellationToken) => throw NotYet();

    public Task<MemberInfo> GrantAdminAsync(GrantAdminRequest request, CancellationToken cancellationToken) => throw NotYet();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static MeshControlException NotYet() => new(ControlErrorKind.Local, "membership mode is being built");
}
