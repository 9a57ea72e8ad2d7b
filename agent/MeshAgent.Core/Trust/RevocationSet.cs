using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace MeshAgent.Core.Trust;

/// <summary>
/// The revoked node keys of one network, with the revocations that prove them. Immutable: every change
/// returns a new set, so the control plane can publish it as a snapshot and readers never lock.
/// Only verified revocations get in (<see cref="TryAdd"/>), so membership in the set is proof enough.
/// </summary>
/// <remarks>
/// When two valid revocations name the same node (two admins revoked it), the set keeps the earlier one
/// (then the smaller encoding, byte-wise), so every member converges on the same record whatever order
/// gossip delivers them in — merging is commutative, associative and idempotent.
/// </remarks>
public sealed class RevocationSet
{
    public static RevocationSet Empty { get; } = new(ImmutableDictionary<NodePublicKey, Revocation>.Empty);

    private readonly ImmutableDictionary<NodePublicKey, Revocation> _byNode;

    private RevocationSet(ImmutableDictionary<NodePublicKey, Revocation> byNode) => _byNode = byNode;

    public int Count => _byNode.Count;

    public IEnumerable<Revocation> Revocations => _byNode.Values;

    public bool Contains(NodePublicKey node) => _byNode.ContainsKey(node);

    public bool TryGet(NodePublicKey node, [NotNullWhen(true)] out Revocation? revocation) => _byNode.TryGetValue(node, out revocation);

    /// <summary>
    /// Adds <paramref name="revocation"/> if it verifies under <paramref name="root"/>. Returns false (and
    /// this set) for a forged or foreign revocation. <paramref name="result"/> is this same instance when
    /// the set already held an equal or preferred revocation for the node, so
    /// <c>!ReferenceEquals(result, set)</c> means "news worth gossiping".
    /// </summary>
    public bool TryAdd(Revocation revocation, NetworkRootPublicKey root, out RevocationSet result)
    {
        ArgumentNullException.ThrowIfNull(revocation);
        result = this;
        if (!revocation.Verify(root))
        {
            return false;
        }

        if (!_byNode.TryGetValue(revocation.NodeKey, out Revocation? existing) || Prefer(revocation, existing) != existing)
        {
            result = new RevocationSet(_byNode.SetItem(revocation.NodeKey, revocation));
        }

        return true;
    }

    /// <summary>
    /// The union of two sets of the same network (both built with <see cref="TryAdd"/>, so no signature is
    /// re-checked). Sets of different networks are a caller bug and throw <see cref="ArgumentException"/>.
    /// </summary>
    public RevocationSet Merge(RevocationSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count == 0 || ReferenceEquals(other, this))
        {
            return this;
        }

        if (Count == 0)
        {
            return other;
        }

        NetworkRootPublicKey network = _byNode.Values.First().NetworkKey;
        ImmutableDictionary<NodePublicKey, Revocation>.Builder builder = _byNode.ToBuilder();
        foreach (Revocation revocation in other._byNode.Values)
        {
            if (revocation.NetworkKey != network)
            {
                throw new ArgumentException($"cannot merge revocations of network {revocation.NetworkKey} into a set of network {network}", nameof(other));
            }

            if (!builder.TryGetValue(revocation.NodeKey, out Revocation? existing) || Prefer(revocation, existing) != existing)
            {
                builder[revocation.NodeKey] = revocation;
            }
        }

        return builder.Count == Count && builder.All(pair => ReferenceEquals(_byNode[pair.Key], pair.Value))
            ? this
            : new RevocationSet(builder.ToImmutable());
    }

    /// <summary>The record every member keeps for a node: earliest revoked-at, then smaller encoding.</summary>
    private static Revocation Prefer(Revocation a, Revocation b)
    {
        int c = a.RevokedAt.CompareTo(b.RevokedAt);
        if (c == 0)
        {
            c = a.EncodedSpan.SequenceCompareTo(b.EncodedSpan);
        }

        return c <= 0 ? a : b;
    }
}
