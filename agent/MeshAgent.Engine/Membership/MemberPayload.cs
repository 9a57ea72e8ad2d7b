namespace MeshAgent.Engine.Membership;

/// <summary>
/// The opaque record a member publishes about itself (in MeshAgent: its certificate plus its
/// owner-signed dynamic state — endpoints, relay home, advertised routes). Gossip carries it and
/// hands it to the engine's validation hook; it never looks inside. <see cref="Version"/> orders
/// payloads of one member: a higher version replaces a lower one, a lower one is ignored.
/// Immutable: the engine shares one instance between every record that holds it.
/// </summary>
public sealed class MemberPayload
{
    public static readonly MemberPayload Empty = new(0, ReadOnlyMemory<byte>.Empty);

    /// <param name="data">Owned by the payload from now on: the caller must not change it afterwards.</param>
    public MemberPayload(ulong version, ReadOnlyMemory<byte> data)
    {
        Version = version;
        Data = data;
    }

    public ulong Version { get; }

    public ReadOnlyMemory<byte> Data { get; }
}
