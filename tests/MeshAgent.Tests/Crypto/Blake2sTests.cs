using MeshAgent.Core.Crypto;
using MeshAgent.Tests.Support;
using Xunit;

namespace MeshAgent.Tests.Crypto;

public class Blake2sTests
{
    private static byte[] Counting(int length) => Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

    [Fact]
    public void Rfc7693_appendix_B_abc()
    {
        VectorCase c = VectorFile.Load("Crypto", "blake2s-rfc7693.txt").Single(v => v.Has("input"));
        Span<byte> hash = stackalloc byte[Blake2s.HashSize];
        Blake2s.Hash(c.Hex("input"), hash);
        AssertBytes.Equal(c.Hex("hash"), hash, c.ToString());
    }

    [Fact]
    public void Rfc7693_appendix_E_self_test_covers_output_lengths_and_key_lengths()
    {
        VectorCase c = VectorFile.Load("Crypto", "blake2s-rfc7693.txt").Single(v => v.Has("grand_hash"));
        int[] digestLengths = c.Text("digest_lengths").Split(' ').Select(int.Parse).ToArray();
        int[] inputLengths = c.Text("input_lengths").Split(' ').Select(int.Parse).ToArray();

        var grand = new Blake2s(Blake2s.HashSize);
        foreach (int outputLength in digestLengths)
        {
            foreach (int inputLength in inputLengths)
            {
                byte[] input = SelfTestSequence(inputLength, (uint)inputLength);
                byte[] digest = new byte[outputLength];

                var unkeyed = new Blake2s(outputLength);
                unkeyed.Update(input);
                unkeyed.Finish(digest);
                grand.Update(digest);

                var keyed = new Blake2s(outputLength, SelfTestSequence(outputLength, (uint)outputLength));
                keyed.Update(input);
                keyed.Finish(digest);
                grand.Update(digest);
            }
        }

        byte[] result = new byte[Blake2s.HashSize];
        grand.Finish(result);
        AssertBytes.Equal(c.Hex("grand_hash"), result, c.ToString());
    }

    // RFC 7693 Appendix E selftest_seq: a Fibonacci-style generator over uint32.
    private static byte[] SelfTestSequence(int length, uint seed)
    {
        byte[] output = new byte[length];
        uint a = unchecked(0xDEAD4BAD * seed), b = 1;
        for (int i = 0; i < length; i++)
        {
            uint t = unchecked(a + b);
            a = b;
            b = t;
            output[i] = (byte)(t >> 24);
        }

        return output;
    }

    [Fact]
    public void Official_keyed_kat_all_256_entries()
    {
        var cases = VectorFile.Load("Crypto", "blake2s-kat-keyed.txt");
        Assert.Equal(256, cases.Count);
        byte[] key = Counting(32);
        byte[] hash = new byte[Blake2s.HashSize];
        for (int n = 0; n < cases.Count; n++)
        {
            VectorCase c = cases[n];
            Assert.Equal(n, c.Int("length"));
            var state = new Blake2s(Blake2s.HashSize, key);
            state.Update(Counting(n));
            state.Finish(hash);
            AssertBytes.Equal(c.Hex("hash"), hash, $"{c} (input length {n})");
        }
    }

    [Fact]
    public void Official_unkeyed_kat_subset()
    {
        byte[] hash = new byte[Blake2s.HashSize];
        foreach (VectorCase c in VectorFile.Load("Crypto", "blake2s-kat-unkeyed.txt"))
        {
            Blake2s.Hash(Counting(c.Int("length")), hash);
            AssertBytes.Equal(c.Hex("hash"), hash, c.ToString());
        }
    }

    [Fact]
    public void Incremental_updates_in_any_split_equal_the_one_shot_hash()
    {
        var random = new Random(7693);
        foreach (int length in new[] { 0, 1, 63, 64, 65, 127, 128, 129, 300, 1000 })
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            byte[] key = new byte[random.Next(0, 33)];
            random.NextBytes(key);
            int outputLength = random.Next(1, 33);

            byte[] expected = new byte[outputLength];
            var oneShot = new Blake2s(outputLength, key);
            oneShot.Update(data);
            oneShot.Finish(expected);

            for (int trial = 0; trial < 20; trial++)
            {
                var state = new Blake2s(outputLength, key);
                int offset = 0;
                while (offset < length)
                {
                    int chunk = Math.Min(random.Next(0, 100), length - offset);
                    state.Update(data.AsSpan(offset, chunk));
                    offset += chunk;
                }

                byte[] actual = new byte[outputLength];
                state.Finish(actual);
                AssertBytes.Equal(expected, actual, $"length {length}, key {key.Length}, output {outputLength}, trial {trial}");
            }
        }
    }

    [Fact]
    public void Hash_of_two_parts_equals_hash_of_the_concatenation()
    {
        var random = new Random(1);
        for (int i = 0; i < 50; i++)
        {
            byte[] a = new byte[random.Next(0, 150)];
            byte[] b = new byte[random.Next(0, 150)];
            random.NextBytes(a);
            random.NextBytes(b);
            byte[] expected = new byte[32], actual = new byte[32];
            Blake2s.Hash([.. a, .. b], expected);
            Blake2s.Hash(a, b, actual);
            AssertBytes.Equal(expected, actual, $"|a| = {a.Length}, |b| = {b.Length}");
        }
    }

    [Fact]
    public void Mac_is_keyed_blake2s_with_16_bytes_of_output()
    {
        // Keyed 16-byte output is covered by the RFC 7693 self-test; this checks Mac takes exactly that path.
        // The digest length is part of the parameter block, so a truncated 32-byte MAC must differ.
        byte[] key = Counting(32);
        byte[] data = Counting(100);
        byte[] mac = new byte[Blake2s.MacSize];
        Blake2s.Mac(key, data, mac);

        byte[] expected = new byte[16];
        var state = new Blake2s(16, key);
        state.Update(data);
        state.Finish(expected);
        AssertBytes.Equal(expected, mac, "Mac vs new Blake2s(16, key)");

        byte[] wide = new byte[32];
        state = new Blake2s(32, key);
        state.Update(data);
        state.Finish(wide);
        Assert.NotEqual(wide[..16], mac);
    }

    [Fact]
    public void Mac_output_may_alias_the_data()
    {
        byte[] key = Counting(16);
        byte[] buffer = Counting(16);
        byte[] expected = new byte[16];
        Blake2s.Mac(key, buffer, expected);
        Blake2s.Mac(key, buffer, buffer);
        Assert.Equal(expected, buffer);
    }

    [Fact]
    public void Misuse_throws_with_a_message_that_says_what_to_do()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Blake2s(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Blake2s(33));
        Assert.Throws<ArgumentException>(() => new Blake2s(32, new byte[33]));
        Assert.Throws<ArgumentException>(() => Blake2s.Mac([], [1, 2, 3], new byte[16]));
        Assert.Throws<ArgumentException>(() => Blake2s.Hash([1], new byte[31]));

        var state = new Blake2s(20);
        Assert.Throws<ArgumentException>(() => state.Finish(new byte[32]));
        state.Finish(new byte[20]);
        var e = Assert.Throws<InvalidOperationException>(() => state.Update([1]));
        Assert.Contains("create a new one", e.Message, StringComparison.Ordinal);

        Blake2s never = default;
        Assert.Throws<InvalidOperationException>(() => never.Finish(new byte[32]));
    }
}
