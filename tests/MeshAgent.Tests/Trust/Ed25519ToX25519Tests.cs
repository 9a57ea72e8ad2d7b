using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Config;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Noise;
using MeshAgent.Core.Trust;
using MeshAgent.Core.WireGuard;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Trust;

/// <summary>One identity key for signing and for WireGuard: the Ed25519 → X25519 conversion and its use.</summary>
public sealed class Ed25519ToX25519Tests
{
    [Fact]
    public void Libsodium_ed25519_convert_vector()
    {
        VectorCase c = Assert.Single(VectorFile.Load("Crypto", "ed25519-to-x25519-libsodium.txt"));
        byte[] publicKey = new byte[Ed25519.PublicKeySize], secretKey = new byte[Ed25519.SecretKeySize];
        Ed25519.KeyPairFromSeed(c.Hex("seed"), publicKey, secretKey);

        byte[] xPublic = new byte[32], xSecret = new byte[32];
        Assert.True(Ed25519ToX25519.TryConvertPublicKey(publicKey, xPublic));
        Ed25519ToX25519.ConvertSecretKey(secretKey, xSecret);
        AssertBytes.Equal(c.Hex("x25519_public"), xPublic, $"{c} public");
        AssertBytes.Equal(c.Hex("x25519_secret"), xSecret, $"{c} secret");

        using NodeIdentity identity = NodeIdentity.FromSeed(c.Hex("seed"));
        AssertBytes.Equal(c.Hex("x25519_public"), identity.WireGuardPublicKey.AsSpan(), $"{c} NodeIdentity");
        AssertBytes.Equal(c.Hex("x25519_secret"), identity.WireGuardPrivateKey.AsSpan(), $"{c} NodeIdentity secret");
    }

    [Fact]
    public void Converted_key_pairs_are_consistent_clamped_and_agree_on_shared_secrets()
    {
        Gen<(byte[], byte[])> seeds =
            from a in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 32)
            from b in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), 32)
            select (a, b);
        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(200), Prop.ForAll(Arb.From(seeds), ((byte[] A, byte[] B) s) =>
        {
            using NodeIdentity a = NodeIdentity.FromSeed(s.A), b = NodeIdentity.FromSeed(s.B);
            byte[] derived = new byte[32];
            X25519.DerivePublicKey(a.WireGuardPrivateKey.AsSpan(), derived);
            AssertBytes.Equal(a.WireGuardPublicKey.AsSpan(), derived, "X25519.DerivePublicKey(converted secret) vs converted public");

            Assert.True(a.PublicKey.TryGetWireGuardPublicKey(out WireGuardPublicKey fromNodeKey));
            Assert.Equal(a.WireGuardPublicKey, fromNodeKey); // peers derive it from the certificate alone

            ReadOnlySpan<byte> secret = a.WireGuardPrivateKey.AsSpan();
            Assert.Equal(0, secret[0] & 7);
            Assert.Equal(0x40, secret[31] & 0xC0);

            byte[] ab = new byte[32], ba = new byte[32];
            Assert.True(X25519.TryDeriveSharedSecret(a.WireGuardPrivateKey.AsSpan(), b.WireGuardPublicKey.AsSpan(), ab));
            Assert.True(X25519.TryDeriveSharedSecret(b.WireGuardPrivateKey.AsSpan(), a.WireGuardPublicKey.AsSpan(), ba));
            Assert.Equal(ab, ba);
        }));
    }

    [Theory]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")] // the neutral element (order 1)
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")] // y = 0: order 4
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // y = -1: order 2
    public void Small_order_points_are_refused_and_the_output_zeroed(string hex)
    {
        byte[] output = Enumerable.Repeat((byte)0xEE, 32).ToArray();
        Assert.False(Ed25519ToX25519.TryConvertPublicKey(Convert.FromHexString(hex), output));
        AssertBytes.AllZero(output, hex);
        Assert.False(new NodePublicKey(Convert.FromHexString(hex)).TryGetWireGuardPublicKey(out _));
    }

    [Fact]
    public void Wrong_buffer_sizes_are_caller_bugs()
    {
        Assert.Throws<ArgumentException>(() => Ed25519ToX25519.TryConvertPublicKey(new byte[31], new byte[32]));
        Assert.Throws<ArgumentException>(() => Ed25519ToX25519.ConvertSecretKey(new byte[32], new byte[32])); // needs seed ‖ public key
    }

    [Fact]
    public void Two_converted_identities_complete_a_WireGuard_handshake_and_derive_matching_keys()
    {
        using NodeIdentity alice = TrustFixtures.Node(1), bob = TrustFixtures.Node(2);
        // Alice knows Bob only by his node key (from his certificate).
        Assert.True(bob.PublicKey.TryGetWireGuardPublicKey(out WireGuardPublicKey bobStatic));
        byte[] psk = new byte[32];
        byte[] timestamp = new byte[WireGuardNoise.TimestampSize];
        timestamp[7] = 1;

        byte[] initiation = new byte[HandshakeInitiation.Size];
        using HandshakeState initiator = WireGuardNoise.CreateInitiation(alice.WireGuardPrivateKey.AsSpan(), bobStatic.AsSpan(), psk, 7, timestamp, initiation);

        byte[] receivedTimestamp = new byte[WireGuardNoise.TimestampSize];
        Assert.True(WireGuardNoise.TryConsumeInitiation(bob.WireGuardPrivateKey.AsSpan(), initiation, receivedTimestamp, out uint sender, out HandshakeState? responder));
        using (responder)
        {
            Assert.Equal(7u, sender);
            Assert.Equal(timestamp, receivedTimestamp);
            Assert.True(alice.PublicKey.TryGetWireGuardPublicKey(out WireGuardPublicKey aliceStatic));
            AssertBytes.Equal(aliceStatic.AsSpan(), responder!.RemoteStaticPublicKey, "responder learned the initiator's converted key");

            byte[] response = new byte[HandshakeResponse.Size];
            WireGuardNoise.CreateResponse(responder, psk, 9, sender, response);
            Assert.True(WireGuardNoise.TryConsumeResponse(initiator, response));

            byte[] aSend = new byte[32], aReceive = new byte[32], bSend = new byte[32], bReceive = new byte[32];
            WireGuardNoise.DeriveTransportKeys(initiator, aSend, aReceive);
            WireGuardNoise.DeriveTransportKeys(responder, bSend, bReceive);
            Assert.Equal(aSend, bReceive);
            Assert.Equal(aReceive, bSend);
            Assert.NotEqual(aSend, aReceive);
        }
    }

    [Fact]
    public void A_handshake_to_the_wrong_identity_fails()
    {
        using NodeIdentity alice = TrustFixtures.Node(1), bob = TrustFixtures.Node(2), mallory = TrustFixtures.Node(3);
        byte[] psk = new byte[32], timestamp = new byte[WireGuardNoise.TimestampSize];
        byte[] initiation = new byte[HandshakeInitiation.Size];
        using HandshakeState initiator = WireGuardNoise.CreateInitiation(alice.WireGuardPrivateKey.AsSpan(), bob.WireGuardPublicKey.AsSpan(), psk, 1, timestamp, initiation);
        Assert.False(WireGuardNoise.TryConsumeInitiation(mallory.WireGuardPrivateKey.AsSpan(), initiation, new byte[WireGuardNoise.TimestampSize], out _, out _));
    }
}
