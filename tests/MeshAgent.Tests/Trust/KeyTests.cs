using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Trust;

namespace MeshAgent.Tests.Trust;

public sealed class KeyTests
{
    [Fact]
    public void Public_keys_round_trip_through_their_prefixed_text_forms()
    {
        using NetworkRootKey root = TrustFixtures.Root();
        using NodeIdentity node = TrustFixtures.Node();

        string rootText = root.PublicKey.ToString();
        Assert.StartsWith("meshroot1:", rootText, StringComparison.Ordinal);
        Assert.Equal("meshroot1:".Length + 43, rootText.Length);
        Assert.Equal(root.PublicKey, NetworkRootPublicKey.Parse(rootText));

        string nodeText = node.PublicKey.ToString();
        Assert.StartsWith("meshnode1:", nodeText, StringComparison.Ordinal);
        Assert.Equal(node.PublicKey, NodePublicKey.Parse(nodeText));
        Assert.DoesNotContain('=', nodeText);
    }

    [Fact]
    public void A_key_of_one_kind_is_not_accepted_as_another()
    {
        using NetworkRootKey root = TrustFixtures.Root();
        using NodeIdentity node = TrustFixtures.Node();
        Assert.False(NodePublicKey.TryParse(root.PublicKey.ToString(), out _));
        Assert.False(NetworkRootPublicKey.TryParse(node.PublicKey.ToString(), out _));
        Assert.False(NodeIdentity.TryParseSecretText(root.RevealSecretText(), out _));
        Assert.False(NetworkRootKey.TryParseSecretText(node.RevealSecretText(), out _));
        Assert.False(NodePublicKey.TryParse(node.RevealSecretText(), out _));
        FormatException e = Assert.Throws<FormatException>(() => NodePublicKey.Parse(root.PublicKey.ToString()));
        Assert.Contains("starts with 'meshnode1:'", e.Message);
    }

    [Fact]
    public void Only_the_canonical_base64url_text_is_accepted()
    {
        using NodeIdentity node = TrustFixtures.Node();
        string text = node.PublicKey.ToString();
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

        // The last character carries 4 key bits and 2 unused bits; setting an unused bit gives the same bytes.
        int last = alphabet.IndexOf(text[^1]);
        string unusedBitSet = text.Remove(text.Length - 1) + alphabet[last ^ 1];
        Assert.False(NodePublicKey.TryParse(unusedBitSet, out _));

        Assert.False(NodePublicKey.TryParse(text + "=", out _));
        Assert.False(NodePublicKey.TryParse(text.AsSpan(0, text.Length - 1), out _));
        Assert.False(NodePublicKey.TryParse(text.ToUpperInvariant(), out _));
        Assert.False(NodePublicKey.TryParse("meshnode1:" + new string('+', 43), out _)); // standard-base64 characters
        Assert.False(NodePublicKey.TryParse("", out _));
    }

