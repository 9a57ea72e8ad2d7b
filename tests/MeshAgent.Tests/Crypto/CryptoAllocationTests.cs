using MeshAgent.Core.Crypto;
using Xunit;

namespace MeshAgent.Tests.Crypto;

/// <summary>STYLE rule 1: the primitives must not allocate. Each test warms up first (JIT, libsodium init, statics).</summary>
public class CryptoAllocationTests
{
    [Fact]
    public void Seal_and_open_of_a_1420_byte_packet_do_not_allocate()
    {
        byte[] key = new byte[32], header = new byte[16];
        byte[] packet = new byte[1420 + ChaCha20Poly1305Ietf.TagSize];
        SecureRandom.Fill(key);
        SecureRandom.Fill(packet);

        RoundTrip(key, header, packet, 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong counter = 1; counter <= 1000; counter++)
        {
            RoundTrip(key, header, packet, counter);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);

        static void RoundTrip(byte[] key, byte[] header, byte[] packet, ulong counter)
        {
            Span<byte> payload = packet.AsSpan(0, 1420);
            ChaCha20Poly1305Ietf.Seal(key, counter, payload, header, packet);
            if (!ChaCha20Poly1305Ietf.TryOpen(key, counter, packet, header, payload))
            {
                throw new InvalidOperationException($"round trip {counter} failed to open");
            }
        }
    }

    [Fact]
    public void Handshake_primitives_do_not_allocate()
    {
        byte[] key = new byte[32], data = new byte[148], mac = new byte[16], hash = new byte[32];
        byte[] ck = new byte[32], k = new byte[32], t2 = new byte[32];
        byte[] privateKey = new byte[32], publicKey = new byte[32], shared = new byte[32];
        byte[] nonce = new byte[24], cookie = new byte[32];
        SecureRandom.Fill(key);
        SecureRandom.Fill(data);
        X25519.GeneratePrivateKey(privateKey);
        X25519.DerivePublicKey(privateKey, publicKey);

        Iteration();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            Iteration();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);

        void Iteration()
        {
            Blake2s.Mac(key, data.AsSpan(0, 116), mac);
            Blake2s.Hash(hash, data, hash);
            HmacBlake2s.Compute(key, data, hash);
            WireGuardKdf.Kdf2(ck, shared, ck, k);
            WireGuardKdf.Kdf3(ck, key, ck, k, t2);
            if (!X25519.TryDeriveSharedSecret(privateKey, publicKey, shared))
            {
                throw new InvalidOperationException("DH rejected a valid public key");
            }

            XChaCha20Poly1305.Seal(k, nonce, cookie.AsSpan(0, 16), mac, cookie);
        }
    }
}
