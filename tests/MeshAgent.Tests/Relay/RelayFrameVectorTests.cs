using System.Buffers.Binary;
using System.Globalization;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using MeshAgent.Tests.Support;
using MeshAgent.Tests.Trust;

namespace MeshAgent.Tests.Relay;

/// <summary>
/// The relay codec against frames.txt, produced by an independent Python model of the documented layout
/// (Vectors/Relay/README.md): every writer must produce the vector's bytes from its fields, and every reader must
/// get the fields back from the bytes.
/// </summary>
public sealed class RelayFrameVectorTests
{
    private static readonly IReadOnlyList<VectorCase> Cases = VectorFile.Load("Relay", "frames.txt");

    [Fact]
    public void The_vector_file_covers_every_frame_type_and_the_auth_proof()
    {
        var names = Cases.Select(c => c.Text("frame")).ToHashSet();
        foreach (RelayFrameType type in Enum.GetValues<RelayFrameType>())
        {
            Assert.Contains(type.ToString(), names);
        }

        Assert.Contains("AuthProof", names);
    }

    [Fact]
    public void Writers_produce_the_vector_bytes_and_readers_recover_the_fields()
    {
        foreach (VectorCase v in Cases.Where(c => c.Text("frame") != "AuthProof"))
        {
            byte[] expected = v.Hex("bytes");
            byte[] buffer = new byte[expected.Length + 16];
            Array.Fill(buffer, (byte)0xEE);
            int written = Write(v, buffer);
            Assert.True(expected.AsSpan().SequenceEqual(buffer.AsSpan(0, written)), $"{v}: written bytes differ from the vector");
            Assert.All(buffer[written..], b => Assert.Equal(0xEE, b));

            Assert.True(RelayProtocol.LooksLikeRelayFrame(expected), v.ToString());
            Assert.True(RelayProtocol.TryReadHeader(expected, out RelayFrameType type), v.ToString());
            Assert.Equal(v.Text("frame"), type.ToString());
            CheckRead(v, expected);
        }
    }

    [Fact]
    public void Auth_proof_signs_the_documented_bytes_and_matches_the_model_signature()
    {
        VectorCase v = Cases.Single(c => c.Text("frame") == "AuthProof");
        using NodeIdentity client = NodeIdentity.FromSeed(v.Hex("client-seed"));
        Assert.Equal(v.Hex("client"), client.PublicKey.AsSpan().ToArray());
        using NodeIdentity relayIdentity = TrustFixtures.Node(50);
        var relay = new NodePublicKey(v.Hex("relay"));
        Assert.Equal(relayIdentity.PublicKey, relay);
        var nonce = new RelayNonce(v.Hex("nonce"));

        byte[] body = new byte[RelayProtocol.AuthSignedLength];
        RelayProtocol.WriteAuthSignedBody(relay, nonce, client.PublicKey, body);
        byte[] signed = [.. System.Text.Encoding.ASCII.GetBytes(RelayProtocol.AuthContext), 0, .. body];
        Assert.Equal(v.Hex("signed"), signed);

        byte[] signature = new byte[AuthFrame.SignatureLength];
        RelayProtocol.SignAuth(client, relay, nonce, signature);
        Assert.Equal(v.Hex("signature"), signature); // Ed25519 is deterministic
        Assert.True(RelayProtocol.VerifyAuth(client.PublicKey, relay, nonce, signature));

        // Bound to every part: another relay, nonce or client key, or a flipped bit, fails.
        Assert.False(RelayProtocol.VerifyAuth(client.PublicKey, client.PublicKey, nonce, signature));
        byte[] otherNonce = v.Hex("nonce");
        otherNonce[0] ^= 1;
        Assert.False(RelayProtocol.VerifyAuth(client.PublicKey, relay, new RelayNonce(otherNonce), signature));
        Assert.False(RelayProtocol.VerifyAuth(relay, relay, nonce, signature));
        signature[10] ^= 0x20;
        Assert.False(RelayProtocol.VerifyAuth(client.PublicKey, relay, nonce, signature));
        Assert.False(RelayProtocol.VerifyAuth(client.PublicKey, relay, nonce, signature.AsSpan(0, 63)));
    }

