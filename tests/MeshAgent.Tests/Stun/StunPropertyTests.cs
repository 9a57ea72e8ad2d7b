using System.Buffers.Binary;
using System.Net;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Net;
using MeshAgent.Core.Stun;

namespace MeshAgent.Tests.Stun;

/// <summary>
/// Properties of the STUN codec (STYLE rule 9): whatever the writer produces, the reader gives
/// back field for field; and no byte sequence — random, STUN-shaped with random attributes, or a
/// valid message mutated, truncated or extended — makes any reader method throw.
/// </summary>
public sealed class StunPropertyTests
{
    private static readonly Gen<byte> AnyByte = ArbMap.Default.GeneratorFor<byte>();

    private static Gen<byte[]> Bytes(int n) => Gen.ArrayOf(AnyByte, n);

    private static readonly Gen<StunTransactionId> IdGen = Bytes(12).Select(b => StunTransactionId.Read(b));

    private static readonly Gen<UdpEndpoint> EndpointGen =
        from v6 in ArbMap.Default.GeneratorFor<bool>()
        from address in Bytes(v6 ? 16 : 4)
        from port in Gen.Choose(0, 65535)
        select new UdpEndpoint(new IPAddress(address), port);

    private static readonly Gen<string> TextGen =
        from length in Gen.Choose(0, 40)
        from chars in Gen.ArrayOf(Gen.Elements("aZ9 -_.é日😀".EnumerateRunes().Select(r => r.ToString()).ToArray()), length)
        select string.Concat(chars);

    private sealed record Model(
        StunMethod Method,
        StunClass Class,
        StunTransactionId Id,
        UdpEndpoint? XorMapped,
        UdpEndpoint? Mapped,
        string Software,
        (int Code, string Reason)? Error,
        ushort[] Unknown,
        byte[][] Optional,
        byte[]? Key,
        bool Fingerprint);

    private static readonly Gen<Model> ModelGen =
        from method in Gen.Choose(0, 0xFFF)
        from cls in Gen.Elements(Enum.GetValues<StunClass>())
        from id in IdGen
        from xor in Gen.OneOf(Gen.Constant<UdpEndpoint?>(null), EndpointGen.Select(e => (UdpEndpoint?)e))
        from mapped in Gen.OneOf(Gen.Constant<UdpEndpoint?>(null), EndpointGen.Select(e => (UdpEndpoint?)e))
        from software in TextGen
        from hasError in ArbMap.Default.GeneratorFor<bool>()
        from code in Gen.Choose(300, 699)
        from reason in TextGen
        from unknownCount in Gen.Choose(0, 5)
        from unknown in Gen.ArrayOf(Gen.Choose(0, 0xFFFF).Select(x => (ushort)x), unknownCount)
        from optionalCount in Gen.Choose(0, 3)
        from optional in Gen.ArrayOf(Gen.Choose(0, 13).SelectMany(Bytes), optionalCount)
        from hasKey in ArbMap.Default.GeneratorFor<bool>()
        from key in Gen.Choose(1, 40).SelectMany(Bytes)
        from fingerprint in ArbMap.Default.GeneratorFor<bool>()
        select new Model((StunMethod)method, cls, id, xor, mapped, software, hasError ? (code, reason) : null, unknown, optional, hasKey ? key : null, fingerprint);

    private static FsCheck.Config Config(int maxTest = 500) => FsCheck.Config.QuickThrowOnFailure.WithMaxTest(maxTest);

