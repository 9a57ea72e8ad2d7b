using System.Runtime.Versioning;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Invitations;
using MeshAgent.Engine.State;
using MeshAgent.Tests.Support;
using static MeshAgent.Tests.Invitations.InvitationFixtures;

namespace MeshAgent.Tests.StateFiles;

/// <summary>
/// The persistent invitation store: the semantics of InMemoryInvitationStore (checked differentially),
/// every change on disk before it is visible, secrets only while pending, pruning on an injected clock.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class FileInvitationStoreTests
{
    private static UsedTokenRecord RecordFor(JoinToken token, byte adminSeed = 0x77) =>
        new(token.Id, Now, token.ExpiresAt, Pattern(32, adminSeed), new byte[64]);

    [Fact]
    public void Add_find_claim_release_and_their_persistence_across_a_restart()
    {
        using var temp = new TemporaryStateDirectory();
        var time = new ManualTimeProvider(Now);
        JoinToken kept = RealisticToken(JoinToken.GenerateSecret());
        JoinToken claimed = RealisticToken(JoinToken.GenerateSecret());
        JoinToken released = RealisticToken(JoinToken.GenerateSecret());
        var secret = new byte[16];

        using (StateDirectory state = StateDirectory.Open(temp.StatePath))
        {
            FileInvitationStore store = state.OpenInvitations(time);
            Assert.Same(store, state.OpenInvitations(time));
            Assert.Equal(InvitationStatus.Unknown, store.Find(kept.Id, secret).Status);
            store.Add(kept);
            store.Add(claimed);
            store.Add(released);

            InvitationLookup lookup = store.Find(kept.Id, secret);
            Assert.Equal(InvitationStatus.Pending, lookup.Status);
            Assert.Equal(kept.ExpiresAt, lookup.ExpiresAt);
            Assert.Equal(kept.Secret.ToArray(), secret);

            Assert.True(store.TryMarkUsed(claimed.Id, Now));
            Assert.False(store.TryMarkUsed(claimed.Id, Now));
            Assert.True(store.TryMarkUsed(released.Id, Now));
            store.ReleaseClaim(released.Id);
            Assert.Equal(InvitationStatus.Pending, store.Find(released.Id, secret).Status);
        }

        string path = temp.File(StateDirectory.InvitationsFileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        // A restart (or a crash: nothing is written at dispose) with a claim still open: the claim
        // was on disk before it was granted, so the token stays spent.
        using (StateDirectory restarted = StateDirectory.Open(temp.StatePath))
        {
            FileInvitationStore store = restarted.OpenInvitations(time);
            Assert.Equal(3, store.Count);
            Assert.Equal(InvitationStatus.Pending, store.Find(kept.Id, secret).Status);
            Assert.Equal(kept.Secret.ToArray(), secret);
            Assert.Equal(InvitationStatus.Pending, store.Find(released.Id, secret).Status);
            Assert.Equal(released.Secret.ToArray(), secret);
            var untouched = new byte[16];
            Assert.Equal(InvitationStatus.Used, store.Find(claimed.Id, untouched).Status);
            Assert.All(untouched, b => Assert.Equal(0, b));
            store.ReleaseClaim(claimed.Id);
            Assert.Equal(InvitationStatus.Used, store.Find(claimed.Id, untouched).Status);
            Assert.False(store.TryMarkUsed(claimed.Id, Now));

            PendingInvitation[] pending = [.. store.Pending(Now)];
            Assert.Equal(new[] { kept.Id, released.Id }.OrderBy(id => id.Value), pending.Select(p => p.Id).OrderBy(id => id.Value));
            Assert.All(pending, p => Assert.Equal("build-server-07", p.Name));
        }
    }

    [Fact]
    public void The_file_holds_a_secret_only_while_its_invitation_is_pending()
    {
        using var temp = new TemporaryStateDirectory();
        JoinToken token = RealisticToken(JoinToken.GenerateSecret());
        string secretBase64 = Convert.ToBase64String(token.Secret);
        string path = temp.File(StateDirectory.InvitationsFileName);
        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        FileInvitationStore store = state.OpenInvitations(new ManualTimeProvider(Now));

        store.Add(token);
        Assert.Contains(secretBase64, File.ReadAllText(path), StringComparison.Ordinal);

        Assert.True(store.TryMarkUsed(token.Id, Now));
        Assert.DoesNotContain(secretBase64, File.ReadAllText(path), StringComparison.Ordinal);

        store.ReleaseClaim(token.Id);
        Assert.Contains(secretBase64, File.ReadAllText(path), StringComparison.Ordinal);

        Assert.True(store.TryMarkUsed(token.Id, Now));
        store.AddUsedRecord(RecordFor(token));
        Assert.DoesNotContain(secretBase64, File.ReadAllText(path), StringComparison.Ordinal);

        // Final: a release after the accepted use changes nothing.
        store.ReleaseClaim(token.Id);
        Assert.Equal(InvitationStatus.Used, store.Find(token.Id, new byte[16]).Status);
        Assert.DoesNotContain(secretBase64, File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void Used_records_of_our_own_and_from_gossip_are_kept_persisted_and_spread_once()
    {
        using var temp = new TemporaryStateDirectory();
        var time = new ManualTimeProvider(Now);
        JoinToken ours = RealisticToken(JoinToken.GenerateSecret());
        JoinToken elsewhere = RealisticToken(JoinToken.GenerateSecret());
        UsedTokenRecord ourRecord = RecordFor(ours, 0x11);
        UsedTokenRecord gossiped = RecordFor(elsewhere, 0x22);

        using (StateDirectory state = StateDirectory.Open(temp.StatePath))
        {
            FileInvitationStore store = state.OpenInvitations(time);
            store.Add(ours);
            Assert.True(store.TryMarkUsed(ours.Id, Now));
            store.AddUsedRecord(ourRecord);
            Assert.False(store.ApplyUsedRecord(ourRecord)); // our own record coming back by gossip
            Assert.True(store.ApplyUsedRecord(gossiped));
            Assert.False(store.ApplyUsedRecord(gossiped));
            Assert.Equal(InvitationStatus.Used, store.Find(elsewhere.Id, new byte[16]).Status);

            // A restored backup does not revive a spent token.
            store.Add(elsewhere);
            Assert.Equal(InvitationStatus.Used, store.Find(elsewhere.Id, new byte[16]).Status);
        }

        using StateDirectory restarted = StateDirectory.Open(temp.StatePath);
        FileInvitationStore reopened = restarted.OpenInvitations(time);
        Assert.Equal(
            new[] { ourRecord.ToArray(), gossiped.ToArray() }.Select(Convert.ToHexString).Order(),
            reopened.UsedRecords.Select(r => Convert.ToHexString(r.ToArray())).Order());
        Assert.False(reopened.ApplyUsedRecord(gossiped));
        Assert.Equal(InvitationStatus.Used, reopened.Find(ours.Id, new byte[16]).Status);
        Assert.Equal(InvitationStatus.Used, reopened.Find(elsewhere.Id, new byte[16]).Status);
        Assert.Empty(reopened.Pending(Now));
    }

    [Fact]
    public async Task Exactly_one_of_many_concurrent_claims_wins_and_it_is_on_disk()
    {
        using var temp = new TemporaryStateDirectory();
        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        FileInvitationStore store = state.OpenInvitations(new ManualTimeProvider(Now));
        for (int round = 0; round < 10; round++)
        {
            JoinToken token = RealisticToken(JoinToken.GenerateSecret());
            store.Add(token);
            int winners = 0;
            using var start = new ManualResetEventSlim();
            Task[] claimers = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            {
                start.Wait();
                for (int i = 0; i < 20; i++)
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
            Assert.DoesNotContain(Convert.ToBase64String(token.Secret), File.ReadAllText(store.Path), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Expired_invitations_and_records_are_pruned_a_day_after_expiry_on_the_injected_clock()
    {
        using var temp = new TemporaryStateDirectory();
        var time = new ManualTimeProvider(Now);
        JoinToken soon = RealisticToken(JoinToken.GenerateSecret(), Now.AddHours(1));
        JoinToken later = RealisticToken(JoinToken.GenerateSecret(), Now.AddHours(5));
        JoinToken gossipedSoon = RealisticToken(JoinToken.GenerateSecret(), Now.AddHours(2));

        using (StateDirectory state = StateDirectory.Open(temp.StatePath))
        {
            FileInvitationStore store = state.OpenInvitations(time);
            store.Add(soon);
            store.Add(later);
            Assert.True(store.ApplyUsedRecord(RecordFor(gossipedSoon)));
            Assert.Equal([soon.Id, later.Id], store.Pending(Now).Select(p => p.Id));
            Assert.Equal([later.Id], store.Pending(Now.AddHours(1)).Select(p => p.Id)); // expired: not offered

            // Expired but within the day of grace: still known (answered "expired", not "unknown").
            time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromDays(1));
            Assert.Equal(0, store.Prune());
            Assert.Equal(InvitationStatus.Pending, store.Find(soon.Id, new byte[16]).Status);

            time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, store.Prune());
            Assert.Equal(InvitationStatus.Unknown, store.Find(soon.Id, new byte[16]).Status);
            Assert.Equal(InvitationStatus.Used, store.Find(gossipedSoon.Id, new byte[16]).Status);

            time.Advance(TimeSpan.FromHours(1));
            Assert.Equal(2, store.Prune()); // the tombstone and its record
            Assert.Empty(store.UsedRecords);

            // A record gossiped back after its retention is not revived.
            Assert.False(store.ApplyUsedRecord(RecordFor(gossipedSoon)));
            Assert.Equal(InvitationStatus.Unknown, store.Find(gossipedSoon.Id, new byte[16]).Status);
        }

        using (StateDirectory restarted = StateDirectory.Open(temp.StatePath))
        {
            FileInvitationStore store = restarted.OpenInvitations(time);
            Assert.Equal(1, store.Count);
            Assert.Equal(InvitationStatus.Pending, store.Find(later.Id, new byte[16]).Status);
        }

        // Pruning also happens at load: a store opened long after finds nothing left.
        time.Advance(TimeSpan.FromDays(3));
        using StateDirectory muchLater = StateDirectory.Open(temp.StatePath);
        Assert.Equal(0, muchLater.OpenInvitations(time).Count);
    }

    [Fact]
    public void A_failed_write_changes_nothing()
    {
        using var temp = new TemporaryStateDirectory();
        JoinToken token = RealisticToken(JoinToken.GenerateSecret());
        JoinToken other = RealisticToken(JoinToken.GenerateSecret());
        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        FileInvitationStore store = state.OpenInvitations(new ManualTimeProvider(Now));
        store.Add(token);

        // A directory where the temporary file would go makes every write fail (EISDIR-like), as a full disk would.
        string path = store.Path;
        byte[] before = File.ReadAllBytes(path);
        File.Delete(path);
        Directory.CreateDirectory(path);
        try
        {
            Assert.Throws<StateException>(() => store.TryMarkUsed(token.Id, Now));
            Assert.Throws<StateException>(() => store.Add(other));
            Assert.Throws<StateException>(() => store.ApplyUsedRecord(RecordFor(token)));
        }
        finally
        {
            Directory.Delete(path);
            File.WriteAllBytes(path, before);
        }

        var secret = new byte[16];
        Assert.Equal(InvitationStatus.Pending, store.Find(token.Id, secret).Status);
        Assert.Equal(token.Secret.ToArray(), secret);
        Assert.Equal(InvitationStatus.Unknown, store.Find(other.Id, secret).Status);
        Assert.Empty(store.UsedRecords);
        Assert.True(store.TryMarkUsed(token.Id, Now));
    }

    public static TheoryData<string, string> DamagedFiles() => new()
    {
        { "", "it is empty" },
        { "{\"format\": 1, \"invitations\": [{\"id\": \"00", "not a JSON object with a format number" },
        { "{\"format\": 1, \"invitations\": [{\"id\": \"xyz\", \"expiresAt\": \"2025-06-01T13:00:00+00:00\", \"used\": true}]}", "the invitation id 'xyz' is not 16 hex digits" },
        { "{\"format\": 1, \"invitations\": [{\"id\": \"0011223344556677\", \"expiresAt\": \"2025-06-01T13:00:00+00:00\"}]}", "invitation 0011223344556677 is pending but has no secret" },
        { "{\"format\": 1, \"invitations\": [{\"id\": \"0011223344556677\", \"expiresAt\": \"2025-06-01T13:00:00+00:00\", \"secret\": \"AAAA\"}]}", "has a secret of 3 bytes instead of 16" },
        { "{\"format\": 1, \"usedRecords\": [\"AAAA\"]}", "a used-token record is not a valid encoding" },
        { "{\"format\": 1, \"invitations\": null}", "does not match the invitation file format" },
    };

    [Theory]
    [MemberData(nameof(DamagedFiles))]
    public void A_damaged_invitation_file_is_reported_with_the_file_and_the_next_step(string content, string reason)
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        string path = temp.File(StateDirectory.InvitationsFileName);
        File.WriteAllText(path, content);

        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        StateException e = Assert.Throws<StateException>(() => state.OpenInvitations(new ManualTimeProvider(Now)));
        Assert.StartsWith($"invitation file {path} is damaged: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Contains("Restore it from a backup, or move it away", e.Message, StringComparison.Ordinal);
        Assert.Equal(content, File.ReadAllText(path));
    }

    [Fact]
    public void An_invitation_file_from_a_newer_meshagent_asks_for_an_upgrade()
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        File.WriteAllText(temp.File(StateDirectory.InvitationsFileName), "{\"format\": 3}");

        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        StateException e = Assert.Throws<StateException>(() => state.OpenInvitations());
        Assert.Contains("written by a newer meshagent (format 3", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("upgrade meshagent", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Disposing_the_directory_disposes_the_store()
    {
        using var temp = new TemporaryStateDirectory();
        StateDirectory state = StateDirectory.Open(temp.StatePath);
        FileInvitationStore store = state.OpenInvitations(new ManualTimeProvider(Now));
        store.Add(RealisticToken(JoinToken.GenerateSecret()));
        state.Dispose();
        Assert.Throws<ObjectDisposedException>(() => store.Find(default, new byte[16]));
    }

    /// <summary>
    /// Differential: any sequence of operations gives the same answers as the reference in-memory store,
    /// and after each sequence a restart preserves what every token looks like.
    /// </summary>
    [Fact]
    public void Behaves_like_the_in_memory_store_and_a_restart_preserves_every_lookup()
    {
        JoinToken[] tokens = Enumerable.Range(0, 4).Select(_ => RealisticToken(JoinToken.GenerateSecret())).ToArray();
        Gen<(int Op, int Token)> operation = Gen.Zip(Gen.Choose(0, 4), Gen.Choose(0, tokens.Length - 1));
        Gen<(int Op, int Token)[]> sequences = Gen.ArrayOf(operation).Select(ops => ops.Take(25).ToArray());

        using var temp = new TemporaryStateDirectory();
        int run = 0;
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(sequences), ops =>
        {
            string directory = Path.Combine(temp.Root, (run++).ToString(System.Globalization.CultureInfo.InvariantCulture));
            var reference = new InMemoryInvitationStore();
            var log = new StringBuilder();
            using (StateDirectory state = StateDirectory.Open(directory))
            {
                FileInvitationStore store = state.OpenInvitations(new ManualTimeProvider(Now));
                foreach ((int op, int index) in ops)
                {
                    JoinToken token = tokens[index];
                    log.Append($"{op}:{index} ");
                    switch (op)
                    {
                        case 0:
                            reference.Add(token);
                            store.Add(token);
                            break;
                        case 1:
                            Assert.True(reference.TryMarkUsed(token.Id, Now) == store.TryMarkUsed(token.Id, Now), log.ToString());
                            break;
                        case 2:
                            reference.ReleaseClaim(token.Id);
                            store.ReleaseClaim(token.Id);
                            break;
                        case 3:
                            Assert.True(reference.ApplyUsedRecord(RecordFor(token)) == store.ApplyUsedRecord(RecordFor(token)), log.ToString());
                            break;
                    }

                    foreach (JoinToken t in tokens)
                    {
                        var expectedSecret = new byte[16];
                        var actualSecret = new byte[16];
                        Assert.True(reference.Find(t.Id, expectedSecret) == store.Find(t.Id, actualSecret), log.ToString());
                        Assert.True(expectedSecret.AsSpan().SequenceEqual(actualSecret), log.ToString());
                    }
                }

                // What survives a restart: every lookup (a claim still open reads as used, which it already does).
                InvitationLookup[] before = tokens.Select(t => store.Find(t.Id, new byte[16])).ToArray();
                state.Dispose();
                using StateDirectory restarted = StateDirectory.Open(directory);
                FileInvitationStore reopened = restarted.OpenInvitations(new ManualTimeProvider(Now));
                InvitationLookup[] after = tokens.Select(t => reopened.Find(t.Id, new byte[16])).ToArray();
                Assert.True(before.SequenceEqual(after), log.ToString());
            }

            Directory.Delete(directory, recursive: true);
        }));
    }
}