    [Fact]
    public void Parsing_arbitrary_text_never_throws()
    {
        using NodeIdentity node = TrustFixtures.Node();
        string valid = node.PublicKey.ToString();
        Gen<string> texts = Gen.OneOf(
            ArbMap.Default.GeneratorFor<string>().Select(s => s ?? ""),
            from position in Gen.Choose(0, valid.Length - 1)
            from c in ArbMap.Default.GeneratorFor<char>()
            select valid.Remove(position, 1).Insert(position, c.ToString()),
            from tail in Gen.ArrayOf(Gen.Elements("AZaz09-_+/= \t\n\u00e9=".ToCharArray()), 43)
            select "meshnode1:" + new string(tail));
        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(3000), Prop.ForAll(Arb.From(texts), (string text) =>
        {
            bool parsed = NodePublicKey.TryParse(text, out NodePublicKey key);
            Assert.Equal(parsed, parsed && key.ToString() == text); // accepted text is exactly the canonical form
            _ = NetworkRootPublicKey.TryParse(text, out _);
            if (NodeIdentity.TryParseSecretText(text, out NodeIdentity? identity))
            {
                identity.Dispose();
            }

            if (NetworkRootKey.TryParseSecretText(text, out NetworkRootKey? root))
            {
                root.Dispose();
            }
        }));
    }

    [Fact]
    public void Secret_text_round_trips_and_is_never_printed_by_ToString()
    {
        using NetworkRootKey root = TrustFixtures.Root();
        string secret = root.RevealSecretText();
        Assert.StartsWith("meshrootsecret1:", secret, StringComparison.Ordinal);
        Assert.True(NetworkRootKey.TryParseSecretText(secret, out NetworkRootKey? restored));
        using (restored)
        {
            Assert.Equal(root.PublicKey, restored!.PublicKey);
        }

        using NodeIdentity node = TrustFixtures.Node();
        Assert.True(NodeIdentity.TryParseSecretText(node.RevealSecretText(), out NodeIdentity? restoredNode));
        using (restoredNode)
        {
            Assert.Equal(node.PublicKey, restoredNode!.PublicKey);
            Assert.Equal(node.WireGuardPublicKey, restoredNode.WireGuardPublicKey);
        }

        string payload = secret["meshrootsecret1:".Length..];
        Assert.DoesNotContain(payload, root.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(payload, NetworkRootKey.DescribeInvalidSecretText(secret + "x"), StringComparison.Ordinal);
        Assert.DoesNotContain(node.RevealSecretText()["meshnodesecret1:".Length..], node.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Signatures_are_bound_to_their_context()
    {
        using NodeIdentity node = TrustFixtures.Node();
        byte[] body = [1, 2, 3];
        byte[] signature = new byte[64];
        node.Sign(SigningContexts.MemberState, body, signature);
        Assert.True(node.PublicKey.Verify(SigningContexts.MemberState, body, signature));
        Assert.False(node.PublicKey.Verify(SigningContexts.Certificate, body, signature));
        Assert.False(node.PublicKey.Verify(SigningContexts.MemberState, [1, 2, 4], signature));

        // Contexts are printable ASCII, so the NUL after them is unambiguous.
        Assert.Throws<ArgumentException>(() => node.Sign("bad\0context", body, signature));
        Assert.Throws<ArgumentException>(() => node.Sign("", body, signature));
    }

    [Fact]
    public void Large_bodies_are_signed_through_the_pooled_path_too()
    {
        using NetworkRootKey root = TrustFixtures.Root();
        byte[] body = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        byte[] signature = new byte[64];
        root.Sign(SigningContexts.Revocation, body, signature);
        Assert.True(root.PublicKey.Verify(SigningContexts.Revocation, body, signature));
        body[4999] ^= 1;
        Assert.False(root.PublicKey.Verify(SigningContexts.Revocation, body, signature));
    }

    [Fact]
    public void Disposed_keys_refuse_to_sign()
    {
        NodeIdentity node = TrustFixtures.Node();
        node.Dispose();
        Assert.Throws<ObjectDisposedException>(() => node.Sign(SigningContexts.MemberState, [1], new byte[64]));
        Assert.Throws<ObjectDisposedException>(() => node.WireGuardPrivateKey);
        Assert.Throws<ObjectDisposedException>(() => node.RevealSecretText());

        NetworkRootKey root = TrustFixtures.Root();
        root.Dispose();
        Assert.Throws<ObjectDisposedException>(() => root.Sign(SigningContexts.Certificate, [1], new byte[64]));
    }

    [Fact]
    public void Generated_keys_differ()
    {
        using NodeIdentity a = NodeIdentity.Generate(), b = NodeIdentity.Generate();
        using NetworkRootKey c = NetworkRootKey.Generate(), d = NetworkRootKey.Generate();
        Assert.NotEqual(a.PublicKey, b.PublicKey);
        Assert.NotEqual(c.PublicKey, d.PublicKey);
    }
}
