using MeshAgent.Core.Crypto;
using MeshAgent.Tests.Support;
using Xunit;
using BclChaCha20Poly1305 = System.Security.Cryptography.ChaCha20Poly1305;

namespace MeshAgent.Tests.Crypto;

public class ChaCha20Poly1305IetfTests
{
    [Fact]
    public void Rfc8439_vectors_seal_and_open()
    {
        var cases = VectorFile.Load("Crypto", "chacha20poly1305-rfc8439.txt");
        Assert.Equal(2, cases.Count);
        foreach (VectorCase c in cases)
        {
            byte[] plaintext = c.Hex("plaintext");
            byte[] expected = [.. c.Hex("ciphertext"), .. c.Hex("tag")];

            byte[] sealedBytes = new byte[plaintext.Length + ChaCha20Poly1305Ietf.TagSize];
            ChaCha20Poly1305Ietf.Seal(c.Hex("key"), c.Hex("nonce"), plaintext, c.Hex("aad"), sealedBytes);
            AssertBytes.Equal(expected, sealedBytes, $"{c} seal");

            byte[] opened = new byte[plaintext.Length];
            Assert.True(ChaCha20Poly1305Ietf.TryOpen(c.Hex("key"), c.Hex("nonce"), expected, c.Hex("aad"), opened), $"{c}: open failed");
            AssertBytes.Equal(plaintext, opened, $"{c} open");
        }
    }

    [Fact]
    public void Seal_and_open_work_in_place()
    {
        VectorCase c = VectorFile.Load("Crypto", "chacha20poly1305-rfc8439.txt")[0];
        byte[] plaintext = c.Hex("plaintext");
        byte[] buffer = new byte[plaintext.Length + ChaCha20Poly1305Ietf.TagSize];
        plaintext.CopyTo(buffer, 0);

        ChaCha20Poly1305Ietf.Seal(c.Hex("key"), c.Hex("nonce"), buffer.AsSpan(0, plaintext.Length), c.Hex("aad"), buffer);
        AssertBytes.Equal([.. c.Hex("ciphertext"), .. c.Hex("tag")], buffer, "sealed in place");

        Assert.True(ChaCha20Poly1305Ietf.TryOpen(c.Hex("key"), c.Hex("nonce"), buffer, c.Hex("aad"), buffer.AsSpan(0, plaintext.Length)));
        AssertBytes.Equal(plaintext, buffer.AsSpan(0, plaintext.Length), "opened in place");
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("tag")]
    [InlineData("aad")]
    [InlineData("nonce")]
    public void Any_flipped_bit_fails_authentication_and_zeroes_the_plaintext(string what)
    {
        VectorCase c = VectorFile.Load("Crypto", "chacha20poly1305-rfc8439.txt")[0];
        byte[] key = c.Hex("key"), nonce = c.Hex("nonce"), aad = c.Hex("aad");
        byte[] sealedBytes = [.. c.Hex("ciphertext"), .. c.Hex("tag")];
        switch (what)
        {
            case "ciphertext": sealedBytes[5] ^= 0x01; break;
            case "tag": sealedBytes[^1] ^= 0x80; break;
            case "aad": aad[0] ^= 0x01; break;
            case "nonce": nonce[11] ^= 0x01; break;
        }

        byte[] plaintext = new byte[sealedBytes.Length - ChaCha20Poly1305Ietf.TagSize];
        Array.Fill(plaintext, (byte)0xAA);
        Assert.False(ChaCha20Poly1305Ietf.TryOpen(key, nonce, sealedBytes, aad, plaintext));
        AssertBytes.AllZero(plaintext, "plaintext after a failed open");
    }

    [Fact]
    public void Input_shorter_than_a_tag_is_rejected_without_throwing()
    {
        byte[] key = new byte[32], nonce = new byte[12];
        Assert.False(ChaCha20Poly1305Ietf.TryOpen(key, nonce, new byte[15], [], []));
        Assert.False(ChaCha20Poly1305Ietf.TryOpen(key, nonce, [], [], []));
    }

    [Fact]
    public void Empty_plaintext_gives_a_tag_only_message()
    {
        byte[] key = new byte[32], nonce = new byte[12];
        SecureRandom.Fill(key);
        byte[] tag = new byte[16];
        ChaCha20Poly1305Ietf.Seal(key, nonce, [], [], tag);

        byte[] bcl = new byte[16];
        using (var reference = new BclChaCha20Poly1305(key))
        {
            reference.Encrypt(nonce, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, bcl, ReadOnlySpan<byte>.Empty);
        }

        Assert.Equal(bcl, tag);
        Assert.True(ChaCha20Poly1305Ietf.TryOpen(key, nonce, tag, [], []));
        tag[0] ^= 1;
        Assert.False(ChaCha20Poly1305Ietf.TryOpen(key, nonce, tag, [], []));
    }

