using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Relay;
using MeshAgent.Core.Trust;
using static MeshAgent.Tests.WireGuard.WireGuardGens;

namespace MeshAgent.Tests.Relay;

/// <summary>
/// Round trips for every relay frame (STYLE rule 9), the in-place Send → Recv rewrite against the plain writer, and
/// the never-throws rule (STYLE rule 7) on random and mutated input for every reader.
/// </summary>
public sealed class RelayFramePropertyTests
{
    private static readonly Gen<NodePublicKey> AnyKey = Bytes(32).Select(b => new NodePublicKey(b));

    private static readonly Gen<RelayNonce> AnyNonce = Bytes(32).Select(b => new RelayNonce(b));

    private static readonly Gen<byte[]> AnyPayload =
        from length in Gen.Frequency((3, Gen.Choose(0, 200)), (1, Gen.Choose(1400, 1600)), (1, Gen.Choose(60_000, RelayProtocol.MaxPayloadLength)))
        from bytes in Bytes(length)
        select bytes;

    [Fact]
    public void Handshake_frames_round_trip()
    {
        Check.One(PropertyConfig(300), Prop.ForAll(Arb.From(
            from client in AnyKey
            from relay in AnyKey
            from nonce in AnyNonce
            from time in AnyUInt64
            from token in AnyUInt64
            from keepalive in Gen.Choose(1, ushort.MaxValue)
            from idle in Gen.Choose(1, ushort.MaxValue)
            from reason in Gen.Choose(1, 8)
            from signature in Bytes(64)
            from certLength in Gen.Choose(1, 3000)
            from certificate in Bytes(certLength)
            select (client, relay, nonce, (long)time, token == 0 ? 1UL : token, (ushort)keepalive, (ushort)idle, (RelayRefusal)reason, signature, certificate)),
            t =>
            {
                (NodePublicKey client, NodePublicKey relay, RelayNonce nonce, long time, ulong token, ushort keepalive, ushort idle, RelayRefusal reason, byte[] signature, byte[] certificate) = t;
                byte[] buffer = new byte[RelayProtocol.MaxFrameLength];

                int n = new ClientHelloFrame(client).Write(buffer);
                Assert.Equal(ClientHelloFrame.Length, n);
                Assert.True(ClientHelloFrame.TryRead(buffer.AsSpan(0, n), out ClientHelloFrame hello));
                Assert.Equal(client, hello.ClientKey);

                n = new ChallengeFrame(relay, nonce, time).Write(buffer);
                Assert.True(n < ClientHelloFrame.Length, "a Challenge must be shorter than the Hello that asks for it (no amplification)");
                Assert.True(ChallengeFrame.TryRead(buffer.AsSpan(0, n), out ChallengeFrame challenge));
                Assert.Equal((relay, nonce, time), (challenge.RelayKey, challenge.Nonce, challenge.RelayTimeMilliseconds));

                n = new AuthFrame(client, nonce, signature, certificate).Write(buffer);
                Assert.Equal(AuthFrame.LengthFor(certificate.Length), n);
                Assert.True(AuthFrame.TryRead(buffer.AsSpan(0, n), out AuthFrame auth));
                Assert.Equal(client, auth.ClientKey);
                Assert.Equal(nonce, auth.Nonce);
                Assert.Equal(signature, auth.Signature.ToArray());
                Assert.Equal(certificate, auth.Certificate.ToArray());
                Assert.False(AuthFrame.TryRead(buffer.AsSpan(0, n - 1), out _));

                n = new WelcomeFrame(nonce, token, keepalive, idle).Write(buffer);
                Assert.True(WelcomeFrame.TryRead(buffer.AsSpan(0, n), out WelcomeFrame welcome));
                Assert.Equal((nonce, token, keepalive, idle), (welcome.Nonce, welcome.Token, welcome.KeepaliveSeconds, welcome.IdleTimeoutSeconds));

                n = new RefusedFrame(nonce, reason).Write(buffer);
                Assert.True(RefusedFrame.TryRead(buffer.AsSpan(0, n), out RefusedFrame refused));
                Assert.Equal((nonce, reason), (refused.Nonce, refused.Reason));
            }));
    }

