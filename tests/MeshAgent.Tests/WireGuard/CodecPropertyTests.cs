using FsCheck;
using Xunit;
using FsCheck.Fluent;
using MeshAgent.Core.WireGuard;
using static MeshAgent.Tests.WireGuard.WireGuardGens;

namespace MeshAgent.Tests.WireGuard;

/// <summary>
/// Round-trip and robustness properties for every WireGuard message codec (STYLE rule 9). The
/// round trips compare the writer's bytes with an independent model of the layout: the fields
/// concatenated in the order of the whitepaper's message diagrams, integers little-endian.
/// </summary>
public sealed class CodecPropertyTests
{
    private sealed record InitiationFields(uint Sender, byte[] Ephemeral, byte[] EncryptedStatic, byte[] EncryptedTimestamp, byte[] Mac1, byte[] Mac2);

    private sealed record ResponseFields(uint Sender, uint Receiver, byte[] Ephemeral, byte[] EncryptedNothing, byte[] Mac1, byte[] Mac2);

    private sealed record CookieFields(uint Receiver, byte[] Nonce, byte[] EncryptedCookie);

    private sealed record TransportFields(uint Receiver, ulong Counter, byte[] Payload);

    private static readonly Gen<InitiationFields> InitiationGen =
        from sender in AnyUInt32
        from ephemeral in Bytes(32)
        from encryptedStatic in Bytes(48)
        from encryptedTimestamp in Bytes(28)
        from mac1 in Bytes(16)
        from mac2 in Bytes(16)
        select new InitiationFields(sender, ephemeral, encryptedStatic, encryptedTimestamp, mac1, mac2);

    private static readonly Gen<ResponseFields> ResponseGen =
        from sender in AnyUInt32
        from receiver in AnyUInt32
        from ephemeral in Bytes(32)
        from encryptedNothing in Bytes(16)
        from mac1 in Bytes(16)
        from mac2 in Bytes(16)
        select new ResponseFields(sender, receiver, ephemeral, encryptedNothing, mac1, mac2);

    private static readonly Gen<CookieFields> CookieGen =
        from receiver in AnyUInt32
        from nonce in Bytes(24)
        from encryptedCookie in Bytes(32)
        select new CookieFields(receiver, nonce, encryptedCookie);

    private static readonly Gen<TransportFields> TransportGen =
        from receiver in AnyUInt32
        from counter in AnyUInt64
        from length in Gen.Choose(16, 300)
        from payload in Bytes(length)
        select new TransportFields(receiver, counter, payload);

    [Fact]
    public void HandshakeInitiation_round_trips_and_matches_the_spec_layout()
    {
        Check.One(PropertyConfig(), Prop.ForAll(Arb.From(InitiationGen), (InitiationFields f) =>
        {
            byte[] buffer = new byte[HandshakeInitiation.Size + 7]; // longer than needed on purpose
            Array.Fill(buffer, (byte)0xEE);
            byte[] packet = WriteInitiation(buffer, f);

            byte[] expected = Concat([1, 0, 0, 0], Le32(f.Sender), f.Ephemeral, f.EncryptedStatic, f.EncryptedTimestamp, f.Mac1, f.Mac2);
            Assert.Equal(expected, packet);
            Assert.All(buffer[HandshakeInitiation.Size..], b => Assert.Equal(0xEE, b)); // nothing written past the message

            Assert.True(WireGuardMessage.TryGetType(packet, out MessageType type));
            Assert.Equal(MessageType.HandshakeInitiation, type);
            Assert.True(HandshakeInitiation.TryRead(packet, out HandshakeInitiation m));
            Assert.Equal(f.Sender, m.SenderIndex);
            Assert.Equal(f.Ephemeral, m.Ephemeral.ToArray());
            Assert.Equal(f.EncryptedStatic, m.EncryptedStatic.ToArray());
            Assert.Equal(f.EncryptedTimestamp, m.EncryptedTimestamp.ToArray());
            Assert.Equal(f.Mac1, m.Mac1.ToArray());
            Assert.Equal(f.Mac2, m.Mac2.ToArray());
            Assert.Equal(expected[..116], m.Mac1Input.ToArray());
            Assert.Equal(expected[..132], m.Mac2Input.ToArray());
        }));
    }

