using System.Text;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Invitations;
using MeshAgent.Tests.Support;
using static MeshAgent.Tests.Invitations.InvitationFixtures;

namespace MeshAgent.Tests.Invitations;

/// <summary>
/// The join exchange end to end in memory: a real <see cref="JoinInitiator"/> against a real
/// <see cref="JoinResponder"/> with a real <see cref="InMemoryInvitationStore"/>, messages passed as
/// bytes. Covers success, a wrong secret, a tampered token, replays, single use (same admin, racing
/// sessions, another admin), expiry, refusals by the admin, and what an observer of the wire sees.
/// </summary>
public sealed class JoinExchangeTests
{
    private static readonly byte[] RootKey = Pattern(32, 0x10);

    /// <summary>An admin that issues tokens and answers joins.</summary>
    private sealed class Inviter
    {
        public Inviter(NodeKeys? keys = null, InMemoryInvitationStore? store = null)
        {
            Keys = keys ?? new NodeKeys();
            Store = store ?? new InMemoryInvitationStore();
            Decide = request => JoinDecision.Accept(
                Encoding.UTF8.GetBytes($"CERTIFICATE for {request.RequestedName} {Convert.ToHexString(request.JoinerIdentityPublicKey)}"),
                Encoding.UTF8.GetBytes("MEMBERSHIP SNAPSHOT: node-a, node-b"));
        }

        public NodeKeys Keys { get; }

        public InMemoryInvitationStore Store { get; }

        public ManualTimeProvider Time { get; } = new(Now);

        public List<JoinRequest> Decided { get; } = [];

        public Func<JoinRequest, JoinDecision> Decide { get; set; }

        public JoinToken Invite(byte[]? secret = null, TimeSpan? validFor = null)
        {
            JoinToken token = RealisticToken(secret ?? JoinToken.GenerateSecret(), Time.GetUtcNow() + (validFor ?? TimeSpan.FromHours(1)), RootKey, Keys.IdentityPublic);
            Store.Add(token);
            return token;
        }

        public JoinResponder NewSession() => new(new JoinResponderOptions
        {
            StaticPrivateKey = Keys.StaticPrivate,
            NetworkRootPublicKey = RootKey,
            AdminIdentityPublicKey = Keys.IdentityPublic,
            Store = Store,
            Time = Time,
            Decide = request =>
            {
                Decided.Add(request);
                return Decide(request);
            },
        });
    }

    /// <summary>Everything that crossed the wire, and each side's last result.</summary>
    private sealed record Exchange(List<byte[]> Wire, JoinStepResult Joiner, List<JoinStepResult> Responder)
    {
        public JoinResponse? Response => Joiner.Step == JoinStep.Finished ? Joiner.Response : null;
    }

    private static JoinInitiator Joiner(JoinToken token, Inviter inviter, NodeKeys? joiner = null, string? name = "laptop") =>
        new(token, inviter.Keys.StaticPublic, (joiner ?? new NodeKeys()).IdentitySecret, name);

    /// <summary>Passes messages back and forth until one side stops sending.</summary>
    private static Exchange Run(JoinInitiator joiner, JoinResponder responder)
    {
        var wire = new List<byte[]> { joiner.Start() };
        var responderResults = new List<JoinStepResult>();
        JoinStepResult joinerResult;
        while (true)
        {
            JoinStepResult r = responder.Receive(wire[^1]);
            responderResults.Add(r);
            if (r.Step != JoinStep.Send)
            {
                return new Exchange(wire, r, responderResults);
            }

            wire.Add(r.Message!);
            joinerResult = joiner.Receive(r.Message!);
            if (joinerResult.Step != JoinStep.Send)
            {
                return new Exchange(wire, joinerResult, responderResults);
            }

            wire.Add(joinerResult.Message!);
        }
    }

    private static InvitationStatus StatusOf(IInvitationStore store, JoinTokenId id) => store.Find(id, new byte[16]).Status;