    [Fact]
    public void Written_messages_read_back_field_for_field()
    {
        Check.One(Config(), Prop.ForAll(Arb.From(ModelGen), (Model model) =>
        {
            byte[] buffer = new byte[1024];
            Array.Fill(buffer, (byte)0xEE);
            int length = Write(model, buffer);
            Assert.All(buffer[length..], b => Assert.Equal(0xEE, b)); // nothing written past the message
            byte[] message = buffer[..length];

            Assert.True(StunMessage.LooksLikeStun(message));
            Assert.Equal(StunReadResult.Success, StunMessage.TryRead(message, out StunMessage m));
            Assert.Equal(model.Method, m.Method);
            Assert.Equal(model.Class, m.Class);
            Assert.Equal(model.Id, m.TransactionId);
            Assert.Equal(model.Fingerprint, m.HasFingerprint);
            Assert.Equal(model.Key is not null, m.HasMessageIntegrity);
            if (model.Key is not null)
            {
                Assert.True(m.VerifyMessageIntegrity(model.Key));
                // (Not key ‖ 0: HMAC zero-pads short keys, so that one is the same key.)
                Assert.False(m.VerifyMessageIntegrity([(byte)(model.Key[0] ^ 1), .. model.Key[1..]]));
            }

            Assert.Equal(model.XorMapped is not null, m.TryGetXorMappedAddress(out UdpEndpoint xor));
            Assert.Equal(model.XorMapped ?? default, xor);
            Assert.Equal(model.Mapped is not null, m.TryGetMappedAddress(out UdpEndpoint mapped));
            Assert.Equal(model.Mapped ?? default, mapped);
            Assert.Equal(model.Software.Length > 0, m.TryGetSoftware(out ReadOnlySpan<byte> software));
            Assert.Equal(model.Software, Encoding.UTF8.GetString(software));
            Assert.Equal(model.Error is not null, m.TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason));
            Assert.Equal(model.Error?.Code ?? 0, code);
            Assert.Equal(model.Error?.Reason ?? "", Encoding.UTF8.GetString(reason));
            ushort[] unknown = new ushort[8];
            int listed = m.GetUnknownAttributes(unknown);
            Assert.Equal(model.Unknown.Length > 0 ? model.Unknown.Length : -1, listed);
            Assert.Equal(model.Unknown, unknown[..Math.Max(0, listed)]);

            int index = 0;
            foreach (StunAttribute attribute in m.Attributes)
            {
                if (attribute.Type == 0x8000 + index)
                {
                    Assert.Equal(model.Optional[index++], attribute.Value.ToArray());
                }
            }

            Assert.Equal(model.Optional.Length, index);
            Assert.False(m.HasUnknownComprehensionRequired); // only RFC 8489 attributes and optional ones were written
        }));
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        Gen<byte[]> datagrams = Gen.Choose(0, 120).SelectMany(Bytes);
        Check.One(Config(3000), Prop.ForAll(Arb.From(datagrams), (byte[] data) => ReadEverything(data)));
    }

    [Fact]
    public void Stun_shaped_datagrams_with_random_attributes_never_throw()
    {
        // Valid header, so every datagram reaches the attribute walk; attribute types drawn mostly
        // from the ones the reader interprets, with random lengths that may or may not fit.
        Gen<ushort> typeGen = Gen.OneOf(
            Gen.Elements(
                StunAttributeType.MappedAddress, StunAttributeType.XorMappedAddress, StunAttributeType.ErrorCode,
                StunAttributeType.UnknownAttributes, StunAttributeType.MessageIntegrity, StunAttributeType.MessageIntegritySha256,
                StunAttributeType.Fingerprint, StunAttributeType.Software, (ushort)0x0024),
            Gen.Choose(0, 0xFFFF).Select(x => (ushort)x));
        Gen<byte[]> attributeGen =
            from type in typeGen
            from length in Gen.Frequency((3, Gen.Choose(0, 24)), (1, Gen.Choose(0, 0xFFFF)))
            from body in Gen.Choose(0, 28).SelectMany(Bytes)
            select (byte[])[(byte)(type >> 8), (byte)type, (byte)(length >> 8), (byte)length, .. body];
        Gen<byte[]> datagrams =
            from header in Bytes(20)
            from count in Gen.Choose(0, 6)
            from attributes in Gen.ArrayOf(attributeGen, count)
            select StunShaped(header, attributes.SelectMany(a => a).ToArray());
        Check.One(Config(3000), Prop.ForAll(Arb.From(datagrams), (byte[] data) =>
        {
            Assert.True(StunMessage.LooksLikeStun(data));
            ReadEverything(data);
        }));
    }

    [Fact]
    public void Mutated_valid_messages_never_throw()
    {
        Gen<(byte[] Message, int Position, byte Value, int Cut, int Extra)> mutations =
            from model in ModelGen
            let message = WriteToArray(model)
            from position in Gen.Choose(0, message.Length - 1)
            from value in AnyByte
            from cut in Gen.Choose(0, message.Length)
            from extra in Gen.Choose(0, 8)
            select (message, position, value, cut, extra);
        Check.One(Config(1000), Prop.ForAll(Arb.From(mutations), ((byte[] Message, int Position, byte Value, int Cut, int Extra) m) =>
        {
            byte[] changed = (byte[])m.Message.Clone();
            changed[m.Position] = m.Value;
            ReadEverything(changed);
            ReadEverything(m.Message.AsSpan(0, m.Cut));
            ReadEverything([.. m.Message, .. new byte[m.Extra]]);

            // The same mutations with the length field kept consistent, so they get past LooksLikeStun.
            byte[] truncated = m.Message[..(20 + ((Math.Max(m.Cut, 20) - 20) & ~3))];
            BinaryPrimitives.WriteUInt16BigEndian(truncated.AsSpan(2), (ushort)(truncated.Length - 20));
            ReadEverything(truncated);
        }));
    }

    private static byte[] StunShaped(byte[] header, byte[] body)
    {
        int length = (body.Length + 3) & ~3;
        byte[] message = new byte[20 + length];
        header.CopyTo(message, 0);
        body.CopyTo(message, 20);
        message[0] &= 0x3F;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)length);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), StunMessage.MagicCookie);
        return message;
    }

    // Calls every reader entry point; any exception fails the property.
    private static void ReadEverything(ReadOnlySpan<byte> data)
    {
        _ = StunMessage.LooksLikeStun(data);
        if (StunMessage.TryRead(data, out StunMessage m) != StunReadResult.Success)
        {
            return;
        }

        _ = m.Type;
        _ = m.TransactionId;
        foreach (StunAttribute attribute in m.Attributes)
        {
            _ = attribute.Value.Length;
        }

        _ = m.TryGetXorMappedAddress(out _);
        _ = m.TryGetMappedAddress(out _);
        _ = m.TryGetSoftware(out _);
        _ = m.TryGetErrorCode(out _, out _);
        _ = m.GetUnknownAttributes(stackalloc ushort[4]);
        _ = m.HasUnknownComprehensionRequired;
        _ = m.GetUnknownComprehensionRequired(stackalloc ushort[4]);
        _ = m.VerifyMessageIntegrity("key"u8);
        var responder = new StunResponder();
        _ = responder.Respond(data, new UdpEndpoint(IPAddress.Loopback, 1), new byte[StunResponder.MaxResponseSize]);
    }

    private static byte[] WriteToArray(Model model)
    {
        byte[] buffer = new byte[1024];
        return buffer[..Write(model, buffer)];
    }

    private static int Write(Model model, Span<byte> buffer)
    {
        var writer = new StunMessageWriter(buffer, new StunMessageType(model.Method, model.Class), model.Id);
        if (model.Software.Length > 0)
        {
            writer.AddSoftware(model.Software);
        }

        for (int i = 0; i < model.Optional.Length; i++)
        {
            writer.AddAttribute((ushort)(0x8000 + i), model.Optional[i]);
        }

        if (model.XorMapped is { } xor)
        {
            writer.AddXorMappedAddress(xor);
        }

        if (model.Mapped is { } mapped)
        {
            writer.AddMappedAddress(mapped);
        }

        if (model.Error is { } error)
        {
            writer.AddErrorCode(error.Code, error.Reason);
        }

        if (model.Unknown.Length > 0)
        {
            writer.AddUnknownAttributes(model.Unknown);
        }

        if (model.Key is not null)
        {
            writer.AddMessageIntegrity(model.Key);
        }

        if (model.Fingerprint)
        {
            writer.AddFingerprint();
        }

        return writer.Length;
    }
}
