using MeshAgent.Core.Crypto;
using MeshAgent.Tests.Support;
using Xunit;

namespace MeshAgent.Tests.Crypto;

public class HmacBlake2sTests
{
    /// <summary>RFC 2104 §2 written out literally with arrays and concatenation: the naive reference.</summary>
    private static byte[] ReferenceHmac(byte[] key, byte[] data)
    {
        const int blockSize = 64;
        if (key.Length > blockSize)
        {
            byte[] hashed = new byte[32];
            Blake2s.Hash(key, hashed);
            key = hashed;
        }

        byte[] paddedKey = new byte[blockSize];
        key.CopyTo(paddedKey, 0);
        byte[] ipad = paddedKey.Select(b => (byte)(b ^ 0x36)).ToArray();
        byte[] opad = paddedKey.Select(b => (byte)(b ^ 0x5c)).ToArray();

        byte[] inner = new byte[32];
        Blake2s.Hash([.. ipad, .. data], inner);
        byte[] outer = new byte[32];
        Blake2s.Hash([.. opad, .. inner], outer);
        return outer;
    }

    [Fact]
    public void Matches_a_literal_rfc_2104_construction_for_random_keys_and_data()
    {
        var random = new Random(2104);
        // Key lengths straddle the 64-byte block (keys above it are hashed first); data straddles block edges.
        int[] keyLengths = [0, 1, 16, 32, 63, 64, 65, 100, 200];
        foreach (int keyLength in keyLengths)
        {
            for (int trial = 0; trial < 25; trial++)
            {
                byte[] key = new byte[keyLength];
                byte[] data = new byte[random.Next(0, 300)];
                random.NextBytes(key);
                random.NextBytes(data);

                byte[] mac = new byte[32];
                HmacBlake2s.Compute(key, data, mac);
                AssertBytes.Equal(ReferenceHmac(key, data), mac, $"key {keyLength} bytes, data {data.Length} bytes");
            }
        }
    }

    [Fact]
    public void Two_part_overload_equals_the_concatenation()
    {
        var random = new Random(5);
        for (int i = 0; i < 30; i++)
        {
            byte[] key = new byte[32], a = new byte[random.Next(0, 80)], b = new byte[random.Next(0, 80)];
            random.NextBytes(key);
            random.NextBytes(a);
            random.NextBytes(b);
            byte[] expected = new byte[32], actual = new byte[32];
            HmacBlake2s.Compute(key, [.. a, .. b], expected);
            HmacBlake2s.Compute(key, a, b, actual);
            AssertBytes.Equal(expected, actual, $"|a| = {a.Length}, |b| = {b.Length}");
        }
    }

    [Fact]
    public void Wireguard_go_kdf_vectors_through_kdf1_kdf2_and_kdf3()
    {
        var cases = VectorFile.Load("Crypto", "wireguard-kdf.txt");
        Assert.Equal(3, cases.Count);
        byte[] t0 = new byte[32], t1 = new byte[32], t2 = new byte[32];
        foreach (VectorCase c in cases)
        {
            WireGuardKdf.Kdf3(c.Hex("key"), c.Hex("input"), t0, t1, t2);
            AssertBytes.Equal(c.Hex("t0"), t0, $"{c} KDF3 t0");
            AssertBytes.Equal(c.Hex("t1"), t1, $"{c} KDF3 t1");
            AssertBytes.Equal(c.Hex("t2"), t2, $"{c} KDF3 t2");

            Array.Clear(t0);
            Array.Clear(t1);
            WireGuardKdf.Kdf2(c.Hex("key"), c.Hex("input"), t0, t1);
            AssertBytes.Equal(c.Hex("t0"), t0, $"{c} KDF2 t0");
            AssertBytes.Equal(c.Hex("t1"), t1, $"{c} KDF2 t1");

            Array.Clear(t0);
            WireGuardKdf.Kdf1(c.Hex("key"), c.Hex("input"), t0);
            AssertBytes.Equal(c.Hex("t0"), t0, $"{c} KDF1 t0");
        }
    }

    [Fact]
    public void Outputs_may_alias_the_chaining_key_as_in_ck_k_equals_kdf2_of_ck()
    {
        VectorCase c = VectorFile.Load("Crypto", "wireguard-kdf.txt")[0];
        byte[] chainingKey = new byte[32];
        byte[] input = c.Hex("input");
        new Random(3).NextBytes(chainingKey);

        byte[] expected0 = new byte[32], expected1 = new byte[32];
        WireGuardKdf.Kdf2(chainingKey, input, expected0, expected1);

        byte[] ck = (byte[])chainingKey.Clone();
        byte[] k = new byte[32];
        WireGuardKdf.Kdf2(ck, input, ck, k);
        Assert.Equal(expected0, ck);
        Assert.Equal(expected1, k);

        byte[] ck1 = (byte[])chainingKey.Clone();
        WireGuardKdf.Kdf1(ck1, input, ck1);
        Assert.Equal(expected0, ck1);
    }

    [Fact]
    public void Output_sizes_are_checked()
    {
        Assert.Throws<ArgumentException>(() => HmacBlake2s.Compute([1], [2], new byte[16]));
        Assert.Throws<ArgumentException>(() => WireGuardKdf.Kdf2([1], [2], new byte[32], new byte[31]));
    }
}