    [Fact]
    public void A_valid_token_joins_and_yields_certificate_membership_and_a_used_record()
    {
        var inviter = new Inviter();
        JoinToken token = inviter.Invite();
        var joinerKeys = new NodeKeys();
        using JoinInitiator joiner = Joiner(token, inviter, joinerKeys);
        using JoinResponder responder = inviter.NewSession();

        Exchange x = Run(joiner, responder);

        Assert.Equal(JoinStep.Finished, x.Joiner.Step);
        Assert.Equal(JoinStatus.Accepted, x.Response!.Status);
        JoinRequest request = Assert.Single(inviter.Decided);
        Assert.Equal(token.Id, request.TokenId);
        Assert.Equal(joinerKeys.IdentityPublic, request.JoinerIdentityPublicKey.ToArray());
        Assert.Equal("laptop", request.RequestedName);
        Assert.Equal(inviter.Decide(request).Certificate, x.Response.Certificate.ToArray());
        Assert.Equal("MEMBERSHIP SNAPSHOT: node-a, node-b"u8.ToArray(), x.Response.MembershipSnapshot.ToArray());

        // Four messages: Hello, Challenge, Request, Response; the small ones carry nothing but keys and tags.
        Assert.Equal(4, x.Wire.Count);
        Assert.Equal(8 + 32 + 8 + 16, x.Wire[0].Length);
        Assert.Equal(8 + 32 + 16, x.Wire[1].Length);
        Assert.Equal([JoinMessageType.Hello, JoinMessageType.Challenge, JoinMessageType.Request, JoinMessageType.Response],
            x.Wire.Select(m => JoinMessages.TryReadHeader(m, out JoinMessageType t, out uint s) && s == joiner.SessionId ? t : 0));

        Assert.True(responder.IsOver && joiner.IsOver);
        Assert.Equal(JoinStatus.Accepted, responder.FinalStatus);
        UsedTokenRecord used = x.Responder[^1].UsedRecord!;
        Assert.Equal(token.Id, used.TokenId);
        Assert.Equal(Now, used.UsedAt);
        Assert.Equal(token.ExpiresAt, used.ExpiresAt);
        Assert.Equal(inviter.Keys.IdentityPublic, used.AdminIdentityPublicKey.ToArray());
        Assert.Equal(InvitationStatus.Used, StatusOf(inviter.Store, token.Id));
    }

    [Fact]
    public void Nothing_secret_or_identifying_crosses_the_wire_in_clear()
    {
        var inviter = new Inviter();
        JoinToken token = inviter.Invite();
        var joinerKeys = new NodeKeys();
        using JoinInitiator joiner = Joiner(token, inviter, joinerKeys, name: "alice-laptop");
        Exchange x = Run(joiner, inviter.NewSession());
        Assert.Equal(JoinStatus.Accepted, x.Response!.Status);

        byte[] psk = new byte[32];
        JoinProtocol.DerivePsk(token.Secret, psk);
        byte[] tokenId = new byte[8];
        token.Id.Write(tokenId);
        var secrets = new Dictionary<string, byte[]>
        {
            ["secret"] = token.Secret.ToArray(),
            ["psk"] = psk,
            ["token id"] = tokenId,
            ["joiner identity key"] = joinerKeys.IdentityPublic,
            ["requested name"] = "alice-laptop"u8.ToArray(),
            ["certificate"] = x.Response.Certificate.ToArray(),
            ["membership snapshot"] = x.Response.MembershipSnapshot.ToArray(),
            ["inviter static key"] = inviter.Keys.StaticPublic,
        };

        foreach (byte[] message in x.Wire)
        {
            foreach ((string what, byte[] value) in secrets)
            {
                // Any 8-byte window of the value would give it away; none may appear.
                for (int i = 0; i + 8 <= value.Length; i++)
                {
                    Assert.True(message.AsSpan().IndexOf(value.AsSpan(i, 8)) < 0, $"bytes of the {what} appear in clear in a {message.Length}-byte message");
                }
            }
        }
    }

