using System.Buffers.Binary;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Invitations;

namespace MeshAgent.Tests.Invitations;

/// <summary>
/// Round trips and robustness of the join message codecs. The round trips compare the writer's
/// bytes with the documented layouts (fields concatenated, integers big-endian), and every reader
/// is fed random bytes, truncations and extensions of valid encodings without throwing.
/// </summary>
public sealed class JoinMessagesTests
{
    private static readonly Gen<byte> AnyByte = ArbMap.Default.GeneratorFor<byte>();

    private static Gen<byte[]> Bytes(int n) => Gen.ArrayOf(AnyByte, n);

    private static readonly Gen<byte[]> AnyBlob = Gen.Choose(0, 200).SelectMany(Bytes);

    private static readonly Gen<ulong> AnyULong =
        from hi in ArbMap.Default.GeneratorFor<uint>()
        from lo in ArbMap.Default.GeneratorFor<uint>()
        select ((ulong)hi << 32) | lo;

    private static readonly Gen<string?> NameGen =
        from length in Gen.Choose(0, 15)
        from chars in Gen.ArrayOf(Gen.Elements("ab-_.Z9 éß日😀".EnumerateRunes().Select(r => r.ToString()).ToArray()), length)
        select length == 0 ? null : string.Concat(chars);

    private static readonly Gen<JoinRequest> RequestGen =
        from id in AnyULong
        from key in Bytes(32)
        from proof in Bytes(64)
        from name in NameGen
        select new JoinRequest(new JoinTokenId(id), key, proof, name);

    private static readonly Gen<JoinResponse> ResponseGen =
        from status in Gen.Choose(1, 6)
        from reason in NameGen
        from certificate in AnyBlob
        from snapshot in AnyBlob
        select new JoinResponse((JoinStatus)status, reason, certificate, snapshot);

    private static readonly Gen<UsedTokenRecord> RecordGen =
        from id in AnyULong
        from usedAt in Gen.Choose(0, int.MaxValue)
        from validFor in Gen.Choose(0, 1_000_000)
        from admin in Bytes(32)
        from signatureLength in Gen.Elements(0, 64)
        from signature in Bytes(signatureLength)
        select new UsedTokenRecord(new JoinTokenId(id), DateTimeOffset.FromUnixTimeSeconds(usedAt),
            DateTimeOffset.FromUnixTimeSeconds((long)usedAt + validFor), admin, signature);

    private static FsCheck.Config Config(int maxTest = 300) => FsCheck.Config.QuickThrowOnFailure.WithMaxTest(maxTest);

