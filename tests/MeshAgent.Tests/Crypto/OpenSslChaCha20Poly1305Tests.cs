using MeshAgent.Core.Crypto;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Crypto;

/// <summary>
/// The OpenSSL EVP binding: RFC 8439 known answers, agreement with libsodium (an independent implementation)
/// across sizes and in place, rejection of any tampering, context reuse after failures, and no allocation.
/// </summary>
public class OpenSslChaCha20Poly1305Tests
{
    public OpenSslChaCha20Poly1305Tests()
    {
        Assert.True(OpenSslChaCha20Poly1305.IsSupported, "libcrypto.so.3 (OpenSSL 3) is not loadable on this machine: apt-get install libssl3");
    }

    [Fact]
    public void Rfc8439_vectors_seal_and_open()
    {
        var cases = VectorFile.Load("Crypto", "chacha20poly1305-rfc8439.txt");
        Assert.Contains(cases, c => c.Text("name") == "RFC 8439 2.8.2");
        foreach (VectorCase c in cases)
        {
            byte[] plaintext = c.Hex("plaintext");
            byte[] expected = [.. c.Hex("ciphertext"), .. c.Hex("tag")];
            using var aead = new OpenSslChaCha20Poly1305(c.Hex("key"));

            byte[] sealedBytes = new byte[plaintext.Length + OpenSslChaCha20Poly1305.TagSize];
            aead.Seal(c.Hex("nonce"), plaintext, c.Hex("aad"), sealedBytes);
            AssertBytes.Equal(expected, sealedBytes, $"{c} seal");

            byte[] opened = new byte[plaintext.Length];
            Assert.True(aead.TryOpen(c.Hex("nonce"), expected, c.Hex("aad"), opened), $"{c}: open failed");
            AssertBytes.Equal(plaintext, opened, $"{c} open");
        }
    }

    [Fact]
    public void Rfc8439_vector_in_place()
    {
        VectorCase c = VectorFile.Load("Crypto", "chacha20poly1305-rfc8439.txt").Single(v => v.Text("name") == "RFC 8439 2.8.2");
        byte[] plaintext = c.Hex("plaintext");
        byte[] buffer = new byte[plaintext.Length + OpenSslChaCha20Poly1305.TagSize];
        plaintext.CopyTo(buffer, 0);
        using var aead = new OpenSslChaCha20Poly1305(c.Hex("key"));

        aead.Seal(c.Hex("nonce"), buffer.AsSpan(0, plaintext.Length), c.Hex("aad"), buffer);
        AssertBytes.Equal([.. c.Hex("ciphertext"), .. c.Hex("tag")], buffer, "sealed in place");

        Assert.True(aead.TryOpen(c.Hex("nonce"), buffer, c.Hex("aad"), buffer.AsSpan(0, plaintext.Length)));
        AssertBytes.Equal(plaintext, buffer.AsSpan(0, plaintext.Length), "opened in place");
    }

    /// <summary>
    /// Differential test against libsodium. One instance per key seals and opens many messages, so this also
    /// checks that re-initialising only the IV restarts the AEAD state (a stale Poly1305 state would show here).
    /// </summary>
    [Fact]
    public void Agrees_with_libsodium_on_random_sizes_out_of_place_and_in_place()
    {
        var random = new Random(1420);
        for (int keyIndex = 0; keyIndex < 8; keyIndex++)
        {
            byte[] key = new byte[32];
            random.NextBytes(key);
            using var aead = new OpenSslChaCha20Poly1305(key);
            for (int trial = 0; trial < 60; trial++)
            {
                int size = trial switch
                {
                    < 20 => trial,
                    < 30 => 1420 + trial - 25,
                    _ => random.Next(0, 3000),
                };
                byte[] nonce = new byte[12], plaintext = new byte[size], aad = new byte[random.Next(0, 3) == 0 ? 0 : random.Next(1, 70)];
                random.NextBytes(nonce);
                random.NextBytes(plaintext);
                random.NextBytes(aad);
                string context = $"key {keyIndex} trial {trial}: plaintext {size} bytes, aad {aad.Length} bytes";

                byte[] expected = new byte[size + 16];
                ChaCha20Poly1305Ietf.Seal(key, nonce, plaintext, aad, expected);

                byte[] outOfPlace = new byte[size + 16];
                aead.Seal(nonce, plaintext, aad, outOfPlace);
                AssertBytes.Equal(expected, outOfPlace, context + ", out of place");

                byte[] inPlace = new byte[size + 16];
                plaintext.CopyTo(inPlace, 0);
                aead.Seal(nonce, inPlace.AsSpan(0, size), aad, inPlace);
                AssertBytes.Equal(expected, inPlace, context + ", in place");

                byte[] opened = new byte[size];
                Assert.True(aead.TryOpen(nonce, expected, aad, opened), context + ": open out of place failed");
                AssertBytes.Equal(plaintext, opened, context + ", opened out of place");

                Assert.True(aead.TryOpen(nonce, inPlace, aad, inPlace.AsSpan(0, size)), context + ": open in place failed");
                AssertBytes.Equal(plaintext, inPlace.AsSpan(0, size), context + ", opened in place");

                // And the other way round: what OpenSSL sealed, libsodium opens.
                Assert.True(ChaCha20Poly1305Ietf.TryOpen(key, nonce, outOfPlace, aad, opened), context + ": libsodium rejected OpenSSL's output");
            }
        }
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("tag")]
    [InlineData("aad")]
    [InlineData("nonce")]
    [InlineData("truncated")]
    public void Any_tampering_fails_zeroes_the_output_and_leaves_the_instance_usable(string what)
    {
        byte[] key = new byte[32], nonce = new byte[12], aad = [1, 2, 3, 4], plaintext = new byte[1420];
        SecureRandom.Fill(key);
        SecureRandom.Fill(nonce);
        SecureRandom.Fill(plaintext);
        using var aead = new OpenSslChaCha20Poly1305(key);
        byte[] sealedBytes = new byte[plaintext.Length + 16];
        aead.Seal(nonce, plaintext, aad, sealedBytes);

        byte[] forged = (byte[])sealedBytes.Clone(), forgedNonce = (byte[])nonce.Clone(), forgedAad = (byte[])aad.Clone();
        switch (what)
        {
            case "ciphertext": forged[700] ^= 0x01; break;
            case "tag": forged[^1] ^= 0x80; break;
            case "aad": forgedAad[0] ^= 0x01; break;
            case "nonce": forgedNonce[11] ^= 0x01; break;
            case "truncated": forged = forged[..^1]; break;
        }

        // In place, as the data plane opens: the buffer must end up zeroed, not holding unauthenticated plaintext.
        Span<byte> output = forged.AsSpan(0, forged.Length - 16);
        Assert.False(aead.TryOpen(forgedNonce, forged, forgedAad, output));
        AssertBytes.AllZero(output, "plaintext after a failed open");

        // A failed Final must not poison the context for the next, genuine message.
        byte[] opened = new byte[plaintext.Length];
        Assert.True(aead.TryOpen(nonce, sealedBytes, aad, opened), "a genuine message after a forged one was rejected");
        AssertBytes.Equal(plaintext, opened, "opened after a forged message");
    }

