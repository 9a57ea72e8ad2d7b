using MeshAgent.Core.Crypto;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Tests.Engine;

/// <summary>
/// The data-plane cipher against libsodium as the reference (WireGuard's nonce = 4 zero bytes ‖ LE64 counter),
/// under concurrent use of one instance from several threads (its pooled OpenSSL contexts), and after disposal.
/// </summary>
public sealed class TransportCipherTests
{
    [Fact]
    public void Seal_and_open_agree_with_libsodium_for_every_size_up_to_the_mtu()
    {
        byte[] key = RandomKey();
        using var cipher = new TransportCipher(key);
        var random = new Random(4);
        for (int size = 0; size <= 1440; size += size < 64 ? 1 : 37)
        {
            byte[] plaintext = new byte[size];
            random.NextBytes(plaintext);
            ulong counter = (ulong)random.NextInt64();

            byte[] packet = new byte[size + 16];
            plaintext.CopyTo(packet, 0);
            cipher.SealInPlace(counter, packet);

            byte[] expected = new byte[size + 16];
            ChaCha20Poly1305Ietf.Seal(key, counter, plaintext, [], expected);
            Assert.Equal(expected, packet);

            Assert.True(cipher.TryOpenInPlace(counter, packet), $"size {size}: open failed");
            Assert.Equal(plaintext, packet[..size]);

            ChaCha20Poly1305Ietf.Seal(key, counter, plaintext, [], packet);
            packet[^1] ^= 1;
            Assert.False(cipher.TryOpenInPlace(counter, packet), $"size {size}: a flipped tag bit was accepted");
        }
    }

    /// <summary>
    /// One cipher, several threads sealing and opening at once: every packet must come out exactly as the
    /// reference seals it, which fails if two threads ever share an OpenSSL context mid-message.
    /// </summary>
    [Fact]
    public void Concurrent_seal_and_open_on_one_instance_stay_correct()
    {
        byte[] key = RandomKey();
        using var cipher = new TransportCipher(key);
        const int threads = 4, packetsPerThread = 20_000;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new Barrier(threads);

        // Dedicated threads released together, and enough packets to keep them overlapping for a while
        // even on two cores (a thread pool could run them one after another).
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() => Work(t))).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.Empty(failures);

        void Work(int t)
        {
            var random = new Random(t);
            start.SignalAndWait();
            byte[] plaintext = new byte[1420], packet = new byte[1436], expected = new byte[1436];
            for (int i = 0; i < packetsPerThread; i++)
            {
                int size = random.Next(0, 1421);
                random.NextBytes(plaintext.AsSpan(0, size));
                ulong counter = (ulong)(t * packetsPerThread + i);
                plaintext.AsSpan(0, size).CopyTo(packet);
                cipher.SealInPlace(counter, packet.AsSpan(0, size + 16));
                ChaCha20Poly1305Ietf.Seal(key, counter, plaintext.AsSpan(0, size), [], expected.AsSpan(0, size + 16));
                if (!packet.AsSpan(0, size + 16).SequenceEqual(expected.AsSpan(0, size + 16)))
                {
                    failures.Enqueue($"thread {t} packet {i} ({size} bytes): sealed bytes differ from libsodium's");
                }

                if (!cipher.TryOpenInPlace(counter, packet.AsSpan(0, size + 16)) || !packet.AsSpan(0, size).SequenceEqual(plaintext.AsSpan(0, size)))
                {
                    failures.Enqueue($"thread {t} packet {i} ({size} bytes): did not open to the original plaintext");
                }
            }
        }
    }

    [Fact]
    public void After_disposal_open_fails_quietly_and_seal_refuses()
    {
        var cipher = new TransportCipher(RandomKey());
        byte[] packet = new byte[64];
        cipher.SealInPlace(1, packet);
        cipher.Dispose();

        Assert.False(cipher.TryOpenInPlace(1, packet));
        Assert.Throws<ObjectDisposedException>(() => cipher.SealInPlace(2, packet));
        cipher.Dispose();
    }

    [Fact]
    public void Input_shorter_than_a_tag_is_rejected()
    {
        using var cipher = new TransportCipher(RandomKey());
        Assert.False(cipher.TryOpenInPlace(0, new byte[15]));
        Assert.False(cipher.TryOpenInPlace(0, []));
    }

    private static byte[] RandomKey()
    {
        byte[] key = new byte[32];
        SecureRandom.Fill(key);
        return key;
    }
}
