using MeshAgent.Core.Crypto;
using MeshAgent.Tests.Support;
using Xunit;

namespace MeshAgent.Tests.Crypto;

public class Ed25519Tests
{
    [Fact]
    public void Rfc8032_tests_1_to_3_sign_exactly_and_verify()
    {
        var cases = VectorFile.Load("Crypto", "ed25519-rfc8032.txt");
        Assert.Equal(3, cases.Count);
        byte[] publicKey = new byte[Ed25519.PublicKeySize], secretKey = new byte[Ed25519.SecretKeySize];
        byte[] signature = new byte[Ed25519.SignatureSize];
        foreach (VectorCase c in cases)
        {
            byte[] message = c.Hex("message");
            Ed25519.KeyPairFromSeed(c.Hex("secret_key"), publicKey, secretKey);
            AssertBytes.Equal(c.Hex("public_key"), publicKey, $"{c} public key");
            AssertBytes.Equal([.. c.Hex("secret_key"), .. c.Hex("public_key")], secretKey, $"{c} libsodium secret key = seed || public key");

            Ed25519.Sign(secretKey, message, signature);
            AssertBytes.Equal(c.Hex("signature"), signature, $"{c} signature");
            Assert.True(Ed25519.Verify(c.Hex("public_key"), message, c.Hex("signature")), $"{c}: the RFC signature does not verify");
        }
    }

    [Fact]
    public void Tampering_with_message_signature_or_key_fails_verification()
    {
        foreach (VectorCase c in VectorFile.Load("Crypto", "ed25519-rfc8032.txt"))
        {
            byte[] publicKey = c.Hex("public_key"), message = c.Hex("message"), signature = c.Hex("signature");

            byte[] longerMessage = [.. message, 0];
            Assert.False(Ed25519.Verify(publicKey, longerMessage, signature), $"{c}: extended message verified");
            if (message.Length > 0)
            {
                byte[] flipped = (byte[])message.Clone();
                flipped[0] ^= 1;
                Assert.False(Ed25519.Verify(publicKey, flipped, signature), $"{c}: flipped message verified");
            }

            for (int i = 0; i < signature.Length; i += 7)
            {
                byte[] badSignature = (byte[])signature.Clone();
                badSignature[i] ^= 0x10;
                Assert.False(Ed25519.Verify(publicKey, message, badSignature), $"{c}: signature with byte {i} flipped verified");
            }

            byte[] otherKey = (byte[])publicKey.Clone();
            otherKey[0] ^= 1;
            Assert.False(Ed25519.Verify(otherKey, message, signature), $"{c}: wrong public key verified");
            Assert.False(Ed25519.Verify(publicKey, message, signature.AsSpan(0, 63)), $"{c}: a truncated signature verified");
        }
    }

    [Fact]
    public void Generated_key_pairs_sign_and_verify_and_differ()
    {
        byte[] pk1 = new byte[32], sk1 = new byte[64], pk2 = new byte[32], sk2 = new byte[64], sig = new byte[64];
        Ed25519.GenerateKeyPair(pk1, sk1);
        Ed25519.GenerateKeyPair(pk2, sk2);
        Assert.NotEqual(pk1, pk2);

        byte[] message = "membership snapshot 42"u8.ToArray();
        Ed25519.Sign(sk1, message, sig);
        Assert.True(Ed25519.Verify(pk1, message, sig));
        Assert.False(Ed25519.Verify(pk2, message, sig));
    }

    [Fact]
    public void Key_sizes_are_caller_bugs()
    {
        Assert.Throws<ArgumentException>(() => Ed25519.Sign(new byte[32], [], new byte[64]));
        Assert.Throws<ArgumentException>(() => Ed25519.Verify(new byte[64], [], new byte[64]));
        Assert.Throws<ArgumentException>(() => Ed25519.KeyPairFromSeed(new byte[31], new byte[32], new byte[64]));
    }
}