    [Fact]
    public void A_wrong_secret_fails_at_the_challenge_and_the_inviter_reveals_nothing()
    {
        var inviter = new Inviter();
        JoinToken token = inviter.Invite();

        // Someone who learned the token id (say from gossip) but not the secret.
        byte[] wrongSecret = token.Secret.ToArray();
        wrongSecret[0] ^= 1;
        using var joiner = new JoinInitiator(token.Id, wrongSecret, RootKey, inviter.Keys.StaticPublic, new NodeKeys().IdentitySecret, "mallory", null, null);
        using JoinResponder responder = inviter.NewSession();

        Exchange x = Run(joiner, responder);

        Assert.Equal(JoinStep.Failed, x.Joiner.Step);
        Assert.StartsWith("the inviter did not accept this token's secret", x.Joiner.Error, StringComparison.Ordinal);
        Assert.Equal(2, x.Wire.Count);
        Assert.Equal(8 + 32 + 16, x.Wire[1].Length); // an ephemeral key and a tag: no payload at all

        // The attacker sends a request anyway: it cannot be decrypted, the session ends, nothing changes.
        byte[] forged = new byte[8 + 200];
        JoinMessages.WriteHeader(forged, JoinMessageType.Request, joiner.SessionId);
        SecureRandom.Fill(forged.AsSpan(8));
        JoinStepResult r = responder.Receive(forged);
        Assert.Equal(JoinStep.Failed, r.Step);
        Assert.Null(r.Message);
        Assert.True(responder.IsOver);
        Assert.Null(responder.FinalStatus);
        Assert.Empty(inviter.Decided);
        Assert.Equal(InvitationStatus.Pending, StatusOf(inviter.Store, token.Id));

        // And the real token still works afterwards.
        using JoinInitiator honest = Joiner(token, inviter);
        Assert.Equal(JoinStatus.Accepted, Run(honest, inviter.NewSession()).Response!.Status);
    }

    [Fact]
    public void A_token_with_an_altered_secret_is_unknown_to_the_inviter()
    {
        var inviter = new Inviter();
        JoinToken genuine = inviter.Invite();
        byte[] altered = genuine.Secret.ToArray();
        altered[15] ^= 0x80;

        // Re-encoded with valid checksums (the CRCs guard against accidents, not forgers).
        JoinToken forged = RealisticToken(altered, genuine.ExpiresAt, RootKey, inviter.Keys.IdentityPublic);
        using JoinInitiator joiner = Joiner(forged, inviter);
        Exchange x = Run(joiner, inviter.NewSession());

        Assert.Equal(JoinStep.Finished, x.Joiner.Step);
        Assert.Equal(JoinStatus.UnknownToken, x.Response!.Status);
        Assert.Empty(x.Response.Certificate.ToArray());
        Assert.Empty(inviter.Decided);
        Assert.Equal(InvitationStatus.Pending, StatusOf(inviter.Store, genuine.Id));
    }