    private static byte[] Be64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] Be32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Every proper prefix and a one-byte extension of a valid encoding must be refused.</summary>
    private static void AssertExactLengthOnly(byte[] encoded, Func<byte[], bool> tryRead)
    {
        for (int length = 0; length < encoded.Length; length++)
        {
            Assert.False(tryRead(encoded[..length]), $"a {length}-byte prefix of {encoded.Length} was accepted");
        }

        Assert.False(tryRead([.. encoded, 0]), "an encoding with a trailing byte was accepted");
    }

    [Fact]
    public void JoinRequest_round_trips_in_the_documented_layout()
    {
        Check.One(Config(), Prop.ForAll(Arb.From(RequestGen), (JoinRequest request) =>
        {
            var buffer = new byte[request.Size];
            Assert.Equal(request.Size, request.Write(buffer));
            byte[] name = request.RequestedName is null ? [] : Encoding.UTF8.GetBytes(request.RequestedName);
            Assert.Equal(Concat(Be64(request.TokenId.Value), request.JoinerIdentityPublicKey.ToArray(), request.Proof.ToArray(), [(byte)name.Length], name), buffer);

            Assert.True(JoinRequest.TryRead(buffer, out JoinRequest? read));
            Assert.Equal(request.TokenId, read!.TokenId);
            Assert.Equal(request.JoinerIdentityPublicKey.ToArray(), read.JoinerIdentityPublicKey.ToArray());
            Assert.Equal(request.Proof.ToArray(), read.Proof.ToArray());
            Assert.Equal(request.RequestedName, read.RequestedName);
            AssertExactLengthOnly(buffer, b => JoinRequest.TryRead(b, out _));
        }));
    }

    [Fact]
    public void JoinResponse_round_trips_in_the_documented_layout()
    {
        Check.One(Config(), Prop.ForAll(Arb.From(ResponseGen), (JoinResponse response) =>
        {
            var buffer = new byte[response.Size];
            Assert.Equal(response.Size, response.Write(buffer));
            byte[] reason = Encoding.UTF8.GetBytes(response.Reason);
            byte[] expected = Concat(
                [(byte)response.Status, (byte)(reason.Length >> 8), (byte)reason.Length], reason,
                Be32((uint)response.Certificate.Length), response.Certificate.ToArray(),
                Be32((uint)response.MembershipSnapshot.Length), response.MembershipSnapshot.ToArray());
            Assert.Equal(expected, buffer);

            Assert.True(JoinResponse.TryRead(buffer, out JoinResponse? read));
            Assert.Equal(response.Status, read!.Status);
            Assert.Equal(response.Reason, read.Reason);
            Assert.Equal(response.Certificate.ToArray(), read.Certificate.ToArray());
            Assert.Equal(response.MembershipSnapshot.ToArray(), read.MembershipSnapshot.ToArray());
            AssertExactLengthOnly(buffer, b => JoinResponse.TryRead(b, out _));
        }));
    }

    [Fact]
    public void UsedTokenRecord_round_trips_and_signs_everything_but_the_signature()
    {
        Check.One(Config(), Prop.ForAll(Arb.From(RecordGen), (UsedTokenRecord record) =>
        {
            byte[] bytes = record.ToArray();
            byte[] fixedPart = Concat([1], Be64(record.TokenId.Value),
                Be64((ulong)record.UsedAt.ToUnixTimeSeconds()), Be64((ulong)record.ExpiresAt.ToUnixTimeSeconds()),
                record.AdminIdentityPublicKey.ToArray());
            Assert.Equal(Concat(fixedPart, [(byte)record.Signature.Length], record.Signature.ToArray()), bytes);
            Assert.Equal(Concat("meshagent used token v1\0"u8.ToArray(), fixedPart), record.GetSignedBytes());

            Assert.True(UsedTokenRecord.TryRead(bytes, out UsedTokenRecord? read));
            Assert.Equal(bytes, read!.ToArray());
            Assert.Equal(record.TokenId, read.TokenId);
            Assert.Equal(record.UsedAt, read.UsedAt);
            Assert.Equal(record.ExpiresAt, read.ExpiresAt);
            AssertExactLengthOnly(bytes, b => UsedTokenRecord.TryRead(b, out _));

            // Signing changes the signature only, never what was signed.
            UsedTokenRecord signed = record.WithSignature(new byte[64]);
            Assert.Equal(record.GetSignedBytes(), signed.GetSignedBytes());
        }));
    }

    [Fact]
    public void Headers_round_trip_and_never_look_like_wireguard_or_stun()
    {
        Check.One(Config(), Prop.ForAll(Arb.From(Gen.Choose(1, 5)), Arb.From(ArbMap.Default.GeneratorFor<uint>()), (int type, uint session) =>
        {
            var header = new byte[JoinMessages.HeaderSize];
            JoinMessages.WriteHeader(header, (JoinMessageType)type, session);
            Assert.Equal(Concat("mj"u8.ToArray(), [1, (byte)type], Be32(session)), header);
            Assert.True(JoinMessages.TryReadHeader(header, out JoinMessageType readType, out uint readSession));
            Assert.Equal((JoinMessageType)type, readType);
            Assert.Equal(session, readSession);

            Assert.False(header[0] is >= 1 and <= 4, "WireGuard message types are 1..4");
            Assert.NotEqual(0, header[0] & 0xC0); // STUN messages start with two zero bits (RFC 8489 §5)
            Assert.False(JoinMessages.TryReadHeader(header.AsSpan(0, 7), out _, out _));
        }));

        Assert.False(JoinMessages.TryReadHeader("mj\u0001\u0006\0\0\0\0"u8, out _, out _)); // type 6 does not exist
        Assert.False(JoinMessages.TryReadHeader("mj\u0002\u0001\0\0\0\0"u8, out _, out _)); // version 2 is not ours
    }

    [Fact]
    public void Readers_never_throw_on_random_bytes()
    {
        Gen<byte[]> datagrams = Gen.Choose(0, 400).SelectMany(Bytes);
        Check.One(Config(3000), Prop.ForAll(Arb.From(datagrams), (byte[] data) =>
        {
            _ = JoinMessages.TryReadHeader(data, out _, out _);
            _ = JoinRequest.TryRead(data, out _);
            _ = JoinResponse.TryRead(data, out _);
            _ = UsedTokenRecord.TryRead(data, out _);

            // Random bytes behind plausible fixed parts reach the deeper branches.
            if (data.Length >= JoinRequest.FixedSize)
            {
                data[104] = (byte)(data.Length - JoinRequest.FixedSize);
                _ = JoinRequest.TryRead(data, out _);
            }

            if (data.Length >= UsedTokenRecord.FixedSize)
            {
                data[0] = 1;
                data[UsedTokenRecord.FixedSize - 1] = (byte)Math.Min(255, data.Length - UsedTokenRecord.FixedSize);
                _ = UsedTokenRecord.TryRead(data, out _);
            }
        }));
    }

    [Fact]
    public void Constructors_refuse_what_the_wire_cannot_carry()
    {
        byte[] key = new byte[32];
        byte[] proof = new byte[64];
        Assert.Throws<ArgumentException>(() => new JoinRequest(default, new byte[31], proof, null));
        Assert.Throws<ArgumentException>(() => new JoinRequest(default, key, new byte[63], null));
        Assert.Throws<ArgumentException>(() => new JoinRequest(default, key, proof, new string('n', 64)));
        Assert.Throws<ArgumentException>(() => new JoinRequest(default, key, proof, "bell\a"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new JoinResponse((JoinStatus)0, null, [], []));
        Assert.Throws<ArgumentException>(() => new JoinResponse(JoinStatus.Refused, new string('r', 1025), [], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => JoinDecision.Refuse(JoinStatus.Accepted));
        Assert.Throws<ArgumentException>(() => new UsedTokenRecord(default, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, new byte[31], []));
    }

    [Fact]
    public void Every_status_has_a_message_that_says_what_to_do()
    {
        foreach (JoinStatus status in Enum.GetValues<JoinStatus>())
        {
            string text = JoinStatusText.Describe(status, "pool 100.96.0.0/16 is full\u001b[2J");
            Assert.DoesNotContain('\u001b', text);
            if (status != JoinStatus.Accepted)
            {
                Assert.Contains("—", text, StringComparison.Ordinal);
            }
        }

        Assert.Contains("already been used", JoinStatusText.Describe(JoinStatus.TokenUsed), StringComparison.Ordinal);
        Assert.Contains("meshagent invite", JoinStatusText.Describe(JoinStatus.TokenExpired), StringComparison.Ordinal);
        Assert.Contains("(pool full)", JoinStatusText.Describe(JoinStatus.Refused, "pool full"), StringComparison.Ordinal);
    }
}