    [Fact]
    public void HandshakeResponse_round_trips_and_matches_the_spec_layout()
    {
        Check.One(PropertyConfig(), Prop.ForAll(Arb.From(ResponseGen), (ResponseFields f) =>
        {
            byte[] packet = WriteResponse(new byte[HandshakeResponse.Size], f);

            byte[] expected = Concat([2, 0, 0, 0], Le32(f.Sender), Le32(f.Receiver), f.Ephemeral, f.EncryptedNothing, f.Mac1, f.Mac2);
            Assert.Equal(expected, packet);

            Assert.True(WireGuardMessage.TryGetType(packet, out MessageType type));
            Assert.Equal(MessageType.HandshakeResponse, type);
            Assert.True(HandshakeResponse.TryRead(packet, out HandshakeResponse m));
            Assert.Equal(f.Sender, m.SenderIndex);
            Assert.Equal(f.Receiver, m.ReceiverIndex);
            Assert.Equal(f.Ephemeral, m.Ephemeral.ToArray());
            Assert.Equal(f.EncryptedNothing, m.EncryptedNothing.ToArray());
            Assert.Equal(f.Mac1, m.Mac1.ToArray());
            Assert.Equal(f.Mac2, m.Mac2.ToArray());
            Assert.Equal(expected[..60], m.Mac1Input.ToArray());
            Assert.Equal(expected[..76], m.Mac2Input.ToArray());
        }));
    }

    [Fact]
    public void CookieReply_round_trips_and_matches_the_spec_layout()
    {
        Check.One(PropertyConfig(), Prop.ForAll(Arb.From(CookieGen), (CookieFields f) =>
        {
            byte[] packet = WriteCookie(new byte[CookieReply.Size], f);

            byte[] expected = Concat([3, 0, 0, 0], Le32(f.Receiver), f.Nonce, f.EncryptedCookie);
            Assert.Equal(expected, packet);

            Assert.True(WireGuardMessage.TryGetType(packet, out MessageType type));
            Assert.Equal(MessageType.CookieReply, type);
            Assert.True(CookieReply.TryRead(packet, out CookieReply m));
            Assert.Equal(f.Receiver, m.ReceiverIndex);
            Assert.Equal(f.Nonce, m.Nonce.ToArray());
            Assert.Equal(f.EncryptedCookie, m.EncryptedCookie.ToArray());
        }));
    }

    [Fact]
    public void TransportHeader_round_trips_and_matches_the_spec_layout()
    {
        Check.One(PropertyConfig(), Prop.ForAll(Arb.From(TransportGen), (TransportFields f) =>
        {
            byte[] packet = WriteTransport(f);

            byte[] expected = Concat([4, 0, 0, 0], Le32(f.Receiver), Le64(f.Counter), f.Payload);
            Assert.Equal(expected, packet);

            Assert.True(WireGuardMessage.TryGetType(packet, out MessageType type));
            Assert.Equal(MessageType.TransportData, type);
            Assert.True(TransportHeader.TryRead(packet, out TransportHeader m));
            Assert.Equal(f.Receiver, m.ReceiverIndex);
            Assert.Equal(f.Counter, m.Counter);
            Assert.Equal(f.Payload, m.EncryptedPayload.ToArray());
        }));
    }

