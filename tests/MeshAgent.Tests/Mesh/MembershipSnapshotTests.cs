using MeshAgent.Engine.Mesh;

namespace MeshAgent.Tests.Mesh;

public sealed class MembershipSnapshotTests
{
    private static MembershipSnapshot Sample(int members, int recordSize = 400) => new()
    {
        NetworkName = "home ✓",
        IPv4Network = "100.96.0.0/16",
        IPv6Prefix = "fd12:3456:789a:1::/64",
        Members = [.. Enumerable.Range(0, members).Select(i => new SnapshotMember(Enumerable.Repeat((byte)i, recordSize).ToArray(), i % 3 != 0, (uint)(1000 + i)))],
        Revocations = [new byte[] { 1, 2, 3 }],
        UsedTokens = [new byte[] { 9, 8 }, new byte[] { 7 }],
    };

    [Fact]
    public void Round_trips_every_field()
    {
        MembershipSnapshot original = Sample(5);
        Assert.True(MembershipSnapshot.TryDecode(original.Encode(), out MembershipSnapshot? decoded, out string? error), error);
        Assert.Equal(original.NetworkName, decoded.NetworkName);
        Assert.Equal(original.IPv4Network, decoded.IPv4Network);
        Assert.Equal(original.IPv6Prefix, decoded.IPv6Prefix);
        Assert.Equal(original.Members.Count, decoded.Members.Count);
        for (int i = 0; i < original.Members.Count; i++)
        {
            Assert.Equal(original.Members[i].Record, decoded.Members[i].Record);
            Assert.Equal(original.Members[i].Alive, decoded.Members[i].Alive);
            Assert.Equal(original.Members[i].Incarnation, decoded.Members[i].Incarnation);
        }

        Assert.Equal(original.Revocations, decoded.Revocations);
        Assert.Equal(original.UsedTokens, decoded.UsedTokens);
    }

    [Fact]
    public void A_large_membership_is_cut_to_fit_one_datagram_keeping_the_first_members()
    {
        MembershipSnapshot large = Sample(200);
        byte[] encoded = large.Encode();
        Assert.True(encoded.Length <= MembershipSnapshot.MaxEncodedSize, $"{encoded.Length} bytes");
        Assert.True(MembershipSnapshot.TryDecode(encoded, out MembershipSnapshot? decoded, out _));
        Assert.InRange(decoded.Members.Count, 10, 199);
        Assert.Equal(large.Members[0].Record, decoded.Members[0].Record);
        Assert.Equal(large.Revocations, decoded.Revocations);
    }

    [Fact]
    public void Truncated_and_corrupted_snapshots_are_refused_without_throwing()
    {
        byte[] encoded = Sample(3, 40).Encode();
        for (int length = 0; length < encoded.Length; length++)
        {
            Assert.False(MembershipSnapshot.TryDecode(encoded.AsSpan(0, length), out _, out string? error), $"prefix of {length} bytes accepted");
            Assert.False(string.IsNullOrEmpty(error));
        }

        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            byte[] mutated = (byte[])encoded.Clone();
            mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            MembershipSnapshot.TryDecode(mutated, out _, out _); // must not throw
            byte[] noise = new byte[random.Next(0, 300)];
            random.NextBytes(noise);
            MembershipSnapshot.TryDecode(noise, out _, out _);
        }
    }
}
