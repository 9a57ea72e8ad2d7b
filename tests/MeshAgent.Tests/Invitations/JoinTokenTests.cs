using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Invitations;
using Xunit.Abstractions;
using static MeshAgent.Tests.Invitations.InvitationFixtures;

namespace MeshAgent.Tests.Invitations;

/// <summary>
/// The join token codec: round trips, the size budget, the documented layout (checked against an
/// independent model: a bit-by-bit base32 decoder and a bitwise CRC-32C), every error kind with its
/// message, and detection of every single-character mistake.
/// </summary>
public sealed partial class JoinTokenTests(ITestOutputHelper output)
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    [GeneratedRegex("^mesh1:[a-z2-7]+$")]
    private static partial Regex TokenShape();

    private sealed record Fields(
        string Network, byte[] Root, byte[] Inviter, IPEndPoint[] Endpoints, RelayAddress[] Relays, byte[] Secret, long Expiry, string? Name);

    private static readonly Gen<byte> AnyByte = ArbMap.Default.GeneratorFor<byte>();

    private static Gen<byte[]> Bytes(int n) => Gen.ArrayOf(AnyByte, n);

    // Multi-byte UTF-8 and a surrogate pair on purpose: names are UTF-8 on the wire.
    private static readonly Gen<string> NameGen =
        from length in Gen.Choose(1, 8)
        from chars in Gen.ArrayOf(Gen.Elements("abcxyz019-_ .éü日本😀".EnumerateRunes().Select(r => r.ToString()).ToArray()), length)
        select string.Concat(chars);

    private static readonly Gen<IPEndPoint> EndpointGen =
        from v6 in ArbMap.Default.GeneratorFor<bool>()
        from address in Bytes(v6 ? 16 : 4)
        from port in Gen.Choose(1, 65535)
        select new IPEndPoint(new IPAddress(address), port);

    private static readonly Gen<RelayAddress> RelayGen =
        from kind in Gen.Choose(0, 2)
        from address in Bytes(kind == 1 ? 16 : 4)
        from labels in Gen.ArrayOf(Gen.Elements("relay", "eu", "r1", "example", "org", "a-b", "x9"), 1 + address[0] % 3)
        from port in Gen.Choose(1, 65535)
        select kind == 2 ? new RelayAddress(string.Join('.', labels), port) : new RelayAddress(new IPAddress(address), port);

    private static readonly Gen<Fields> FieldsGen =
        from network in NameGen
        from root in Bytes(32)
        from inviter in Bytes(32)
        from endpointCount in Gen.Choose(0, 3)
        from endpoints in Gen.ArrayOf(EndpointGen, endpointCount)
        from relayCount in Gen.Choose(endpointCount == 0 ? 1 : 0, 2)
        from relays in Gen.ArrayOf(RelayGen, relayCount)
        from secret in Bytes(16)
        from days in Gen.Choose(0, 2_900_000)
        from seconds in Gen.Choose(1, 86_399)
        from named in ArbMap.Default.GeneratorFor<bool>()
        from name in NameGen
        select new Fields(network, root, inviter, endpoints, relays, secret, Math.Min((long)days * 86_400 + seconds, 253402300799), named ? name : null);

    /// <summary>Tokens from random fields, skipping the few combinations over the size budget.</summary>
    private static readonly Gen<JoinToken> TokenGen = FieldsGen.Select(Build).Where(t => t is not null).Select(t => t!);

    private static JoinToken? Build(Fields f)
    {
        try
        {
            return new JoinToken(f.Network, f.Root, f.Inviter, f.Endpoints, f.Relays, f.Secret, DateTimeOffset.FromUnixTimeSeconds(f.Expiry), f.Name);
        }
        catch (ArgumentException e) when (e.Message.Contains("at most 399", StringComparison.Ordinal))
        {
            return null;
        }
    }

    private static FsCheck.Config Config(int maxTest = 300) => FsCheck.Config.QuickThrowOnFailure.WithMaxTest(maxTest);

    private static JoinToken ParseOk(string text)
    {
        Assert.True(JoinToken.TryParse(text, out JoinToken? token, out JoinTokenError error), error.Message);
        Assert.Equal(JoinTokenErrorKind.None, error.Kind);
        return token!;
    }

    private static JoinTokenError ParseError(string? text)
    {
        bool ok = JoinToken.TryParse(text, out JoinToken? token, out JoinTokenError error);
        Assert.False(ok, $"'{text}' parsed although it should not");
        Assert.Null(token);
        Assert.True(error.IsError);
        return error;
    }

    private static void AssertSameContents(JoinToken expected, JoinToken actual)
    {
        Assert.Equal(expected.NetworkName, actual.NetworkName);
        Assert.Equal(expected.NetworkRootPublicKey.ToArray(), actual.NetworkRootPublicKey.ToArray());
        Assert.Equal(expected.InviterPublicKey.ToArray(), actual.InviterPublicKey.ToArray());
        Assert.Equal(expected.Endpoints, actual.Endpoints);
        Assert.Equal(expected.Relays, actual.Relays);
        Assert.Equal(expected.Secret.ToArray(), actual.Secret.ToArray());
        Assert.Equal(expected.ExpiresAt, actual.ExpiresAt);
        Assert.Equal(expected.SuggestedNodeName, actual.SuggestedNodeName);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Tokens_round_trip_through_text_in_either_case_and_wrapped()
    {
        Check.One(Config(), Prop.ForAll(Arb.From(TokenGen), (JoinToken token) =>
        {
            string text = token.ToString();
            Assert.Matches(TokenShape(), text);
            Assert.True(text.Length <= JoinToken.MaxLength, $"{text.Length} characters");

            AssertSameContents(token, ParseOk(text));
            AssertSameContents(token, ParseOk(token.ToQrText()));

            // As a chat client or a narrow terminal might deliver it: wrapped, indented, zero-width spaces.
            var wrapped = new StringBuilder("  ");
            for (int i = 0; i < text.Length; i += 37)
            {
                wrapped.Append(text.AsSpan(i, Math.Min(37, text.Length - i))).Append(i % 2 == 0 ? "\r\n\t" : "\u200B ");
            }

            AssertSameContents(token, ParseOk(wrapped.ToString()));
        }));
    }

    [Fact]
    public void Fields_given_to_the_constructor_come_back_normalised()
    {
        Check.One(Config(200), Prop.ForAll(Arb.From(FieldsGen), (Fields f) =>
        {
            JoinToken? token = Build(f);
            if (token is null)
            {
                return;
            }

            Assert.Equal(f.Network, token.NetworkName);
            Assert.Equal(f.Root, token.NetworkRootPublicKey.ToArray());
            Assert.Equal(f.Inviter, token.InviterPublicKey.ToArray());
            Assert.Equal(f.Endpoints.Select(e => new IPEndPoint(e.Address.IsIPv4MappedToIPv6 ? e.Address.MapToIPv4() : e.Address, e.Port)), token.Endpoints);
            Assert.Equal(f.Relays, token.Relays);
            Assert.Equal(f.Secret, token.Secret.ToArray());
            Assert.Equal(f.Expiry, token.ExpiresAt.ToUnixTimeSeconds());
            Assert.Equal(f.Name, token.SuggestedNodeName);
        }));
    }

    [Fact]
    public void A_realistic_token_is_well_under_400_characters()
    {
        string text = RealisticToken().ToString();
        output.WriteLine($"{text.Length} characters: {text}");
        Assert.True(text.Length < 400, $"{text.Length} characters");
        Assert.Matches(TokenShape(), text);
    }

    [Fact]
    public void The_binary_layout_matches_the_documented_one()
    {
        JoinToken token = RealisticToken();
        byte[] actual = DecodeBase32Model(token.ToString()["mesh1:".Length..]);

        byte[] variable = Concat(
            [15], "acme-production"u8.ToArray(),
            [15], "build-server-07"u8.ToArray(),
            [3],
            [1, 203, 0, 113, 10, 0xCA, 0x6C],
            [1, 198, 51, 100, 7, 0xCA, 0x6C],
            [2], IPAddress.Parse("2001:db8:1234:5678::10").GetAddressBytes(), [0xCA, 0x6C],
            [1],
            [3, 35], "relay-eu-west.meshagent.example.org"u8.ToArray(), [0x0D, 0x96]);
        byte[] expiry = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(expiry, Now.AddHours(1).ToUnixTimeSeconds());
        int length = 3 + 32 + 32 + 16 + 8 + variable.Length + 4;
        byte[] header = [1, (byte)length, Crc8Model([1, (byte)length])];
        byte[] body = Concat(header, Pattern(32, 0x10), Pattern(32, 0x40), Pattern(16, 0xA0), expiry, variable);
        byte[] crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32CModel(body));

        Assert.Equal(Convert.ToHexStringLower(Concat(body, crc)), Convert.ToHexStringLower(actual));
    }

    [Fact]
    public void The_token_id_is_the_first_8_bytes_of_a_labelled_blake2s_of_the_secret()
    {
        JoinToken token = RealisticToken();
        byte[] hash = new byte[32];
        Blake2s.Hash("meshagent join v1 token id"u8, token.Secret, hash);
        Assert.Equal(BinaryPrimitives.ReadUInt64BigEndian(hash), token.Id.Value);
        Assert.NotEqual(token.Id, RealisticToken(secret: Pattern(16, 0xA1)).Id);
        Assert.True(JoinTokenId.TryParse(token.Id.ToString(), out JoinTokenId parsed));
        Assert.Equal(token.Id, parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   \n")]
    [InlineData("hello world")]
    [InlineData("wg://203.0.113.10:51820")]
    [InlineData("meshagent join mesh1:abc")]
    [InlineData("mesh:abcdef")]
    public void Text_that_is_not_a_token_says_so(string? text)
    {
        JoinTokenError error = ParseError(text);
        Assert.Equal(JoinTokenErrorKind.NotAToken, error.Kind);
        Assert.Equal("this is not a MeshAgent join token (it must start with mesh1:)", error.Message);
    }

    [Fact]
    public void A_truncated_token_says_how_many_characters_it_got_and_needs()
    {
        string text = RealisticToken().ToString();
        JoinTokenError error = ParseError(text[..200]);
        Assert.Equal(JoinTokenErrorKind.Truncated, error.Kind);
        Assert.Equal($"the join token is truncated (got 200 characters, expected {text.Length}) — copy the whole line starting with mesh1:", error.Message);

        error = ParseError("mesh");
        Assert.Equal(JoinTokenErrorKind.Truncated, error.Kind);
        Assert.Equal("the join token is truncated (got 4 characters) — copy the whole line starting with mesh1:", error.Message);
    }

    [Fact]
    public void A_damaged_token_names_the_damage()
    {
        string text = RealisticToken().ToString();
        string Replace(int index, char c) => string.Concat(text.AsSpan(0, index), c.ToString(), text.AsSpan(index + 1));
        char Other(int index) => text[index] == 'q' ? 'r' : 'q';

        JoinTokenError error = ParseError(Replace(150, Other(150)));
        Assert.Equal(JoinTokenErrorKind.Damaged, error.Kind);
        Assert.Equal("the join token is damaged (checksum mismatch) — copy the whole line starting with mesh1: again exactly, or ask an admin for a new one with meshagent invite", error.Message);

        Assert.Equal("header checksum mismatch", Detail(ParseError(Replace(8, Other(8)))));
        Assert.Equal("character '0' at position 101 cannot occur in a join token", Detail(ParseError(Replace(100, '0'))));
        Assert.Equal("character '-' at position 7 cannot occur in a join token", Detail(ParseError(Replace(6, '-'))));
        Assert.Equal("one character too many", Detail(ParseError(text + "a")));
        Assert.Equal("3 characters too many", Detail(ParseError(text + "abc")));
    }

    private static string Detail(JoinTokenError error)
    {
        Assert.Equal(JoinTokenErrorKind.Damaged, error.Kind);
        int open = error.Message.IndexOf('(', StringComparison.Ordinal);
        int close = error.Message.IndexOf(") — ", StringComparison.Ordinal);
        return error.Message[(open + 1)..close];
    }

    [Fact]
    public void A_token_from_a_newer_format_asks_for_an_upgrade()
    {
        JoinTokenError error = ParseError("mesh2:aaaaaaaaaaaaaaaaaaaa");
        Assert.Equal(JoinTokenErrorKind.UnsupportedVersion, error.Kind);
        Assert.StartsWith("this join token uses format mesh2:, which this meshagent does not read", error.Message, StringComparison.Ordinal);

        // Layout 2 behind a valid header check and CRC: a future binary layout under the same prefix.
        byte[] binary = DecodeBase32Model(RealisticToken().ToString()["mesh1:".Length..]);
        binary[0] = 2;
        binary[2] = Crc8Model(binary.AsSpan(0, 2));
        BinaryPrimitives.WriteUInt32BigEndian(binary.AsSpan(binary.Length - 4), Crc32CModel(binary.AsSpan(0, binary.Length - 4)));
        error = ParseError("mesh1:" + EncodeBase32Model(binary));
        Assert.Equal(JoinTokenErrorKind.UnsupportedVersion, error.Kind);
        Assert.Contains("uses layout 2", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("upgrade meshagent on this machine, or ask the admin for a token made by the same version", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_header_that_passes_its_8_bit_check_by_chance_is_damaged_not_newer()
    {
        // Found by CI: an inserted character shifted the header so that its CRC-8 still matched (1 in 256)
        // and the layout byte read 2. Without a matching CRC-32C that is damage, not a newer format.
        byte[] binary = DecodeBase32Model(RealisticToken().ToString()["mesh1:".Length..]);
        binary[0] = 2;
        binary[2] = Crc8Model(binary.AsSpan(0, 2));
        JoinTokenError error = ParseError("mesh1:" + EncodeBase32Model(binary));
        Assert.Equal("the join token is damaged (checksum mismatch) — copy the whole line starting with mesh1: again exactly, or ask an admin for a new one with meshagent invite", error.Message);
    }

    [Fact]
    public void An_expired_token_says_when_it_expired()
    {
        JoinToken token = RealisticToken(expiresAt: Now);
        Assert.True(JoinToken.TryParse(token.ToString(), Now.AddSeconds(-1), out JoinToken? fresh, out _));
        Assert.NotNull(fresh);

        Assert.False(JoinToken.TryParse(token.ToString(), Now.AddHours(2).AddMinutes(5), out JoinToken? parsed, out JoinTokenError error));
        Assert.Null(parsed);
        Assert.Equal(JoinTokenErrorKind.Expired, error.Kind);
        Assert.Equal("the join token expired at 2025-06-01 12:00:00Z (2 h 5 min ago) — ask an admin for a new one with meshagent invite", error.Message);
    }

    [Fact]
    public void Every_single_character_substitution_is_detected()
    {
        foreach (string text in SampleTokens())
        {
            int checkedCount = 0;
            for (int i = 0; i < text.Length; i++)
            {
                // Inside the prefix any other character is a mistake; in the body, any other letter of the
                // alphabet, and characters from outside it. (A change of case is no mistake: decoding
                // ignores case on purpose, for QR codes and autocorrect.)
                IEnumerable<char> replacements = i < 6 ? "xM0:;2 ".Where(c => char.ToLowerInvariant(c) != text[i]) : (Alphabet + "019-_+/=").Where(c => c != text[i]);
                foreach (char c in replacements)
                {
                    string mutated = string.Concat(text.AsSpan(0, i), c.ToString(), text.AsSpan(i + 1));
                    JoinTokenError error = ParseError(mutated);
                    if (i >= 6)
                    {
                        Assert.Equal(JoinTokenErrorKind.Damaged, error.Kind);
                    }

                    checkedCount++;
                }
            }

            Assert.True(checkedCount > text.Length * 30);
        }
    }

    [Fact]
    public void Every_truncation_is_reported_as_truncated()
    {
        foreach (string text in SampleTokens())
        {
            for (int length = 1; length < text.Length; length++)
            {
                JoinTokenError error = ParseError(text[..length]);
                Assert.True(error.Kind == JoinTokenErrorKind.Truncated, $"prefix of {length} characters: {error.Message}");
            }
        }
    }

    /// <summary>
    /// After "mesh1:" come the 5 characters of the 3-byte header (layout, length, CRC-8 of both). A slip that shifts
    /// the header passes its 8-bit check once in 256 and then reads a random length: the token is still refused, but
    /// it may be called cut short rather than damaged (both messages say to copy the token again). Past the header the
    /// length is intact and every slip is "damaged".
    /// </summary>
    private const int FirstCharacterAfterHeader = 6 + 5;

    private static void AssertDetected(JoinTokenError error, int position, string what)
    {
        if (position < FirstCharacterAfterHeader)
        {
            Assert.True(error.Kind is JoinTokenErrorKind.Damaged or JoinTokenErrorKind.Truncated, $"{what} at {position}: {error.Kind}");
        }
        else
        {
            Assert.True(error.Kind == JoinTokenErrorKind.Damaged, $"{what} at {position}: {error.Kind} ({error.Message})");
        }
    }

    [Fact]
    public void Every_single_deletion_and_insertion_is_detected()
    {
        foreach (string text in SampleTokens())
        {
            for (int i = 0; i < text.Length; i++)
            {
                ParseError(text.Remove(i, 1));
                foreach (char c in "a7q")
                {
                    JoinTokenError error = ParseError(text.Insert(i, c.ToString()));
                    if (i >= 6)
                    {
                        AssertDetected(error, i, $"'{c}' inserted");
                    }
                }
            }

            // Two neighbours swapped: a 10-bit burst, still inside CRC-32C's guarantee.
            for (int i = 6; i + 1 < text.Length; i++)
            {
                if (text[i] != text[i + 1])
                {
                    char[] swapped = text.ToCharArray();
                    (swapped[i], swapped[i + 1]) = (swapped[i + 1], swapped[i]);
                    AssertDetected(ParseError(new string(swapped)), i, "neighbours swapped");
                }
            }
        }
    }

    /// <summary>The realistic token and a few random ones (different lengths, so different last-character padding).</summary>
    private static IEnumerable<string> SampleTokens()
    {
        yield return RealisticToken().ToString();
        foreach (JoinToken token in TokenGen.Sample(6, 5))
        {
            yield return token.ToString();
        }
    }

    [Fact]
    public void Parsing_never_throws_on_arbitrary_text()
    {
        Gen<string> anyText = ArbMap.Default.GeneratorFor<string>().Select(s => s ?? string.Empty);
        Gen<string> tokenLike =
            from length in Gen.Choose(0, 420)
            from chars in Gen.ArrayOf(Gen.Elements((Alphabet + "AZ 0").ToCharArray()), length)
            select "mesh1:" + new string(chars);
        Check.One(Config(2000), Prop.ForAll(Arb.From(Gen.OneOf(anyText, tokenLike)), (string text) =>
        {
            _ = JoinToken.TryParse(text, out _, out JoinTokenError error);
            _ = JoinToken.TryParse(text, Now, out _, out _);
            Assert.NotNull(error.Message);
        }));
    }

    [Fact]
    public void Parsing_never_throws_on_random_contents_behind_valid_checksums()
    {
        // The field reader only ever sees bytes that passed both CRCs; fuzz it there directly.
        Gen<byte[]> bodies =
            from length in Gen.Choose(91, 241)
            from bytes in Bytes(length)
            select bytes;
        Check.One(Config(3000), Prop.ForAll(Arb.From(bodies), (byte[] payload) =>
        {
            byte[] binary = new byte[payload.Length + 4];
            payload.CopyTo(binary, 0);
            binary[0] = 1;
            binary[1] = (byte)binary.Length;
            binary[2] = Crc8Model(binary.AsSpan(0, 2));
            BinaryPrimitives.WriteUInt32BigEndian(binary.AsSpan(binary.Length - 4), Crc32CModel(binary.AsSpan(0, binary.Length - 4)));
            string text = "mesh1:" + EncodeBase32Model(binary);
            if (JoinToken.TryParse(text, out JoinToken? token, out JoinTokenError error))
            {
                Assert.Equal(text, token!.ToString());
            }
            else
            {
                Assert.Equal(JoinTokenErrorKind.Damaged, error.Kind);
            }
        }));
    }

    [Fact]
    public void The_constructor_refuses_bad_contents_with_a_reason()
    {
        byte[] key = Pattern(32, 1);
        byte[] secret = Pattern(16, 2);
        IPEndPoint[] one = [new(IPAddress.Loopback, 51820)];
        DateTimeOffset expiry = Now.AddHours(1);

        Assert.Contains("at least one endpoint or relay", Assert.Throws<ArgumentException>(() => new JoinToken("net", key, key, [], [], secret, expiry)).Message, StringComparison.Ordinal);
        Assert.Contains("control character", Assert.Throws<ArgumentException>(() => new JoinToken("net\u001b[31m", key, key, one, [], secret, expiry)).Message, StringComparison.Ordinal);
        Assert.Contains("is empty", Assert.Throws<ArgumentException>(() => new JoinToken("", key, key, one, [], secret, expiry)).Message, StringComparison.Ordinal);
        Assert.Contains("33 bytes", Assert.Throws<ArgumentException>(() => new JoinToken(new string('n', 33), key, key, one, [], secret, expiry)).Message, StringComparison.Ordinal);
        Assert.Contains("16 bytes", Assert.Throws<ArgumentException>(() => new JoinToken("net", key, key, one, [], Pattern(32, 3), expiry)).Message, StringComparison.Ordinal);
        Assert.Contains("port", Assert.Throws<ArgumentException>(() => new JoinToken("net", key, key, [new(IPAddress.Loopback, 0)], [], secret, expiry)).Message, StringComparison.Ordinal);
        Assert.Contains("1970..9999", Assert.Throws<ArgumentException>(() => new JoinToken("net", key, key, one, [], secret, DateTimeOffset.UnixEpoch)).Message, StringComparison.Ordinal);

        IPEndPoint[] many = Enumerable.Range(1, 8).Select(i => new IPEndPoint(IPAddress.Parse($"2001:db8::{i}"), 51820)).ToArray();
        RelayAddress[] long4 = Enumerable.Range(1, 4).Select(i => new RelayAddress($"relay{i}.a-rather-long-relay-domain-name.example.org", 443)).ToArray();
        ArgumentException tooLong = Assert.Throws<ArgumentException>(() => new JoinToken("net", key, key, many, long4, secret, expiry));
        Assert.Contains("characters long (at most 399)", tooLong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Relay_addresses_parse_and_print_canonically()
    {
        Assert.True(RelayAddress.TryParse("Relay.Example.ORG:3478", out RelayAddress named));
        Assert.Equal("relay.example.org:3478", named.ToString());
        Assert.Null(named.Address);
        Assert.True(RelayAddress.TryParse("[2001:DB8::1]:443", out RelayAddress v6));
        Assert.Equal("[2001:db8::1]:443", v6.ToString());
        Assert.Equal(IPAddress.Parse("2001:db8::1"), v6.Address);
        Assert.True(RelayAddress.TryParse("192.0.2.1:3478", out RelayAddress v4));
        Assert.Equal("192.0.2.1:3478", v4.ToString());
        foreach (string bad in new[] { "", "relay", "relay:0", "relay:70000", "-bad.example:1", "a..b:1", "2001:db8::1:443", "[192.0.2.1]:1", "rel ay:1" })
        {
            Assert.False(RelayAddress.TryParse(bad, out _), bad);
        }
    }

    // ---- independent model of the encoding, written from RFC 4648 and the CRC catalogue ----

    private static byte[] DecodeBase32Model(string text)
    {
        var bits = new List<int>();
        foreach (char c in text)
        {
            int v = Alphabet.IndexOf(c, StringComparison.Ordinal);
            Assert.True(v >= 0);
            for (int b = 4; b >= 0; b--)
            {
                bits.Add((v >> b) & 1);
            }
        }

        var bytes = new byte[bits.Count / 8];
        for (int i = 0; i < bytes.Length * 8; i++)
        {
            bytes[i / 8] |= (byte)(bits[i] << (7 - i % 8));
        }

        Assert.All(bits.Skip(bytes.Length * 8), b => Assert.Equal(0, b));
        return bytes;
    }

    private static string EncodeBase32Model(byte[] bytes)
    {
        var bits = bytes.SelectMany(b => Enumerable.Range(0, 8).Select(i => (b >> (7 - i)) & 1)).ToList();
        while (bits.Count % 5 != 0)
        {
            bits.Add(0);
        }

        var text = new StringBuilder();
        for (int i = 0; i < bits.Count; i += 5)
        {
            text.Append(Alphabet[bits.Skip(i).Take(5).Aggregate(0, (v, b) => (v << 1) | b)]);
        }

        return text.ToString();
    }

    internal static byte Crc8Model(ReadOnlySpan<byte> data)
    {
        int crc = 0;
        foreach (byte b in data)
        {
            for (int i = 7; i >= 0; i--)
            {
                int top = ((crc >> 7) & 1) ^ ((b >> i) & 1);
                crc = ((crc << 1) & 0xFF) ^ (top != 0 ? 0x07 : 0);
            }
        }

        return (byte)crc;
    }

    internal static uint Crc32CModel(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