    private static int Write(VectorCase v, Span<byte> buffer) => v.Text("frame") switch
    {
        "ClientHello" => new ClientHelloFrame(Key(v, "client")).Write(buffer),
        "Challenge" => new ChallengeFrame(Key(v, "relay"), Nonce(v), long.Parse(v.Text("time"), CultureInfo.InvariantCulture)).Write(buffer),
        "Auth" => new AuthFrame(Key(v, "client"), Nonce(v), v.Hex("signature"), v.Hex("certificate")).Write(buffer),
        "Welcome" => new WelcomeFrame(Nonce(v), Token(v), ushort.Parse(v.Text("keepalive"), CultureInfo.InvariantCulture), ushort.Parse(v.Text("idle"), CultureInfo.InvariantCulture)).Write(buffer),
        "Refused" => new RefusedFrame(Nonce(v), (RelayRefusal)v.Int("reason")).Write(buffer),
        "Send" => new SendFrame(Token(v), Key(v, "peer"), v.Hex("payload")).Write(buffer),
        "Recv" => new RecvFrame(Key(v, "peer"), v.Hex("payload")).Write(buffer),
        "Keepalive" => TokenFrame.Write(buffer, RelayFrameType.Keepalive, Token(v)),
        "KeepaliveAck" => TokenFrame.Write(buffer, RelayFrameType.KeepaliveAck, Token(v)),
        "SessionUnknown" => TokenFrame.Write(buffer, RelayFrameType.SessionUnknown, Token(v)),
        "UnknownPeer" => new UnknownPeerFrame(Token(v), Key(v, "peer")).Write(buffer),
        "RevocationPush" => new RevocationPushFrame(Token(v), v.Hex("revocation")).Write(buffer),
        "JoinSend" => new JoinSendFrame(Network(v), Key(v, "peer"), v.Hex("message")).Write(buffer),
        "JoinRecv" => new JoinRecvFrame(Channel(v), v.Hex("message")).Write(buffer),
        "JoinReply" => new JoinReplyFrame(Token(v), Channel(v), v.Hex("message")).Write(buffer),
        "JoinDeliver" => new JoinDeliverFrame(v.Hex("message")).Write(buffer),
        "JoinUnreachable" => new JoinUnreachableFrame(Network(v), Key(v, "peer")).Write(buffer),
        string other => throw new InvalidOperationException($"{v}: unknown frame {other}"),
    };

