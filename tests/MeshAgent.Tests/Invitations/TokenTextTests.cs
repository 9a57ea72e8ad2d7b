using System.Text;
using MeshAgent.Core.Invitations;
using MeshAgent.Tests.Support;

namespace MeshAgent.Tests.Invitations;

/// <summary>The token's text primitives against published vectors (files under Vectors/Invitations).</summary>
public sealed class TokenTextTests
{
    [Fact]
    public void Base32_matches_rfc4648_section10_in_lowercase_without_padding()
    {
        foreach (VectorCase v in VectorFile.Load("Invitations", "base32-rfc4648.txt"))
        {
            byte[] input = Encoding.ASCII.GetBytes(v.Text("input"));
            string expected = v.Text("base32");

            Assert.Equal(expected.Length, TokenText.EncodedLength(input.Length));
            var chars = new char[expected.Length];
            TokenText.Encode(input, chars);
            Assert.Equal(expected, new string(chars));

            var decoded = new byte[input.Length];
            Assert.Equal(0, TokenText.Decode(expected, decoded));
            Assert.Equal(input, decoded);
            Assert.Equal(0, TokenText.Decode(expected.ToUpperInvariant(), decoded));
            Assert.Equal(input, decoded);
        }
    }

    [Fact]
    public void Checksums_match_the_crc_catalogue_check_values()
    {
        VectorCase v = Assert.Single(VectorFile.Load("Invitations", "crc-check-values.txt"));
        byte[] input = Encoding.ASCII.GetBytes(v.Text("input"));
        Assert.Equal(v.Hex("crc8-smbus")[0], TokenText.Crc8(input));
        Assert.Equal(Convert.ToHexStringLower(v.Hex("crc32-iscsi")), TokenText.Crc32C(input).ToString("x8"));

        // And the test-side bitwise models used by the layout test agree on the same input.
        Assert.Equal(TokenText.Crc8(input), JoinTokenTests.Crc8Model(input));
        Assert.Equal(TokenText.Crc32C(input), JoinTokenTests.Crc32CModel(input));
    }
}