    [Fact]
    public void Input_shorter_than_a_tag_is_rejected_without_throwing_and_empty_messages_work()
    {
        byte[] key = new byte[32], nonce = new byte[12];
        SecureRandom.Fill(key);
        using var aead = new OpenSslChaCha20Poly1305(key);
        Assert.False(aead.TryOpen(nonce, new byte[15], [], []));
        Assert.False(aead.TryOpen(nonce, [], [], []));

        byte[] tag = new byte[16], expected = new byte[16];
        aead.Seal(nonce, [], [], tag);
        ChaCha20Poly1305Ietf.Seal(key, nonce, [], [], expected);
        Assert.Equal(expected, tag);
        Assert.True(aead.TryOpen(nonce, tag, [], []));
        tag[3] ^= 1;
        Assert.False(aead.TryOpen(nonce, tag, [], []));
    }

    [Fact]
    public void Counter_overloads_match_libsodium_counter_overloads()
    {
        byte[] key = new byte[32], plaintext = [1, 2, 3, 4, 5];
        SecureRandom.Fill(key);
        const ulong counter = 0x0102030405060708;
        using var aead = new OpenSslChaCha20Poly1305(key);

        byte[] ours = new byte[21], expected = new byte[21];
        aead.Seal(counter, plaintext, [9], ours);
        ChaCha20Poly1305Ietf.Seal(key, counter, plaintext, [9], expected);
        Assert.Equal(expected, ours);

        byte[] opened = new byte[5];
        Assert.True(aead.TryOpen(counter, ours, [9], opened));
        Assert.Equal(plaintext, opened);
        Assert.False(aead.TryOpen(counter + 1, ours, [9], opened));
    }

    [Fact]
    public void Caller_bugs_throw_and_use_after_dispose_is_refused()
    {
        byte[] nonce = new byte[12], buffer = new byte[64];
        Assert.Throws<ArgumentException>(() => new OpenSslChaCha20Poly1305(new byte[31]));

        var aead = new OpenSslChaCha20Poly1305(new byte[32]);
        Assert.Throws<ArgumentException>(() => aead.Seal(new byte[24], buffer.AsSpan(0, 10), [], new byte[26]));
        Assert.Throws<ArgumentException>(() => aead.Seal(nonce, buffer.AsSpan(0, 10), [], new byte[25]));
        Assert.Throws<ArgumentException>(() => aead.TryOpen(nonce, new byte[26], [], new byte[11]));
        var e = Assert.Throws<ArgumentException>(() => aead.Seal(nonce, buffer.AsSpan(0, 10), [], buffer.AsSpan(1, 26)));
        Assert.Contains("in place", e.Message, StringComparison.Ordinal);

        aead.Seal(nonce, buffer.AsSpan(0, 10), [], buffer.AsSpan(0, 26));
        aead.Dispose();
        aead.Dispose();
        Assert.Throws<ObjectDisposedException>(() => aead.Seal(nonce, buffer.AsSpan(0, 10), [], buffer.AsSpan(0, 26)));
        Assert.Throws<ObjectDisposedException>(() => aead.TryOpen(nonce, buffer.AsSpan(0, 26), [], buffer.AsSpan(0, 10)));
    }

    /// <summary>STYLE rule 1: after the first use of each direction, sealing and opening allocate nothing.</summary>
    [Fact]
    public void Seal_and_open_of_a_1420_byte_packet_do_not_allocate()
    {
        byte[] key = new byte[32], header = new byte[16];
        byte[] packet = new byte[1420 + 16];
        SecureRandom.Fill(key);
        SecureRandom.Fill(packet);
        using var aead = new OpenSslChaCha20Poly1305(key);

        RoundTrip(aead, header, packet, 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong counter = 1; counter <= 1000; counter++)
        {
            RoundTrip(aead, header, packet, counter);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);

        static void RoundTrip(OpenSslChaCha20Poly1305 aead, byte[] header, byte[] packet, ulong counter)
        {
            Span<byte> payload = packet.AsSpan(0, 1420);
            aead.Seal(counter, payload, header, packet);
            if (!aead.TryOpen(counter, packet, header, payload))
            {
                throw new InvalidOperationException($"round trip {counter} failed to open");
            }
        }
    }
}