    [Fact]
    public void Writers_zero_fields_the_caller_did_not_set()
    {
        // A reused pool buffer full of old bytes must not leak into an unset mac2 (which must be
        // all zeros when there is no cookie, whitepaper §5.4.4).
        byte[] buffer = Enumerable.Repeat((byte)0xAB, 200).ToArray();
        HandshakeInitiationWriter writer = HandshakeInitiationWriter.Create(buffer);
        Assert.Equal(new byte[] { 1, 0, 0, 0 }, writer.Packet[..4].ToArray());
        Assert.All(writer.Packet[4..].ToArray(), b => Assert.Equal(0, b));

        HandshakeResponseWriter response = HandshakeResponseWriter.Create(buffer);
        Assert.All(response.Packet[4..].ToArray(), b => Assert.Equal(0, b));

        CookieReplyWriter cookie = CookieReplyWriter.Create(buffer);
        Assert.All(cookie.Packet[4..].ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Writers_reject_a_short_destination_with_a_clear_message()
    {
        var initiation = Assert.Throws<ArgumentException>(() => HandshakeInitiationWriter.Create(new byte[147]));
        Assert.Contains("148", initiation.Message);
        Assert.Throws<ArgumentException>(() => HandshakeResponseWriter.Create(new byte[91]));
        Assert.Throws<ArgumentException>(() => CookieReplyWriter.Create(new byte[63]));
        Assert.Throws<ArgumentException>(() => TransportHeader.Write(new byte[15], 1, 1));
    }

    [Fact]
    public void No_reader_throws_on_random_datagrams_and_all_agree_with_TryGetType()
    {
        Check.One(PropertyConfig(3000), Prop.ForAll(Arb.From(AnyDatagram), (byte[] datagram) => ParseEverything(datagram)));
    }

    private static readonly Gen<(int Position, int FarPosition, byte Value)> Edit =
        from position in Gen.Choose(0, 7)
        from farPosition in Gen.Choose(0, 300)
        from value in AnyByte
        select (position, farPosition, value);

    [Fact]
    public void No_reader_throws_on_mutated_valid_messages_and_all_agree_with_TryGetType()
    {
        Gen<byte[]> valid = Gen.OneOf(
            InitiationGen.Select(f => WriteInitiation(new byte[HandshakeInitiation.Size], f)),
            ResponseGen.Select(f => WriteResponse(new byte[HandshakeResponse.Size], f)),
            CookieGen.Select(f => WriteCookie(new byte[CookieReply.Size], f)),
            TransportGen.Select(WriteTransport));

        // Mutations: a few byte overwrites (often in the type field), then a resize by -8..+8.
        Gen<byte[]> mutated =
            from message in valid
            from edits in Gen.ListOf(Edit, 3)
            from resize in Gen.Choose(-8, 8)
            select Mutate(message, edits, resize);

        Check.One(PropertyConfig(3000), Prop.ForAll(Arb.From(mutated), (byte[] datagram) => ParseEverything(datagram)));
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 0, 0 }, 148, true)]
    [InlineData(new byte[] { 1, 0, 0, 0 }, 147, false)]
    [InlineData(new byte[] { 1, 0, 0, 0 }, 149, false)]
    [InlineData(new byte[] { 2, 0, 0, 0 }, 92, true)]
    [InlineData(new byte[] { 2, 0, 0, 0 }, 148, false)]
    [InlineData(new byte[] { 3, 0, 0, 0 }, 64, true)]
    [InlineData(new byte[] { 3, 0, 0, 0 }, 65, false)]
    [InlineData(new byte[] { 4, 0, 0, 0 }, 32, true)]
    [InlineData(new byte[] { 4, 0, 0, 0 }, 31, false)]
    [InlineData(new byte[] { 4, 0, 0, 0 }, 1452, true)]
    [InlineData(new byte[] { 0, 0, 0, 0 }, 148, false)]
    [InlineData(new byte[] { 5, 0, 0, 0 }, 148, false)]
    [InlineData(new byte[] { 1, 0, 0, 1 }, 148, false)]
    [InlineData(new byte[] { 4, 1, 0, 0 }, 32, false)]
    [InlineData(new byte[] { 4, 0, 1, 0 }, 32, false)]
    public void TryGetType_requires_known_type_zero_reserved_bytes_and_the_type_size(byte[] typeField, int length, bool expected)
    {
        byte[] packet = new byte[length];
        typeField.CopyTo(packet, 0);
        Assert.Equal(expected, WireGuardMessage.TryGetType(packet, out MessageType type));
        Assert.Equal(expected ? (MessageType)typeField[0] : default, type);
    }

    [Fact]
    public void LooksLikeWireGuard_checks_the_type_field_only()
    {
        Assert.True(WireGuardMessage.LooksLikeWireGuard([1, 0, 0, 0]));     // wrong size, still WireGuard-shaped
        Assert.True(WireGuardMessage.LooksLikeWireGuard([4, 0, 0, 0, 9]));
        Assert.False(WireGuardMessage.LooksLikeWireGuard([1, 0, 0]));       // too short to have a type field
        Assert.False(WireGuardMessage.LooksLikeWireGuard([]));
        Assert.False(WireGuardMessage.LooksLikeWireGuard([0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42])); // STUN binding request
        Assert.False(WireGuardMessage.LooksLikeWireGuard([1, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42])); // STUN binding success
        Assert.False(WireGuardMessage.LooksLikeWireGuard("TS\U0001F4AC"u8));                   // Tailscale disco magic
    }

