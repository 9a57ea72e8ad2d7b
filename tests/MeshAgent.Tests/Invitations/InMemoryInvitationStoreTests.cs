using MeshAgent.Core.Invitations;
using static MeshAgent.Tests.Invitations.InvitationFixtures;

namespace MeshAgent.Tests.Invitations;

/// <summary>The reference invitation store: atomic claims, gossip merges, pruning.</summary>
public sealed class InMemoryInvitationStoreTests
{
    private static UsedTokenRecord RecordFor(JoinToken token) =>
        new(token.Id, Now, token.ExpiresAt, Pattern(32, 0x77), new byte[64]);

    [Fact]
    public async Task Exactly_one_of_many_concurrent_claims_wins()
    {
        for (int round = 0; round < 20; round++)
        {
            var store = new InMemoryInvitationStore();
            JoinToken token = RealisticToken(JoinToken.GenerateSecret());
            store.Add(token);
            int winners = 0;
            using var start = new ManualResetEventSlim();
            Task[] claimers = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            {
                start.Wait();
                for (int i = 0; i < 100; i++)
                {
                    if (store.TryMarkUsed(token.Id, Now))
                    {
                        Interlocked.Increment(ref winners);
                    }
                }
            })).ToArray();
            start.Set();
            await Task.WhenAll(claimers);
            Assert.Equal(1, winners);
        }
    }

    [Fact]
    public void Find_hands_out_the_secret_only_while_pending()
    {
        var store = new InMemoryInvitationStore();
        JoinToken token = RealisticToken();
        var secret = new byte[16];
        Assert.Equal(InvitationStatus.Unknown, store.Find(token.Id, secret).Status);

        store.Add(token);
        InvitationLookup pending = store.Find(token.Id, secret);
        Assert.Equal(InvitationStatus.Pending, pending.Status);
        Assert.Equal(token.ExpiresAt, pending.ExpiresAt);
        Assert.Equal(token.Secret.ToArray(), secret);

        Assert.True(store.TryMarkUsed(token.Id, Now));
        var untouched = new byte[16];
        Assert.Equal(InvitationStatus.Used, store.Find(token.Id, untouched).Status);
        Assert.All(untouched, b => Assert.Equal(0, b));

        store.ReleaseClaim(token.Id);
        Assert.Equal(InvitationStatus.Pending, store.Find(token.Id, secret).Status);
    }

    [Fact]
    public void A_gossiped_record_marks_a_token_used_everywhere_and_for_good()
    {
        var store = new InMemoryInvitationStore();
        JoinToken issuedHere = RealisticToken(JoinToken.GenerateSecret());
        JoinToken issuedElsewhere = RealisticToken(JoinToken.GenerateSecret());
        store.Add(issuedHere);

        Assert.True(store.ApplyUsedRecord(RecordFor(issuedHere)));
        Assert.True(store.ApplyUsedRecord(RecordFor(issuedElsewhere)));
        Assert.False(store.ApplyUsedRecord(RecordFor(issuedElsewhere)));
        Assert.Equal(InvitationStatus.Used, store.Find(issuedHere.Id, new byte[16]).Status);
        Assert.Equal(InvitationStatus.Used, store.Find(issuedElsewhere.Id, new byte[16]).Status);

        // Neither a claim, nor a release, nor re-adding (a restored backup) revives it.
        Assert.False(store.TryMarkUsed(issuedHere.Id, Now));
        store.ReleaseClaim(issuedHere.Id);
        store.Add(issuedHere);
        store.Add(issuedElsewhere);
        Assert.Equal(InvitationStatus.Used, store.Find(issuedHere.Id, new byte[16]).Status);
        Assert.Equal(InvitationStatus.Used, store.Find(issuedElsewhere.Id, new byte[16]).Status);
    }

    [Fact]
    public void Pruning_forgets_only_what_expired_before_the_grace_period()
    {
        var store = new InMemoryInvitationStore();
        JoinToken old = RealisticToken(JoinToken.GenerateSecret(), Now.AddDays(-8));
        JoinToken recent = RealisticToken(JoinToken.GenerateSecret(), Now.AddDays(-1));
        JoinToken live = RealisticToken(JoinToken.GenerateSecret(), Now.AddHours(1));
        store.Add(old);
        store.Add(recent);
        store.ApplyUsedRecord(RecordFor(live));

        Assert.Equal(1, store.Prune(Now, TimeSpan.FromDays(7)));
        Assert.Equal(2, store.Count);
        Assert.Equal(InvitationStatus.Unknown, store.Find(old.Id, new byte[16]).Status);
        Assert.Equal(InvitationStatus.Pending, store.Find(recent.Id, new byte[16]).Status);
        Assert.Equal(InvitationStatus.Used, store.Find(live.Id, new byte[16]).Status);
    }
}