    [Fact]
    public void A_replayed_join_request_is_rejected_even_while_the_token_is_unused()
    {
        var keys = new NodeKeys();
        var inviter = new Inviter(keys);
        byte[] secret = JoinToken.GenerateSecret();
        JoinToken token = inviter.Invite(secret);
        using JoinInitiator joiner = Joiner(token, inviter);
        using JoinResponder original = inviter.NewSession();
        Exchange recorded = Run(joiner, original);
        Assert.Equal(JoinStatus.Accepted, recorded.Response!.Status);
        byte[] hello = recorded.Wire[0];
        byte[] request = recorded.Wire[2];

        // The same inviter keys with the invitation still pending (a backup taken before the join):
        // only the cryptography can stop the replay here, not the used flag.
        var restored = new Inviter(keys);
        restored.Invite(secret);
        using JoinResponder session = restored.NewSession();
        JoinStepResult challenge = session.Receive(hello);
        Assert.Equal(JoinStep.Send, challenge.Step);
        Assert.NotEqual(recorded.Wire[1], challenge.Message); // a fresh responder ephemeral
        JoinStepResult replay = session.Receive(request);
        Assert.Equal(JoinStep.Failed, replay.Step);
        Assert.Contains("did not decrypt", replay.Error, StringComparison.Ordinal);
        Assert.Empty(restored.Decided);
        Assert.Equal(InvitationStatus.Pending, StatusOf(restored.Store, token.Id));

        // Replayed to the inviter that accepted it: the Hello is refused as used.
        using JoinResponder again = inviter.NewSession();
        JoinStepResult refusal = again.Receive(hello);
        Assert.Equal(JoinMessageType.Refusal, TypeOf(refusal.Message!));
        Assert.Equal(JoinStatus.TokenUsed, refusal.Response!.Status);

        // Replayed into the very session that accepted it: the cached answer, byte for byte, no second decision.
        JoinStepResult retransmit = original.Receive(request);
        Assert.Equal(JoinStep.Retransmit, retransmit.Step);
        Assert.Equal(recorded.Wire[3], retransmit.Message);
        Assert.Single(inviter.Decided);
    }

    private static JoinMessageType TypeOf(byte[] message)
    {
        Assert.True(JoinMessages.TryReadHeader(message, out JoinMessageType type, out _));
        return type;
    }

    [Fact]
    public void A_token_works_once()
    {
        var inviter = new Inviter();
        JoinToken token = inviter.Invite();
        using JoinInitiator first = Joiner(token, inviter, name: "first");
        Assert.Equal(JoinStatus.Accepted, Run(first, inviter.NewSession()).Response!.Status);

        using JoinInitiator second = Joiner(token, inviter, name: "second");
        Exchange x = Run(second, inviter.NewSession());
        Assert.Equal(JoinStep.Finished, x.Joiner.Step);
        Assert.Equal(JoinStatus.TokenUsed, x.Response!.Status);
        Assert.StartsWith("this join token has already been used — a token works once", JoinStatusText.Describe(x.Response.Status), StringComparison.Ordinal);
        Assert.Single(inviter.Decided);
    }

    [Fact]
    public void Two_sessions_racing_with_one_token_get_one_acceptance()
    {
        var inviter = new Inviter();
        JoinToken token = inviter.Invite();
        using JoinInitiator a = Joiner(token, inviter, name: "a");
        using JoinInitiator b = Joiner(token, inviter, name: "b");
        using JoinResponder sessionA = inviter.NewSession();
        using JoinResponder sessionB = inviter.NewSession();

        // Both are challenged before either proves the secret.
        byte[] requestA = a.Receive(sessionA.Receive(a.Start()).Message!).Message!;
        byte[] requestB = b.Receive(sessionB.Receive(b.Start()).Message!).Message!;

        JoinResponse answerA = a.Receive(sessionA.Receive(requestA).Message!).Response!;
        JoinResponse answerB = b.Receive(sessionB.Receive(requestB).Message!).Response!;
        Assert.Equal(JoinStatus.Accepted, answerA.Status);
        Assert.Equal(JoinStatus.TokenUsed, answerB.Status);
        Assert.Equal("a", Assert.Single(inviter.Decided).RequestedName);
    }

    [Fact]
    public void An_expired_token_is_refused_at_the_hello_and_at_the_request()
    {
        var inviter = new Inviter();
        JoinToken token = inviter.Invite(validFor: TimeSpan.FromMinutes(10));
        inviter.Time.Advance(TimeSpan.FromMinutes(10));
        using JoinInitiator late = Joiner(token, inviter);
        Exchange x = Run(late, inviter.NewSession());
        Assert.Equal(JoinStatus.TokenExpired, x.Response!.Status);
        Assert.Equal(2, x.Wire.Count);

        // Expiring between the challenge and the request.
        var inviter2 = new Inviter();
        JoinToken token2 = inviter2.Invite(validFor: TimeSpan.FromMinutes(10));
        using JoinInitiator slow = Joiner(token2, inviter2);
        using JoinResponder session = inviter2.NewSession();
        byte[] request = slow.Receive(session.Receive(slow.Start()).Message!).Message!;
        inviter2.Time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(JoinStatus.TokenExpired, slow.Receive(session.Receive(request).Message!).Response!.Status);
        Assert.Empty(inviter2.Decided);
        Assert.Equal(InvitationStatus.Pending, StatusOf(inviter2.Store, token2.Id));
    }

