using MeshAgent.Core.Crypto;
using MeshAgent.Tests.Support;
using Xunit;

namespace MeshAgent.Tests.Crypto;

public class XChaCha20Poly1305Tests
{
    [Fact]
    public void Draft_irtf_cfrg_xchacha_A_3_1_seal_and_open()
    {
        VectorCase c = Assert.Single(VectorFile.Load("Crypto", "xchacha20poly1305-draft-irtf-cfrg-xchacha-03.txt"));
        byte[] plaintext = c.Hex("plaintext");
        byte[] expected = [.. c.Hex("ciphertext"), .. c.Hex("tag")];

        byte[] sealedBytes = new byte[plaintext.Length + XChaCha20Poly1305.TagSize];
        XChaCha20Poly1305.Seal(c.Hex("key"), c.Hex("nonce"), plaintext, c.Hex("aad"), sealedBytes);
        AssertBytes.Equal(expected, sealedBytes, $"{c} seal");

        byte[] opened = new byte[plaintext.Length];
        Assert.True(XChaCha20Poly1305.TryOpen(c.Hex("key"), c.Hex("nonce"), expected, c.Hex("aad"), opened));
        AssertBytes.Equal(plaintext, opened, $"{c} open");
    }

    [Fact]
    public void In_place_round_trip_and_tamper_detection()
    {
        // The WireGuard cookie reply shape: a 16-byte cookie, a random 24-byte nonce, AD = the 16-byte mac1.
        byte[] key = new byte[32], nonce = new byte[24], mac1 = new byte[16], cookie = new byte[16];
        SecureRandom.Fill(key);
        SecureRandom.Fill(nonce);
        SecureRandom.Fill(mac1);
        SecureRandom.Fill(cookie);

        byte[] buffer = new byte[32];
        cookie.CopyTo(buffer, 0);
        XChaCha20Poly1305.Seal(key, nonce, buffer.AsSpan(0, 16), mac1, buffer);
        Assert.NotEqual(cookie, buffer[..16]);

        byte[] copy = (byte[])buffer.Clone();
        Assert.True(XChaCha20Poly1305.TryOpen(key, nonce, buffer, mac1, buffer.AsSpan(0, 16)));
        Assert.Equal(cookie, buffer[..16]);

        mac1[3] ^= 4;
        byte[] plaintext = new byte[16];
        Assert.False(XChaCha20Poly1305.TryOpen(key, nonce, copy, mac1, plaintext));
        AssertBytes.AllZero(plaintext, "plaintext after a failed open");
        Assert.False(XChaCha20Poly1305.TryOpen(key, nonce, copy.AsSpan(0, 15), mac1, []));
    }

    [Fact]
    public void A_12_byte_nonce_is_a_caller_bug()
    {
        Assert.Throws<ArgumentException>(() => XChaCha20Poly1305.Seal(new byte[32], new byte[12], [], [], new byte[16]));
    }
}