    private static bool ParseEverything(byte[] datagram)
    {
        bool typed = WireGuardMessage.TryGetType(datagram, out MessageType type);
        bool looksLike = WireGuardMessage.LooksLikeWireGuard(datagram);
        Assert.True(!typed || looksLike, "a typed message must also look like WireGuard");

        bool initiation = HandshakeInitiation.TryRead(datagram, out HandshakeInitiation i);
        bool response = HandshakeResponse.TryRead(datagram, out HandshakeResponse r);
        bool cookie = CookieReply.TryRead(datagram, out CookieReply c);
        bool transport = TransportHeader.TryRead(datagram, out TransportHeader t);

        Assert.Equal(typed && type == MessageType.HandshakeInitiation, initiation);
        Assert.Equal(typed && type == MessageType.HandshakeResponse, response);
        Assert.Equal(typed && type == MessageType.CookieReply, cookie);
        Assert.Equal(typed && type == MessageType.TransportData, transport);

        // Touch every accessor of whichever view succeeded: none may throw.
        long sink = 0;
        if (initiation)
        {
            sink += i.SenderIndex + i.Ephemeral.Length + i.EncryptedStatic.Length + i.EncryptedTimestamp.Length
                + i.Mac1.Length + i.Mac2.Length + i.Mac1Input.Length + i.Mac2Input.Length + i.Packet.Length;
        }

        if (response)
        {
            sink += r.SenderIndex + r.ReceiverIndex + r.Ephemeral.Length + r.EncryptedNothing.Length
                + r.Mac1.Length + r.Mac2.Length + r.Mac1Input.Length + r.Mac2Input.Length + r.Packet.Length;
        }

        if (cookie)
        {
            sink += c.ReceiverIndex + c.Nonce.Length + c.EncryptedCookie.Length + c.Packet.Length;
        }

        if (transport)
        {
            sink += t.ReceiverIndex + (long)(t.Counter & 0xFF) + t.EncryptedPayload.Length + t.Packet.Length;
        }

        return sink >= 0;
    }

    private static byte[] Mutate(byte[] message, IEnumerable<(int Position, int FarPosition, byte Value)> edits, int resize)
    {
        byte[] copy = (byte[])message.Clone();
        foreach ((int position, int farPosition, byte value) in edits)
        {
            // Half the edits land in the first 8 bytes (type field, index), the rest anywhere.
            int at = (farPosition % 2 == 0 ? position : farPosition) % copy.Length;
            copy[at] = value;
        }

        int newLength = Math.Max(0, copy.Length + resize);
        Array.Resize(ref copy, newLength);
        return copy;
    }

    private static byte[] WriteInitiation(byte[] buffer, InitiationFields f)
    {
        HandshakeInitiationWriter w = HandshakeInitiationWriter.Create(buffer);
        w.SenderIndex = f.Sender;
        f.Ephemeral.CopyTo(w.Ephemeral);
        f.EncryptedStatic.CopyTo(w.EncryptedStatic);
        f.EncryptedTimestamp.CopyTo(w.EncryptedTimestamp);
        f.Mac1.CopyTo(w.Mac1);
        f.Mac2.CopyTo(w.Mac2);
        Assert.Equal(f.Sender, w.SenderIndex);
        return w.Packet.ToArray();
    }

    private static byte[] WriteResponse(byte[] buffer, ResponseFields f)
    {
        HandshakeResponseWriter w = HandshakeResponseWriter.Create(buffer);
        w.SenderIndex = f.Sender;
        w.ReceiverIndex = f.Receiver;
        f.Ephemeral.CopyTo(w.Ephemeral);
        f.EncryptedNothing.CopyTo(w.EncryptedNothing);
        f.Mac1.CopyTo(w.Mac1);
        f.Mac2.CopyTo(w.Mac2);
        Assert.Equal(f.Receiver, w.ReceiverIndex);
        Assert.Equal(ResponseMac1Input(f), w.Mac1Input.ToArray());
        return w.Packet.ToArray();
    }

    private static byte[] WriteCookie(byte[] buffer, CookieFields f)
    {
        CookieReplyWriter w = CookieReplyWriter.Create(buffer);
        w.ReceiverIndex = f.Receiver;
        f.Nonce.CopyTo(w.Nonce);
        f.EncryptedCookie.CopyTo(w.EncryptedCookie);
        Assert.Equal(f.Receiver, w.ReceiverIndex);
        return w.Packet.ToArray();
    }

    private static byte[] WriteTransport(TransportFields f)
    {
        byte[] packet = new byte[TransportHeader.HeaderSize + f.Payload.Length];
        Assert.Equal(TransportHeader.HeaderSize, TransportHeader.Write(packet, f.Receiver, f.Counter));
        f.Payload.CopyTo(packet, TransportHeader.PayloadOffset);
        return packet;
    }

    private static byte[] ResponseMac1Input(ResponseFields f) =>
        Concat([2, 0, 0, 0], Le32(f.Sender), Le32(f.Receiver), f.Ephemeral, f.EncryptedNothing);

    private static byte[] Le32(uint value)
    {
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++)
        {
            bytes[i] = (byte)(value >> (8 * i));
        }

        return bytes;
    }

    private static byte[] Le64(ulong value)
    {
        byte[] bytes = new byte[8];
        for (int i = 0; i < 8; i++)
        {
            bytes[i] = (byte)(value >> (8 * i));
        }

        return bytes;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