    [Fact]
    public void A_used_token_is_refused_by_another_admin_that_heard_the_gossip()
    {
        // Admin B shares A's identity (restored on another machine from a backup made before the join).
        var keys = new NodeKeys();
        var adminA = new Inviter(keys);
        byte[] secret = JoinToken.GenerateSecret();
        JoinToken token = adminA.Invite(secret);
        var adminB = new Inviter(keys);
        adminB.Invite(secret);

        using JoinInitiator first = Joiner(token, adminA);
        Exchange accepted = Run(first, adminA.NewSession());
        Assert.Equal(JoinStatus.Accepted, accepted.Response!.Status);

        // The engine signs the record and gossips it; B verifies it and merges it.
        byte[] gossiped = accepted.Responder[^1].UsedRecord!.WithSignature(new byte[64]).ToArray();
        Assert.True(UsedTokenRecord.TryRead(gossiped, out UsedTokenRecord? record));
        Assert.True(adminB.Store.ApplyUsedRecord(record!));
        Assert.False(adminB.Store.ApplyUsedRecord(record!)); // nothing new the second time: gossip stops here

        using JoinInitiator second = Joiner(token, adminB);
        Exchange x = Run(second, adminB.NewSession());
        Assert.Equal(JoinStatus.TokenUsed, x.Response!.Status);
        Assert.Empty(adminB.Decided);

        // An admin with its own keys cannot even read a Hello meant for A: it answers nothing.
        var adminC = new Inviter();
        adminC.Store.Add(token);
        using JoinInitiator third = Joiner(token, adminA);
        JoinStepResult r = adminC.NewSession().Receive(third.Start());
        Assert.Equal(JoinStep.Failed, r.Step);
        Assert.Null(r.Message);
    }

    [Fact]
    public void A_refusal_by_the_admin_keeps_the_token_usable()
    {
        var inviter = new Inviter();
        JoinToken token = inviter.Invite();
        inviter.Decide = request => request.RequestedName == "laptop"
            ? JoinDecision.Refuse(JoinStatus.NameTaken, "laptop is 100.96.0.5")
            : JoinDecision.Accept([1, 2, 3], [4]);

        using JoinInitiator taken = Joiner(token, inviter, name: "laptop");
        Exchange x = Run(taken, inviter.NewSession());
        Assert.Equal(JoinStatus.NameTaken, x.Response!.Status);
        Assert.Equal("laptop is 100.96.0.5", x.Response.Reason);
        Assert.Contains("(laptop is 100.96.0.5) — choose another", JoinStatusText.Describe(x.Response.Status, x.Response.Reason), StringComparison.Ordinal);
        Assert.Null(x.Responder[^1].UsedRecord);
        Assert.Equal(InvitationStatus.Pending, StatusOf(inviter.Store, token.Id));

        using JoinInitiator renamed = Joiner(token, inviter, name: "laptop-2");
        Assert.Equal(JoinStatus.Accepted, Run(renamed, inviter.NewSession()).Response!.Status);
    }

