using MeshAgent.Core.Net;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Relay;
using MeshAgent.Relay;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeshAgent.Tests.Relay;

/// <summary>
/// Relay authentication in process (DESIGN §3: certificates, expiry, revocation), with real keys and real
/// signatures: the hub against hand-made frames where a test needs a frame no honest client sends, and against the
/// real <see cref="RelayClient"/> otherwise.
/// </summary>
public sealed class RelayHubAuthTests
{
    private static readonly UdpEndpoint Here = InProcessRelay.Endpoint(40000);
    private static readonly UdpEndpoint Elsewhere = InProcessRelay.Endpoint(40001);

    [Fact]
    public void A_member_with_a_valid_certificate_gets_a_session()
    {
        using NetworkRootKey root = RelayFixtures.Root();
        using var relay = new InProcessRelay(roots: root.PublicKey);
        using NodeIdentity node = RelayFixtures.Node(1);
        RelayClient client = relay.AddClient(node, RelayFixtures.Certificate(root, node), Here);

        client.Start();
        relay.Pump();

        Assert.Equal(RelayClientState.Connected, client.State);
        Assert.NotEqual(0UL, client.SessionToken);
        Assert.Equal(relay.RelayIdentity.PublicKey, client.RelayKey);
        Assert.True(relay.Hub.HasSession(node.PublicKey));
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.AuthsAccepted]);
        Assert.Null(client.LastRefusal);
        Assert.Equal(TimeSpan.Zero, client.RelayClockOffset);
    }

    [Theory]
    [InlineData("wrong-root", RelayRefusal.NotMember)]
    [InlineData("expired", RelayRefusal.Expired)]
    [InlineData("not-yet-valid", RelayRefusal.NotYetValid)]
    [InlineData("revoked", RelayRefusal.Revoked)]
    public void Certificates_the_relay_must_not_accept_are_refused_with_the_reason(string problem, RelayRefusal expected)
    {
        using NetworkRootKey root = RelayFixtures.Root(1);
        using NetworkRootKey otherRoot = RelayFixtures.Root(2);
        using var relay = new InProcessRelay(roots: root.PublicKey);
        using NodeIdentity node = RelayFixtures.Node(1);
        DateTimeOffset now = RelayFixtures.Now;
        MembershipCertificate certificate = problem switch
        {
            "wrong-root" => RelayFixtures.Certificate(otherRoot, node),
            "expired" => RelayFixtures.Certificate(root, node, now.AddDays(-30), now.AddSeconds(-1)),
            "not-yet-valid" => RelayFixtures.Certificate(root, node, now.AddHours(1), now.AddDays(30)),
            _ => RelayFixtures.Certificate(root, node),
        };
        if (problem == "revoked")
        {
            Revocation revocation = Revocation.Issue(root, node.PublicKey, now.AddMinutes(-1), "laptop stolen");
            Assert.Equal(RevocationAddResult.Added, relay.Revocations.TryAdd(revocation.EncodedSpan, out _));
        }

        RelayClient client = relay.AddClient(node, certificate, Here);
        client.Start();
        relay.Pump();

        Assert.Equal(RelayClientState.Refused, client.State);
        Assert.Equal(expected, client.LastRefusal);
        Assert.False(relay.Hub.HasSession(node.PublicKey));
        Assert.Equal(0, relay.Hub.Counters[RelayCounter.AuthsAccepted]);
        Assert.False(client.Send(node.PublicKey, [1, 2, 3]));
        Assert.Equal(1, client.Counters.NotConnected);
    }

    [Fact]
    public void A_bad_signature_or_a_certificate_for_another_key_is_refused()
    {
        using NetworkRootKey root = RelayFixtures.Root();
        using var relay = new InProcessRelay(roots: root.PublicKey);
        using NodeIdentity node = RelayFixtures.Node(1);
        using NodeIdentity impostor = RelayFixtures.Node(2);
        MembershipCertificate certificate = RelayFixtures.Certificate(root, node);

        // The impostor presents node's (public) certificate but can only sign with its own key.
        ChallengeFrame challenge = Hello(relay, node.PublicKey, Here);
        Assert.Equal(RelayRefusal.BadSignature, Refusal(relay.Inject(Auth(impostor, node.PublicKey, certificate, challenge), Here)));

        // A signature whose bits were flipped.
        byte[] honest = Auth(node, node.PublicKey, certificate, challenge);
        honest[AuthFrame.FixedLength - 2 - 10] ^= 0x01;
        Assert.Equal(RelayRefusal.BadSignature, Refusal(relay.Inject(honest, Here)));

        // The impostor's own key with node's certificate.
        ChallengeFrame second = Hello(relay, impostor.PublicKey, Here);
        Assert.Equal(RelayRefusal.BadCertificate, Refusal(relay.Inject(Auth(impostor, impostor.PublicKey, certificate, second), Here)));

        // A certificate whose root signature was altered.
        byte[] altered = certificate.Encode();
        altered[^1] ^= 0x40;
        ChallengeFrame third = Hello(relay, node.PublicKey, Here);
        Assert.Equal(RelayRefusal.BadCertificate, Refusal(relay.Inject(AuthRaw(node, node.PublicKey, altered, third), Here)));

        Assert.False(relay.Hub.HasSession(node.PublicKey));
        Assert.False(relay.Hub.HasSession(impostor.PublicKey));
        Assert.Equal(2, relay.Hub.Counters[RelayCounter.RefusedBadSignature]);
        Assert.Equal(2, relay.Hub.Counters[RelayCounter.RefusedBadCertificate]);
    }

    [Fact]
    public void A_replayed_Auth_gets_the_same_Welcome_while_fresh_and_is_refused_once_its_nonce_is_old()
    {
        using NetworkRootKey root = RelayFixtures.Root();
        using var relay = new InProcessRelay(roots: root.PublicKey);
        using NodeIdentity node = RelayFixtures.Node(1);
        ChallengeFrame challenge = Hello(relay, node.PublicKey, Here);
        byte[] auth = Auth(node, node.PublicKey, RelayFixtures.Certificate(root, node), challenge);

        WelcomeFrame first = Welcome(relay.Inject(auth, Here));
        WelcomeFrame again = Welcome(relay.Inject(auth, Here));
        Assert.Equal(first.Token, again.Token); // a lost Welcome is repeated, not a second session
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.AuthsAccepted]);
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.WelcomesResent]);

        // The nonce is bound to the endpoint that received the challenge.
        Assert.Equal(RelayRefusal.StaleChallenge, Refusal(relay.Inject(auth, Elsewhere)));

        // Past the challenge lifetime the same bytes are worthless.
        relay.Time.Advance(relay.Options.ChallengeLifetime + TimeSpan.FromSeconds(1));
        Assert.Equal(RelayRefusal.StaleChallenge, Refusal(relay.Inject(auth, Here)));
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.AuthsAccepted]);

        // A nonce made up by the client (or issued by a previous relay process) is unknown.
        byte[] forged = Auth(node, node.PublicKey, RelayFixtures.Certificate(root, node),
            new ChallengeFrame(relay.RelayIdentity.PublicKey, new RelayNonce(new byte[32]), 0));
        Assert.Equal(RelayRefusal.StaleChallenge, Refusal(relay.Inject(forged, Here)));
    }

    [Fact]
    public void An_Auth_on_an_older_challenge_cannot_replace_a_newer_session()
    {
        using NetworkRootKey root = RelayFixtures.Root();
        using var relay = new InProcessRelay(roots: root.PublicKey);
        using NodeIdentity node = RelayFixtures.Node(1);
        MembershipCertificate certificate = RelayFixtures.Certificate(root, node);
        ChallengeFrame older = Hello(relay, node.PublicKey, Here);
        relay.Time.Advance(TimeSpan.FromSeconds(1));
        ChallengeFrame newer = Hello(relay, node.PublicKey, Here);

        WelcomeFrame session = Welcome(relay.Inject(Auth(node, node.PublicKey, certificate, newer), Here));
        Assert.Equal(RelayRefusal.StaleChallenge, Refusal(relay.Inject(Auth(node, node.PublicKey, certificate, older), Here)));

        // The newer session still works.
        (RelayActionKind kind, byte[] ack, _) = relay.Inject(KeepaliveBytes(session.Token), Here);
        Assert.Equal(RelayActionKind.Reply, kind);
        Assert.Equal((byte)RelayFrameType.KeepaliveAck, ack[3]);
    }

    [Fact]
    public void A_pushed_revocation_drops_the_live_session_is_kept_on_disk_and_refuses_the_next_Auth()
    {
        using NetworkRootKey root = RelayFixtures.Root();
        using NetworkRootKey otherRoot = RelayFixtures.Root(2);
        using var relay = new InProcessRelay(roots: root.PublicKey);
        using NodeIdentity alice = RelayFixtures.Node(1);
        using NodeIdentity mallory = RelayFixtures.Node(2);
        RelayClient a = relay.AddClient(alice, RelayFixtures.Certificate(root, alice), Here);
        RelayClient m = relay.AddClient(mallory, RelayFixtures.Certificate(root, mallory), Elsewhere);
        a.Start();
        m.Start();
        relay.Pump();
        Assert.Equal(RelayClientState.Connected, m.State);

        // A revocation signed by another network's root is not this network's business.
        Assert.True(a.PushRevocation(Revocation.Issue(otherRoot, mallory.PublicKey, RelayFixtures.Now, "not yours")));
        relay.Pump();
        Assert.True(relay.Hub.HasSession(mallory.PublicKey));
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.DropRevocationForeign]);

        Revocation revocation = Revocation.Issue(root, mallory.PublicKey, RelayFixtures.Now, "key leaked");
        Assert.True(a.PushRevocation(revocation));
        relay.Pump();
        Assert.False(relay.Hub.HasSession(mallory.PublicKey));
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.SessionsRevoked]);
        Assert.True(relay.Hub.HasSession(alice.PublicKey));

        // Pushing it again is harmless (members re-push what they gossip).
        Assert.True(a.PushRevocation(revocation));
        relay.Pump();
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.RevocationsAdded]);
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.RevocationsKnown]);

        // Mallory learns at its next keepalive and cannot come back.
        relay.Run(TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(1));
        Assert.Equal(RelayClientState.Refused, m.State);
        Assert.Equal(RelayRefusal.Revoked, m.LastRefusal);
        Assert.Equal(RelayClientState.Connected, a.State);

        // The revocation survives a relay restart.
        var reloaded = new RevocationStore(Path.Combine(relay.StateDirectory, RevocationStore.FileName), [root.PublicKey]);
        Assert.Empty(reloaded.Load());
        Assert.True(reloaded.IsRevoked(root.PublicKey, mallory.PublicKey));
        Assert.False(reloaded.IsRevoked(root.PublicKey, alice.PublicKey));
    }

    [Fact]
    public void A_damaged_revocations_file_line_is_skipped_and_reported_and_other_networks_lines_are_kept()
    {
        using NetworkRootKey root = RelayFixtures.Root(1);
        using NetworkRootKey otherRoot = RelayFixtures.Root(2);
        using var state = new TempDirectory();
        string path = Path.Combine(state.Path, RevocationStore.FileName);
        Revocation ours = Revocation.Issue(root, RelayFixtures.Node(1).PublicKey, RelayFixtures.Now, "a");
        Revocation theirs = Revocation.Issue(otherRoot, RelayFixtures.Node(2).PublicKey, RelayFixtures.Now, "b");
        byte[] forged = ours.Encode();
        forged[^1] ^= 1;
        File.WriteAllLines(path, ["# comment", Convert.ToBase64String(ours.EncodedSpan), "not base64!", Convert.ToBase64String(forged), Convert.ToBase64String(theirs.EncodedSpan)]);

        var store = new RevocationStore(path, [root.PublicKey]);
        IReadOnlyList<string> problems = store.Load();
        Assert.Equal(2, problems.Count);
        Assert.Contains(":3:", problems[0], StringComparison.Ordinal);
        Assert.Contains(":4:", problems[1], StringComparison.Ordinal);
        Assert.Equal(1, store.Count);

        // Saving (on a new revocation) keeps the other network's line for a later --accept-root.
        Revocation another = Revocation.Issue(root, RelayFixtures.Node(3).PublicKey, RelayFixtures.Now, "c");
        Assert.Equal(RevocationAddResult.Added, store.TryAdd(another.EncodedSpan, out _));
        var later = new RevocationStore(path, [root.PublicKey, otherRoot.PublicKey]);
        Assert.Empty(later.Load());
        Assert.True(later.IsRevoked(otherRoot.PublicKey, RelayFixtures.Node(2).PublicKey));
        Assert.Equal(3, later.Count);
    }

    [Fact]
    public void The_relay_refuses_new_clients_beyond_max_clients_but_lets_a_member_reauthenticate()
    {
        using NetworkRootKey root = RelayFixtures.Root();
        using var relay = new InProcessRelay(new RelayOptions { AcceptedRoots = [root.PublicKey], MaxClients = 3 });
        var identities = Enumerable.Range(1, 4).Select(RelayFixtures.Node).ToList();
        var clients = identities.Select((id, i) => relay.AddClient(id, RelayFixtures.Certificate(root, id), InProcessRelay.Endpoint(41000 + i, $"203.0.113.{10 + i}"))).ToList();
        foreach (RelayClient client in clients)
        {
            client.Start();
            relay.Pump();
        }

        Assert.Equal([RelayClientState.Connected, RelayClientState.Connected, RelayClientState.Connected, RelayClientState.Refused], clients.Select(c => c.State));
        Assert.Equal(RelayRefusal.ServerFull, clients[3].LastRefusal);
        Assert.Equal(3, relay.Hub.SessionCount);

        // Re-authentication replaces the member's own session instead of needing a free slot.
        ulong before = clients[0].SessionToken;
        clients[0].Start();
        relay.Pump();
        Assert.Equal(RelayClientState.Connected, clients[0].State);
        Assert.NotEqual(before, clients[0].SessionToken);
        Assert.Equal(3, relay.Hub.SessionCount);
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.SessionsReplaced]);
        identities.ForEach(i => i.Dispose());
    }

    [Fact]
    public void Hello_and_Auth_are_rate_limited_per_source_address()
    {
        using NetworkRootKey root = RelayFixtures.Root();
        using var relay = new InProcessRelay(roots: root.PublicKey);
        using NodeIdentity node = RelayFixtures.Node(1);
        byte[] hello = new byte[ClientHelloFrame.Length];
        new ClientHelloFrame(node.PublicKey).Write(hello);

        // Same address, any port: one bucket (WireGuard's 20/s with bursts of 5).
        int answered = Enumerable.Range(0, 20).Count(i => relay.Inject(hello, InProcessRelay.Endpoint(42000 + i)).Kind == RelayActionKind.Reply);
        Assert.Equal(TokenBucketRateLimiterBurst, answered);
        Assert.Equal(20 - TokenBucketRateLimiterBurst, relay.Hub.Counters[RelayCounter.DropHandshakeRateLimited]);

        // Another address is not affected; time refills the bucket.
        Assert.Equal(RelayActionKind.Reply, relay.Inject(hello, InProcessRelay.Endpoint(42000, "203.0.113.8")).Kind);
        relay.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(RelayActionKind.Reply, relay.Inject(hello, InProcessRelay.Endpoint(42000)).Kind);
    }

    [Fact]
    public void Frames_a_client_never_sends_and_malformed_frames_are_counted_drops()
    {
        using NetworkRootKey root = RelayFixtures.Root();
        using var relay = new InProcessRelay(roots: root.PublicKey);
        byte[] welcome = new byte[WelcomeFrame.Length];
        new WelcomeFrame(new RelayNonce(new byte[32]), 1, 25, 60).Write(welcome);
        Assert.Equal(RelayActionKind.None, relay.Inject(welcome, Here).Kind);
        Assert.Equal(1, relay.Hub.Counters[RelayCounter.DropUnexpectedType]);

        Assert.Equal(RelayActionKind.None, relay.Inject([(byte)'m', (byte)'r', 9, 1, 0, 0], Here).Kind);
        Assert.Equal(RelayActionKind.None, relay.Inject([(byte)'m', (byte)'r', 1, (byte)RelayFrameType.Send, 0, 0], Here).Kind);
        Assert.Equal(RelayActionKind.None, relay.Inject([(byte)'m', (byte)'r', 1, (byte)RelayFrameType.Auth, 0, 0], Here).Kind);
        Assert.Equal(3, relay.Hub.Counters[RelayCounter.DropMalformed]);
    }

    private const int TokenBucketRateLimiterBurst = Core.WireGuard.TokenBucketRateLimiter.PacketsBurstable;

    /// <summary>Sends ClientHello and returns the Challenge. Lets a second pass first, so the per-source handshake bucket is full.</summary>
    internal static ChallengeFrame Hello(InProcessRelay relay, NodePublicKey key, UdpEndpoint from)
    {
        relay.Time.Advance(TimeSpan.FromSeconds(1));
        byte[] hello = new byte[ClientHelloFrame.Length];
        new ClientHelloFrame(key).Write(hello);
        (RelayActionKind kind, byte[] frame, _) = relay.Inject(hello, from);
        Assert.Equal(RelayActionKind.Reply, kind);
        Assert.True(ChallengeFrame.TryRead(frame, out ChallengeFrame challenge));
        Assert.Equal(relay.RelayIdentity.PublicKey, challenge.RelayKey);
        return challenge;
    }

    internal static byte[] Auth(NodeIdentity signer, NodePublicKey claimed, MembershipCertificate certificate, ChallengeFrame challenge) =>
        AuthRaw(signer, claimed, certificate.Encode(), challenge);

    internal static byte[] AuthRaw(NodeIdentity signer, NodePublicKey claimed, byte[] certificate, ChallengeFrame challenge)
    {
        byte[] body = new byte[RelayProtocol.AuthSignedLength];
        RelayProtocol.WriteAuthSignedBody(challenge.RelayKey, challenge.Nonce, claimed, body);
        byte[] signature = new byte[AuthFrame.SignatureLength];
        signer.Sign(RelayProtocol.AuthContext, body, signature);
        byte[] frame = new byte[AuthFrame.LengthFor(certificate.Length)];
        new AuthFrame(claimed, challenge.Nonce, signature, certificate).Write(frame);
        return frame;
    }

    internal static byte[] KeepaliveBytes(ulong token)
    {
        byte[] frame = new byte[TokenFrame.Length];
        TokenFrame.Write(frame, RelayFrameType.Keepalive, token);
        return frame;
    }

    private static RelayRefusal Refusal((RelayActionKind Kind, byte[] Frame, RelayLink Destination) result)
    {
        Assert.Equal(RelayActionKind.Reply, result.Kind);
        Assert.True(RefusedFrame.TryRead(result.Frame, out RefusedFrame refused), $"expected Refused, got type {result.Frame[3]}");
        return refused.Reason;
    }

    private static WelcomeFrame Welcome((RelayActionKind Kind, byte[] Frame, RelayLink Destination) result)
    {
        Assert.Equal(RelayActionKind.Reply, result.Kind);
        Assert.True(WelcomeFrame.TryRead(result.Frame, out WelcomeFrame welcome), $"expected Welcome, got type {result.Frame[3]}");
        return welcome;
    }
}