    [Fact]
    public void Session_frames_round_trip_and_the_in_place_rewrite_equals_the_plain_Recv()
    {
        Check.One(PropertyConfig(200), Prop.ForAll(Arb.From(
            from token in AnyUInt64
            from source in AnyKey
            from destination in AnyKey
            from payload in AnyPayload
            select (token, source, destination, payload)),
            t =>
            {
                (ulong token, NodePublicKey source, NodePublicKey destination, byte[] payload) = t;
                byte[] send = new byte[RelayProtocol.SendOverhead + payload.Length];
                Assert.Equal(send.Length, new SendFrame(token, destination, payload).Write(send));
                Assert.True(SendFrame.TryRead(send, out SendFrame read));
                Assert.Equal((token, destination), (read.Token, read.Destination));
                Assert.Equal(payload, read.Payload.ToArray());
                Assert.Equal(token, SendFrame.PeekToken(send));
                Assert.Equal(destination.AsSpan().ToArray(), SendFrame.PeekDestination(send).ToArray());

                // Headroom variant: the payload is already in place.
                byte[] inPlace = new byte[send.Length];
                payload.CopyTo(inPlace, RelayProtocol.SendOverhead);
                SendFrame.WriteOverhead(inPlace, token, destination);
                Assert.Equal(send, inPlace);

                byte[] recv = new byte[RelayProtocol.RecvOverhead + payload.Length];
                Assert.Equal(recv.Length, new RecvFrame(source, payload).Write(recv));
                Assert.True(RecvFrame.TryRead(recv, out RecvFrame received));
                Assert.Equal(source, received.Source);
                Assert.Equal(payload, received.Payload.ToArray());
                Assert.Equal(recv, RecvFrame.RewriteSendInPlace(send, source.AsSpan()).ToArray());
            }));
    }

    [Fact]
    public void Token_notice_and_revocation_frames_round_trip()
    {
        Check.One(PropertyConfig(300), Prop.ForAll(Arb.From(
            from token in AnyUInt64
            from key in AnyKey
            from length in Gen.Choose(1, 500)
            from revocation in Bytes(length)
            select (token, key, revocation)),
            t =>
            {
                (ulong token, NodePublicKey key, byte[] revocation) = t;
                byte[] buffer = new byte[1024];
                foreach (RelayFrameType type in new[] { RelayFrameType.Keepalive, RelayFrameType.KeepaliveAck, RelayFrameType.SessionUnknown })
                {
                    int n = TokenFrame.Write(buffer, type, token);
                    Assert.True(TokenFrame.TryRead(buffer.AsSpan(0, n), type, out ulong read));
                    Assert.Equal(token, read);
                    Assert.False(TokenFrame.TryRead(buffer.AsSpan(0, n), type == RelayFrameType.Keepalive ? RelayFrameType.KeepaliveAck : RelayFrameType.Keepalive, out _));
                }

                int m = new UnknownPeerFrame(token, key).Write(buffer);
                Assert.True(UnknownPeerFrame.TryRead(buffer.AsSpan(0, m), out UnknownPeerFrame notice));
                Assert.Equal((token, key), (notice.Token, notice.Destination));

                m = new RevocationPushFrame(token, revocation).Write(buffer);
                Assert.True(RevocationPushFrame.TryRead(buffer.AsSpan(0, m), out RevocationPushFrame push));
                Assert.Equal(token, push.Token);
                Assert.Equal(revocation, push.Revocation.ToArray());
            }));
    }

    [Fact]
    public void No_reader_throws_on_random_input()
    {
        Check.One(PropertyConfig(2000), Prop.ForAll(Arb.From(
            from datagram in AnyDatagram
            from relayish in Gen.Elements(true, false)
            from type in Gen.Choose(0, 14)
            select Relayish(datagram, relayish, type)), ReadEverything));
    }

    [Fact]
    public void No_reader_throws_on_mutated_valid_frames()
    {
        Check.One(PropertyConfig(2000), Prop.ForAll(Arb.From(
            from frame in Gen.Elements(ValidFrames())
            from count in Gen.Choose(0, 4)
            from edits in Gen.ListOf(Gen.Zip(Gen.Choose(0, 300), AnyByte), count)
            from resize in Gen.Choose(-8, 8)
            select Mutate(frame, edits, resize)), ReadEverything));
    }