    /// <summary>Differential test against the BCL's OpenSSL-backed implementation, out of place and in place.</summary>
    [Fact]
    public void Agrees_with_the_bcl_chacha20poly1305_on_random_inputs()
    {
        Assert.True(BclChaCha20Poly1305.IsSupported, "System.Security.Cryptography.ChaCha20Poly1305 is not supported on this machine (OpenSSL 1.1+ needed)");
        var random = new Random(8439);
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] key = new byte[32], nonce = new byte[12];
            byte[] plaintext = new byte[trial < 40 ? trial : random.Next(0, 2000)];
            byte[] aad = new byte[random.Next(0, 70)];
            random.NextBytes(key);
            random.NextBytes(nonce);
            random.NextBytes(plaintext);
            random.NextBytes(aad);

            byte[] bclCiphertext = new byte[plaintext.Length];
            byte[] bclTag = new byte[16];
            using (var reference = new BclChaCha20Poly1305(key))
            {
                reference.Encrypt(nonce, plaintext, bclCiphertext, bclTag, aad);
            }

            byte[] expected = [.. bclCiphertext, .. bclTag];
            string context = $"trial {trial}: plaintext {plaintext.Length} bytes, aad {aad.Length} bytes";

            byte[] ours = new byte[plaintext.Length + 16];
            ChaCha20Poly1305Ietf.Seal(key, nonce, plaintext, aad, ours);
            AssertBytes.Equal(expected, ours, context + ", out of place");

            byte[] inPlace = new byte[plaintext.Length + 16];
            plaintext.CopyTo(inPlace, 0);
            ChaCha20Poly1305Ietf.Seal(key, nonce, inPlace.AsSpan(0, plaintext.Length), aad, inPlace);
            AssertBytes.Equal(expected, inPlace, context + ", in place");

            Assert.True(ChaCha20Poly1305Ietf.TryOpen(key, nonce, inPlace, aad, inPlace.AsSpan(0, plaintext.Length)), context + ": open in place failed");
            AssertBytes.Equal(plaintext, inPlace.AsSpan(0, plaintext.Length), context + ", opened in place");
        }
    }

    [Fact]
    public void Counter_overloads_use_four_zero_bytes_then_the_little_endian_counter()
    {
        byte[] key = new byte[32];
        SecureRandom.Fill(key);
        byte[] plaintext = [1, 2, 3, 4, 5];
        const ulong counter = 0x0102030405060708;
        byte[] nonce = [0, 0, 0, 0, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01];

        byte[] viaNonce = new byte[21], viaCounter = new byte[21];
        ChaCha20Poly1305Ietf.Seal(key, nonce, plaintext, [9], viaNonce);
        ChaCha20Poly1305Ietf.Seal(key, counter, plaintext, [9], viaCounter);
        Assert.Equal(viaNonce, viaCounter);

        byte[] opened = new byte[5];
        Assert.True(ChaCha20Poly1305Ietf.TryOpen(key, counter, viaCounter, [9], opened));
        Assert.Equal(plaintext, opened);
        Assert.False(ChaCha20Poly1305Ietf.TryOpen(key, counter + 1, viaCounter, [9], opened));
    }

    [Fact]
    public void Caller_bugs_throw()
    {
        byte[] key = new byte[32], nonce = new byte[12], buffer = new byte[64];
        Assert.Throws<ArgumentException>(() => ChaCha20Poly1305Ietf.Seal(new byte[31], nonce, buffer.AsSpan(0, 10), [], new byte[26]));
        Assert.Throws<ArgumentException>(() => ChaCha20Poly1305Ietf.Seal(key, new byte[24], buffer.AsSpan(0, 10), [], new byte[26]));
        Assert.Throws<ArgumentException>(() => ChaCha20Poly1305Ietf.Seal(key, nonce, buffer.AsSpan(0, 10), [], new byte[25]));
        Assert.Throws<ArgumentException>(() => ChaCha20Poly1305Ietf.TryOpen(key, nonce, new byte[26], [], new byte[11]));

        // A partial overlap would read bytes already overwritten.
        var e = Assert.Throws<ArgumentException>(() => ChaCha20Poly1305Ietf.Seal(key, nonce, buffer.AsSpan(0, 10), [], buffer.AsSpan(1, 26)));
        Assert.Contains("in place", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ChaCha20Poly1305Ietf.TryOpen(key, nonce, buffer.AsSpan(0, 26), [], buffer.AsSpan(4, 10)));
    }
}