    private static void CheckRead(VectorCase v, ReadOnlySpan<byte> bytes)
    {
        switch (v.Text("frame"))
        {
            case "ClientHello":
                Assert.True(ClientHelloFrame.TryRead(bytes, out ClientHelloFrame hello));
                Assert.Equal(Key(v, "client"), hello.ClientKey);
                break;
            case "Challenge":
                Assert.True(ChallengeFrame.TryRead(bytes, out ChallengeFrame challenge));
                Assert.Equal(Key(v, "relay"), challenge.RelayKey);
                Assert.Equal(Nonce(v), challenge.Nonce);
                Assert.Equal(long.Parse(v.Text("time"), CultureInfo.InvariantCulture), challenge.RelayTimeMilliseconds);
                break;
            case "Auth":
                Assert.True(AuthFrame.TryRead(bytes, out AuthFrame auth));
                Assert.Equal(Key(v, "client"), auth.ClientKey);
                Assert.Equal(Nonce(v), auth.Nonce);
                Assert.Equal(v.Hex("signature"), auth.Signature.ToArray());
                Assert.Equal(v.Hex("certificate"), auth.Certificate.ToArray());
                break;
            case "Welcome":
                Assert.True(WelcomeFrame.TryRead(bytes, out WelcomeFrame welcome));
                Assert.Equal(Nonce(v), welcome.Nonce);
                Assert.Equal(Token(v), welcome.Token);
                Assert.Equal(v.Int("keepalive"), welcome.KeepaliveSeconds);
                Assert.Equal(v.Int("idle"), welcome.IdleTimeoutSeconds);
                break;
            case "Refused":
                Assert.True(RefusedFrame.TryRead(bytes, out RefusedFrame refused));
                Assert.Equal(Nonce(v), refused.Nonce);
                Assert.Equal(v.Int("reason"), (int)refused.Reason);
                break;
            case "Send":
                Assert.True(SendFrame.TryRead(bytes, out SendFrame send));
                Assert.Equal(Token(v), send.Token);
                Assert.Equal(Key(v, "peer"), send.Destination);
                Assert.Equal(v.Hex("payload"), send.Payload.ToArray());
                break;
            case "Recv":
                Assert.True(RecvFrame.TryRead(bytes, out RecvFrame recv));
                Assert.Equal(Key(v, "peer"), recv.Source);
                Assert.Equal(v.Hex("payload"), recv.Payload.ToArray());
                break;
            case "Keepalive" or "KeepaliveAck" or "SessionUnknown":
                Assert.True(TokenFrame.TryRead(bytes, Enum.Parse<RelayFrameType>(v.Text("frame")), out ulong token));
                Assert.Equal(Token(v), token);
                break;
            case "UnknownPeer":
                Assert.True(UnknownPeerFrame.TryRead(bytes, out UnknownPeerFrame notice));
                Assert.Equal(Token(v), notice.Token);
                Assert.Equal(Key(v, "peer"), notice.Destination);
                break;
            case "RevocationPush":
                Assert.True(RevocationPushFrame.TryRead(bytes, out RevocationPushFrame push));
                Assert.Equal(Token(v), push.Token);
                Assert.Equal(v.Hex("revocation"), push.Revocation.ToArray());
                break;
            case "JoinSend":
                Assert.True(JoinSendFrame.TryRead(bytes, out JoinSendFrame joinSend));
                Assert.Equal(Network(v), joinSend.Network);
                Assert.Equal(Key(v, "peer"), joinSend.Inviter);
                Assert.Equal(v.Hex("message"), joinSend.Message.ToArray());
                break;
            case "JoinRecv":
                Assert.True(JoinRecvFrame.TryRead(bytes, out JoinRecvFrame joinRecv));
                Assert.Equal(Channel(v), joinRecv.Channel);
                Assert.Equal(v.Hex("message"), joinRecv.Message.ToArray());
                break;
            case "JoinReply":
                Assert.True(JoinReplyFrame.TryRead(bytes, out JoinReplyFrame joinReply));
                Assert.Equal((Token(v), Channel(v)), (joinReply.Token, joinReply.Channel));
                Assert.Equal(v.Hex("message"), joinReply.Message.ToArray());
                break;
            case "JoinDeliver":
                Assert.True(JoinDeliverFrame.TryRead(bytes, out JoinDeliverFrame joinDeliver));
                Assert.Equal(v.Hex("message"), joinDeliver.Message.ToArray());
                break;
            case "JoinUnreachable":
                Assert.True(JoinUnreachableFrame.TryRead(bytes, out JoinUnreachableFrame unreachable));
                Assert.Equal((Network(v), Key(v, "peer")), (unreachable.Network, unreachable.Inviter));
                break;
        }
    }

    private static NodePublicKey Key(VectorCase v, string name) => new(v.Hex(name));

    private static NetworkRootPublicKey Network(VectorCase v) => new(v.Hex("network"));

    private static ulong Channel(VectorCase v) => BinaryPrimitives.ReadUInt64BigEndian(v.Hex("channel"));

    private static RelayNonce Nonce(VectorCase v) => new(v.Hex("nonce"));

    private static ulong Token(VectorCase v) => BinaryPrimitives.ReadUInt64BigEndian(v.Hex("token"));
}