    [Fact]
    public void Relay_frames_are_told_apart_from_WireGuard_STUN_and_join_messages()
    {
        // WireGuard: type 1..4 then three zero bytes; STUN: top two bits 00 and the magic cookie at offset 4; join: 'm','j'.
        Assert.False(RelayProtocol.LooksLikeRelayFrame([1, 0, 0, 0, 9, 9]));
        Assert.False(RelayProtocol.LooksLikeRelayFrame([4, 0, 0, 0, 9, 9]));
        Assert.False(RelayProtocol.LooksLikeRelayFrame([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42]));
        Assert.False(RelayProtocol.LooksLikeRelayFrame("mj"u8.ToArray().Concat(new byte[] { 1, 1, 0, 0, 0, 0 }).ToArray()));
        Assert.False(RelayProtocol.LooksLikeRelayFrame([(byte)'m']));
        Assert.True(RelayProtocol.LooksLikeRelayFrame("mr"u8));
        Assert.False(RelayProtocol.TryReadHeader([(byte)'m', (byte)'r', 2, 1], out _)); // another version
        Assert.False(RelayProtocol.TryReadHeader([(byte)'m', (byte)'r', 1, 0], out _));
        Assert.False(RelayProtocol.TryReadHeader([(byte)'m', (byte)'r', 1, 18], out _));
    }

    private static byte[] Relayish(byte[] datagram, bool relayish, int type)
    {
        if (relayish && datagram.Length >= 4)
        {
            datagram[0] = (byte)'m';
            datagram[1] = (byte)'r';
            datagram[2] = RelayProtocol.Version;
            datagram[3] = (byte)type;
        }

        return datagram;
    }

    private static void ReadEverything(byte[] input)
    {
        ReadOnlySpan<byte> span = input;
        _ = RelayProtocol.LooksLikeRelayFrame(span);
        bool header = RelayProtocol.TryReadHeader(span, out RelayFrameType type);
        bool any = false;
        any |= ClientHelloFrame.TryRead(span, out _);
        any |= ChallengeFrame.TryRead(span, out _);
        any |= AuthFrame.TryRead(span, out _);
        any |= WelcomeFrame.TryRead(span, out _);
        any |= RefusedFrame.TryRead(span, out _);
        any |= SendFrame.TryRead(span, out _);
        any |= RecvFrame.TryRead(span, out _);
        foreach (RelayFrameType t in Enum.GetValues<RelayFrameType>())
        {
            any |= TokenFrame.TryRead(span, t, out _);
        }

        any |= UnknownPeerFrame.TryRead(span, out _);
        any |= RevocationPushFrame.TryRead(span, out _);

        // A reader accepts only frames whose header it accepts.
        Assert.True(!any || header, $"a reader accepted {Convert.ToHexString(input)} whose header is invalid ({type})");
    }

    private static byte[][] ValidFrames()
    {
        var key = new NodePublicKey(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        var nonce = new RelayNonce(Enumerable.Range(50, 32).Select(i => (byte)i).ToArray());
        byte[] Frame(Func<byte[], int> write)
        {
            byte[] buffer = new byte[600];
            return buffer[..write(buffer)];
        }

        return
        [
            Frame(b => new ClientHelloFrame(key).Write(b)),
            Frame(b => new ChallengeFrame(key, nonce, 12345).Write(b)),
            Frame(b => new AuthFrame(key, nonce, new byte[64], new byte[200]).Write(b)),
            Frame(b => new WelcomeFrame(nonce, 7, 25, 60).Write(b)),
            Frame(b => new RefusedFrame(nonce, RelayRefusal.Revoked).Write(b)),
            Frame(b => new SendFrame(7, key, new byte[148]).Write(b)),
            Frame(b => new RecvFrame(key, new byte[92]).Write(b)),
            Frame(b => TokenFrame.Write(b, RelayFrameType.Keepalive, 7)),
            Frame(b => TokenFrame.Write(b, RelayFrameType.SessionUnknown, 7)),
            Frame(b => new UnknownPeerFrame(7, key).Write(b)),
            Frame(b => new RevocationPushFrame(7, new byte[120]).Write(b)),
        ];
    }

    private static byte[] Mutate(byte[] frame, IEnumerable<(int Offset, byte Value)> edits, int resize)
    {
        byte[] copy = (byte[])frame.Clone();
        foreach ((int offset, byte value) in edits)
        {
            if (copy.Length > 0)
            {
                copy[offset % copy.Length] = value;
            }
        }

        int length = Math.Max(0, copy.Length + resize);
        Array.Resize(ref copy, length);
        return copy;
    }
}
