using MeshAgent.Core.Crypto;
using Xunit;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Crypto;

public class X25519Tests
{
    [Fact]
    public void Rfc7748_section_5_2_single_step_vectors()
    {
        var cases = VectorFile.Load("Crypto", "x25519-rfc7748.txt");
        Assert.Equal(2, cases.Count);
        Span<byte> output = stackalloc byte[X25519.KeySize];
        foreach (VectorCase c in cases)
        {
            Assert.True(X25519.TryDeriveSharedSecret(c.Hex("scalar"), c.Hex("u"), output), $"{c}: rejected");
            AssertBytes.Equal(c.Hex("output"), output, $"{c} ({c.Text("name")})");
        }
    }

    [Fact]
    public void Rfc7748_section_5_2_iterated_vectors()
    {
        var cases = VectorFile.Load("Crypto", "x25519-rfc7748-iterated.txt");
        var expected = cases.ToDictionary(c => c.Int("iterations"), c => c.Hex("result"));
        int last = expected.Keys.Max();

        byte[] k = new byte[X25519.KeySize];
        byte[] u = new byte[X25519.KeySize];
        byte[] r = new byte[X25519.KeySize];
        k[0] = 9;
        u[0] = 9;
        for (int i = 1; i <= last; i++)
        {
            Assert.True(X25519.TryDeriveSharedSecret(k, u, r), $"iteration {i} rejected");
            (u, k, r) = (k, r, u);
            if (expected.TryGetValue(i, out byte[]? want))
            {
                AssertBytes.Equal(want, k, $"after {i} iterations");
            }
        }
    }

    [Fact]
    public void Rfc7748_section_6_1_alice_and_bob()
    {
        VectorCase c = Assert.Single(VectorFile.Load("Crypto", "x25519-rfc7748-dh.txt"));
        Span<byte> key = stackalloc byte[X25519.KeySize];

        X25519.DerivePublicKey(c.Hex("alice_private"), key);
        AssertBytes.Equal(c.Hex("alice_public"), key, "Alice's public key");
        X25519.DerivePublicKey(c.Hex("bob_private"), key);
        AssertBytes.Equal(c.Hex("bob_public"), key, "Bob's public key");

        Assert.True(X25519.TryDeriveSharedSecret(c.Hex("alice_private"), c.Hex("bob_public"), key));
        AssertBytes.Equal(c.Hex("shared"), key, "shared secret computed by Alice");
        Assert.True(X25519.TryDeriveSharedSecret(c.Hex("bob_private"), c.Hex("alice_public"), key));
        AssertBytes.Equal(c.Hex("shared"), key, "shared secret computed by Bob");
    }

    // Points of small order give an all-zero result for every scalar; WireGuard must reject them.
    // u = 0 and u = 1 are two of them (RFC 7748 §6.1 "check for the all-zero value").
    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p - 1
    public void Low_order_public_keys_are_rejected_and_the_output_is_zeroed(string publicKeyHex)
    {
        Span<byte> privateKey = stackalloc byte[X25519.KeySize];
        X25519.GeneratePrivateKey(privateKey);
        Span<byte> shared = stackalloc byte[X25519.KeySize];
        shared.Fill(0xAA);

        Assert.False(X25519.TryDeriveSharedSecret(privateKey, Convert.FromHexString(publicKeyHex), shared));
        AssertBytes.AllZero(shared, "shared secret after rejection");
    }

    [Fact]
    public void Generated_private_keys_are_clamped_and_distinct()
    {
        var seen = new HashSet<string>();
        Span<byte> key = stackalloc byte[X25519.KeySize];
        for (int i = 0; i < 64; i++)
        {
            X25519.GeneratePrivateKey(key);
            Assert.Equal(0, key[0] & 7);
            Assert.Equal(64, key[31] & 0xC0);
            Assert.True(seen.Add(Convert.ToHexString(key)), "the generator repeated a key");
        }
    }

    [Fact]
    public void Clamping_does_not_change_the_public_key_because_libsodium_clamps_too()
    {
        byte[] raw = new byte[X25519.KeySize];
        SecureRandom.Fill(raw);
        raw[0] |= 7;
        raw[31] |= 0x80;
        byte[] clamped = (byte[])raw.Clone();
        X25519.ClampPrivateKey(clamped);
        Assert.NotEqual(raw, clamped);

        byte[] fromRaw = new byte[X25519.KeySize];
        byte[] fromClamped = new byte[X25519.KeySize];
        X25519.DerivePublicKey(raw, fromRaw);
        X25519.DerivePublicKey(clamped, fromClamped);
        Assert.Equal(fromClamped, fromRaw);
    }

    [Fact]
    public void Wrong_key_sizes_are_caller_bugs_and_throw()
    {
        byte[] key31 = new byte[31];
        byte[] key32 = new byte[32];
        var e = Assert.Throws<ArgumentException>(() => X25519.DerivePublicKey(key31, key32));
        Assert.Equal("privateKey", e.ParamName);
        Assert.Contains("31", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => X25519.TryDeriveSharedSecret(key32, key31, key32));
        Assert.Throws<ArgumentException>(() => X25519.GeneratePrivateKey(new byte[33]));
    }
}