    [Fact]
    public void A_joiner_that_cannot_sign_for_its_claimed_identity_is_refused()
    {
        var inviter = new Inviter();
        JoinToken token = inviter.Invite();

        // Seed of one key pair, public half of another: the request names a key the signer does not hold.
        var mine = new NodeKeys();
        var victim = new NodeKeys();
        byte[] mixed = [.. mine.IdentitySecret.AsSpan(0, 32), .. victim.IdentityPublic];
        using var joiner = new JoinInitiator(token, inviter.Keys.StaticPublic, mixed, "victim");
        Exchange x = Run(joiner, inviter.NewSession());

        Assert.Equal(JoinStatus.Refused, x.Response!.Status);
        Assert.Contains("identity proof does not verify", x.Response.Reason, StringComparison.Ordinal);
        Assert.Empty(inviter.Decided);
        Assert.Equal(InvitationStatus.Pending, StatusOf(inviter.Store, token.Id));
    }

    [Fact]
    public void A_failing_certificate_issuer_releases_the_token()
    {
        var inviter = new Inviter();
        JoinToken token = inviter.Invite();
        inviter.Decide = _ => throw new InvalidOperationException("disk full");
        using JoinInitiator joiner = Joiner(token, inviter);
        using JoinResponder session = inviter.NewSession();
        byte[] request = joiner.Receive(session.Receive(joiner.Start()).Message!).Message!;

        Assert.Throws<InvalidOperationException>(() => session.Receive(request));
        Assert.Equal(InvitationStatus.Pending, StatusOf(inviter.Store, token.Id));
    }

    [Fact]
    public void Stray_and_duplicate_messages_do_not_end_a_join()
    {
        var inviter = new Inviter();
        JoinToken token = inviter.Invite();
        using JoinInitiator joiner = Joiner(token, inviter);
        using JoinResponder session = inviter.NewSession();
        byte[] hello = joiner.Start();
        byte[] challenge = session.Receive(hello).Message!;

        // A lost challenge: the joiner retransmits its Hello and gets the same challenge back.
        JoinStepResult again = session.Receive(hello);
        Assert.Equal(JoinStep.Retransmit, again.Step);
        Assert.Equal(challenge, again.Message);

        // Another session's challenge and garbage are ignored; the right one still works.
        var other = new byte[challenge.Length];
        challenge.CopyTo(other, 0);
        other[7] ^= 1;
        Assert.Equal(JoinStep.Ignored, joiner.Receive(other).Step);
        Assert.Equal(JoinStep.Ignored, joiner.Receive([1, 0, 0, 0, 5, 6, 7, 8]).Step);
        JoinStepResult request = joiner.Receive(challenge);
        Assert.Equal(JoinStep.Send, request.Step);
        Assert.Equal(JoinStep.Ignored, joiner.Receive(challenge).Step); // duplicate challenge
        Assert.Same(request.Message, joiner.LastSent);
        Assert.Equal(JoinStatus.Accepted, joiner.Receive(session.Receive(request.Message!).Message!).Response!.Status);
    }

    [Fact]
    public void Neither_side_throws_on_random_input()
    {
        var inviter = new Inviter();
        JoinToken token = inviter.Invite();
        Gen<byte[]> noise =
            from type in Gen.Choose(0, 6)
            from length in Gen.Choose(0, 300)
            from bytes in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), length)
            select type == 0 || bytes.Length < 8 ? bytes : WithHeader(bytes, (JoinMessageType)type);

        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(Arb.From(noise), (byte[] message) =>
        {
            using JoinResponder fresh = inviter.NewSession();
            _ = fresh.Receive(message);

            using JoinInitiator joiner = new(token, inviter.Keys.StaticPublic, new NodeKeys().IdentitySecret, null, sessionId: 7);
            using JoinResponder session = inviter.NewSession();
            byte[] challenge = session.Receive(joiner.Start()).Message!;
            _ = joiner.Receive(message);
            _ = session.Receive(message);
            if (!joiner.IsOver)
            {
                JoinStepResult step = joiner.Receive(challenge);
                if (step.Step == JoinStep.Send)
                {
                    _ = joiner.Receive(message);
                }
            }
        }));
        Assert.Empty(inviter.Decided);
    }

    private static byte[] WithHeader(byte[] bytes, JoinMessageType type)
    {
        JoinMessages.WriteHeader(bytes, type, 7);
        return bytes;
    }
}
