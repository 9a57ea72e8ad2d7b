using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Trust;
using static MeshAgent.Tests.Trust.TrustFixtures;

namespace MeshAgent.Tests.Trust;

public sealed class RevocationTests
{
    [Fact]
    public void Only_revocations_signed_by_the_network_root_get_into_a_set()
    {
        using NetworkRootKey root = Root(), other = Root(2);
        using NodeIdentity node = Node();
        Revocation foreign = Revocation.Issue(other, node.PublicKey, Now, "not yours");
        Assert.False(RevocationSet.Empty.TryAdd(foreign, root.PublicKey, out RevocationSet unchanged));
        Assert.Same(RevocationSet.Empty, unchanged);

        Revocation genuine = Revocation.Issue(root, node.PublicKey, Now, "lost");
        Assert.True(genuine.Verify(root.PublicKey));
        Assert.False(genuine.Verify(other.PublicKey));
        Assert.True(RevocationSet.Empty.TryAdd(genuine, root.PublicKey, out RevocationSet set));
        Assert.True(set.Contains(node.PublicKey));
        Assert.Equal(1, set.Count);
        Assert.Equal(0, RevocationSet.Empty.Count); // immutable

        Assert.True(set.TryAdd(genuine, root.PublicKey, out RevocationSet again));
        Assert.Same(set, again); // nothing new to gossip
    }

    [Fact]
    public void A_tampered_revocation_decodes_but_does_not_verify()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node(), victim = Node(101);
        byte[] encoded = Revocation.Issue(root, node.PublicKey, Now, "lost").Encode();
        int offset = encoded.AsSpan().IndexOf(node.PublicKey.AsSpan());
        victim.PublicKey.AsSpan().CopyTo(encoded.AsSpan(offset));
        Assert.True(Revocation.TryDecode(encoded, out Revocation? tampered, out _));
        Assert.Equal(victim.PublicKey, tampered!.NodeKey);
        Assert.False(tampered.Verify(root.PublicKey));
        Assert.False(RevocationSet.Empty.TryAdd(tampered, root.PublicKey, out _));
    }

    [Fact]
    public void Issue_refuses_an_overlong_reason()
    {
        using NetworkRootKey root = Root();
        using NodeIdentity node = Node();
        Assert.Equal(255, Revocation.Issue(root, node.PublicKey, Now, new string('x', 255)).Reason.Length);
        ArgumentException e = Assert.Throws<ArgumentException>(() => Revocation.Issue(root, node.PublicKey, Now, new string('é', 128)));
        Assert.Contains("256", e.Message);
    }

    [Fact]
    public void Merge_is_a_commutative_associative_idempotent_union_keeping_the_earliest_revocation()
    {
        using NetworkRootKey root = Root();
        NodeIdentity[] nodes = [.. Enumerable.Range(0, 6).Select(i => Node((byte)(50 + i)))];
        // Several revocations per node (different admins, times, reasons), so conflicts are exercised.
        Revocation[] pool =
        [
            .. from n in nodes
               from minutes in new[] { 0, 5, 5 }
               select Revocation.Issue(root, n.PublicKey, Now.AddMinutes(minutes), $"reason {minutes} {n.PublicKey.AsSpan()[0]}"),
        ];
        pool[2] = Revocation.Issue(root, nodes[0].PublicKey, Now.AddMinutes(5), "same time, other text");

        Gen<RevocationSet> sets =
            from picks in Gen.SubListOf(pool)
            select picks.Aggregate(RevocationSet.Empty, (set, r) => set.TryAdd(r, root.PublicKey, out RevocationSet next) ? next : throw new InvalidOperationException());

        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(Arb.From(sets), Arb.From(sets), Arb.From(sets), (RevocationSet a, RevocationSet b, RevocationSet c) =>
        {
            AssertSameContent(a.Merge(b), b.Merge(a));
            AssertSameContent(a.Merge(b).Merge(c), a.Merge(b.Merge(c)));
            AssertSameContent(a, a.Merge(a));
            Assert.Same(a, a.Merge(RevocationSet.Empty));

            RevocationSet union = a.Merge(b);
            foreach (Revocation r in a.Revocations.Concat(b.Revocations))
            {
                Assert.True(union.TryGet(r.NodeKey, out Revocation? kept));
                Assert.True(kept!.RevokedAt <= r.RevokedAt, "merge kept a later revocation than one it saw");
            }

            Assert.Equal(a.Revocations.Concat(b.Revocations).Select(r => r.NodeKey).Distinct().Count(), union.Count);
        }));

        foreach (NodeIdentity n in nodes)
        {
            n.Dispose();
        }
    }

    [Fact]
    public void Merging_sets_of_different_networks_is_refused()
    {
        using NetworkRootKey root = Root(), other = Root(2);
        using NodeIdentity node = Node();
        RevocationSet.Empty.TryAdd(Revocation.Issue(root, node.PublicKey, Now, ""), root.PublicKey, out RevocationSet ours);
        RevocationSet.Empty.TryAdd(Revocation.Issue(other, node.PublicKey, Now, ""), other.PublicKey, out RevocationSet theirs);
        Assert.Throws<ArgumentException>(() => ours.Merge(theirs));
    }

    private static void AssertSameContent(RevocationSet expected, RevocationSet actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (Revocation r in expected.Revocations)
        {
            Assert.True(actual.TryGet(r.NodeKey, out Revocation? other));
            Assert.Equal(r.Encode(), other!.Encode());
        }
    }
}
