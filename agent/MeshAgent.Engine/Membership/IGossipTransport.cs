namespace MeshAgent.Engine.Membership;

/// <summary>
/// Where the engine's frames go. In MeshAgent: a control frame inside the WireGuard session with
/// <paramref name="to"/> (opening one if needed); in tests: a simulated network.
/// </summary>
public interface IGossipTransport
{
    /// <summary>
    /// Sends one frame, best effort (loss is expected and handled by the protocol). Borrowed:
    /// <paramref name="frame"/> is valid only during the call; copy it to keep it. Must not call
    /// back into the engine synchronously (queue the delivery instead).
    /// </summary>
    void Send(MemberId to, ReadOnlySpan<byte> frame);
}

/// <summary>
/// The engine's seams to the trust layer, all optional. Validators run on every new payload and
/// revocation before it is stored or relayed; a false answer drops the message (counted). This is
/// where certificates and root-signed revocations plug in; the gossip layer itself never looks
/// inside payloads.
/// </summary>
public sealed class GossipHooks
{
    /// <summary>Accept this payload for this member? Default: accept everything.</summary>
    public Func<MemberId, ReadOnlyMemory<byte>, bool>? ValidatePayload { get; init; }

    /// <summary>Is this a genuine revocation of this member? Default: accept everything.</summary>
    public Func<MemberId, ReadOnlyMemory<byte>, bool>? ValidateRevocation { get; init; }

    /// <summary>Called synchronously, on the engine's thread, after each change of a member's state or payload (this node's own included). Must not call back into the engine.</summary>
    public Action<MemberChange>? MemberChanged { get; init; }
}
