using System.Buffers.Binary;
using System.Net;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Invitations;
using MeshAgent.Core.Net;
using MeshAgent.Core.Stun;
using MeshAgent.Core.WireGuard;

namespace MeshAgent.Tests.Stun;

/// <summary>
/// The agent's one UDP port carries WireGuard (type 1–4 + three zero bytes), STUN and join
/// messages ('m' 'j'), told apart by their first bytes (DESIGN §2). These properties show the
/// three "looks like" tests never claim each other's messages, including WireGuard messages
/// whose random fields happen to hold the STUN magic cookie.
/// </summary>
public sealed class StunDemuxTests
{
    private static readonly Gen<byte> AnyByte = ArbMap.Default.GeneratorFor<byte>();

    private static Gen<byte[]> Bytes(int n) => Gen.ArrayOf(AnyByte, n);

    /// <summary>Valid WireGuard messages of every type and size; half with the STUN cookie planted at bytes 4–8.</summary>
    private static readonly Gen<byte[]> WireGuardGen =
        from type in Gen.Choose(1, 4)
        from transportLength in Gen.Choose(TransportHeader.MinSize, 1500)
        let size = type switch { 1 => HandshakeInitiation.Size, 2 => HandshakeResponse.Size, 3 => CookieReply.Size, _ => transportLength }
        from body in Bytes(size - 4)
        from plantCookie in ArbMap.Default.GeneratorFor<bool>()
        select WireGuardShaped(type, body, plantCookie);

    private static readonly Gen<byte[]> JoinGen =
        from type in Gen.Choose(1, 5)
        from session in ArbMap.Default.GeneratorFor<uint>()
        from bodyLength in Gen.Choose(0, 300)
        from body in Bytes(bodyLength)
        select JoinMessage((JoinMessageType)type, session, body);

    /// <summary>Binding messages of every class as our writer builds them (requests, responses, errors, indications).</summary>
    private static readonly Gen<byte[]> BindingGen =
        from cls in Gen.Elements(Enum.GetValues<StunClass>())
        from id in Bytes(12)
        from v6 in ArbMap.Default.GeneratorFor<bool>()
        from address in Bytes(v6 ? 16 : 4)
        from port in Gen.Choose(0, 65535)
        from software in Gen.Elements("", "meshagent", "x")
        from fingerprint in ArbMap.Default.GeneratorFor<bool>()
        select BindingMessage(cls, id, new UdpEndpoint(new IPAddress(address), port), software, fingerprint);

    private static FsCheck.Config Config() => FsCheck.Config.QuickThrowOnFailure.WithMaxTest(2000);

    [Fact]
    public void No_valid_wireguard_message_looks_like_stun()
    {
        Check.One(Config(), Prop.ForAll(Arb.From(WireGuardGen), (byte[] message) =>
        {
            Assert.True(WireGuardMessage.TryGetType(message, out _)); // the generator makes valid ones
            Assert.False(StunMessage.LooksLikeStun(message));
            Assert.Equal(StunReadResult.NotStun, StunMessage.TryRead(message, out _));
        }));
    }

    [Fact]
    public void Wireguard_shaped_datagram_looks_like_stun_only_at_20_bytes_which_is_no_wireguard_size()
    {
        // Why the cookie cannot fool the demultiplexer: bytes 2–3 (the STUN length) are zero in
        // every WireGuard header, so STUN would need a 20-byte datagram, and WireGuard has none.
        for (int length = 0; length <= 200; length++)
        {
            for (int type = 1; type <= 4; type++)
            {
                byte[] message = WireGuardShaped(type, new byte[Math.Max(0, length - 4)], plantCookie: length >= 8)[..length];
                if (length >= 4)
                {
                    Assert.True(WireGuardMessage.LooksLikeWireGuard(message));
                }

                Assert.Equal(length == 20, StunMessage.LooksLikeStun(message));
                if (length == 20)
                {
                    Assert.False(WireGuardMessage.TryGetType(message, out _));
                }
            }
        }
    }

    [Fact]
    public void No_join_message_looks_like_stun()
    {
        Check.One(Config(), Prop.ForAll(Arb.From(JoinGen), (byte[] message) =>
        {
            Assert.True(JoinMessages.TryReadHeader(message, out _, out _));
            Assert.False(StunMessage.LooksLikeStun(message));
        }));
    }

    [Fact]
    public void No_binding_message_looks_like_wireguard_or_join()
    {
        Check.One(Config(), Prop.ForAll(Arb.From(BindingGen), (byte[] message) =>
        {
            Assert.Equal(StunReadResult.Success, StunMessage.TryRead(message, out _));
            Assert.False(WireGuardMessage.LooksLikeWireGuard(message));
            Assert.False(JoinMessages.TryReadHeader(message, out _, out _));
        }));
    }

    [Fact]
    public void Nothing_that_looks_like_stun_looks_like_a_join_message()
    {
        // Exhaustive over the first byte: STUN needs its top two bits clear (< 0x40), join starts with 'm' = 0x6D.
        byte[] message = BindingMessage(StunClass.Request, new byte[12], new UdpEndpoint(IPAddress.Loopback, 1), "", fingerprint: false);
        for (int first = 0; first < 256; first++)
        {
            message[0] = (byte)first;
            message[1] = (byte)'j';
            Assert.False(StunMessage.LooksLikeStun(message) && JoinMessages.TryReadHeader(message, out _, out _), $"first byte 0x{first:x2}");
        }
    }

    [Fact]
    public void Stun_messages_that_look_like_wireguard_are_exactly_the_empty_non_binding_types_0x0100_to_0x0400()
    {
        // The converse of the WireGuard property, over every 14-bit type: a STUN message passes
        // LooksLikeWireGuard only with no attributes (length 0) and type 0x0100/0x0200/0x0300/0x0400
        // (method 0x000 success, 0x080 request, 0x080 success, 0x100 request), none of which is
        // Binding, so the agent loses nothing by letting WireGuard's test go first.
        for (int type = 0; type < 0x4000; type++)
        {
            foreach (int bodyLength in new[] { 0, 8 })
            {
                byte[] message = new byte[20 + bodyLength];
                BinaryPrimitives.WriteUInt16BigEndian(message, (ushort)type);
                BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)bodyLength);
                BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), StunMessage.MagicCookie);
                Assert.True(StunMessage.LooksLikeStun(message));
                bool wireGuard = WireGuardMessage.LooksLikeWireGuard(message);
                Assert.Equal(bodyLength == 0 && type is 0x0100 or 0x0200 or 0x0300 or 0x0400, wireGuard);
                if (wireGuard)
                {
                    Assert.NotEqual(StunMethod.Binding, StunMessageType.FromValue((ushort)type).Method);
                }
            }
        }
    }

    private static byte[] WireGuardShaped(int type, byte[] body, bool plantCookie)
    {
        byte[] message = [(byte)type, 0, 0, 0, .. body];
        if (plantCookie && message.Length >= 8)
        {
            BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), StunMessage.MagicCookie);
        }

        return message;
    }

    private static byte[] JoinMessage(JoinMessageType type, uint session, byte[] body)
    {
        byte[] message = new byte[JoinMessages.HeaderSize + body.Length];
        JoinMessages.WriteHeader(message, type, session);
        body.CopyTo(message, JoinMessages.HeaderSize);
        return message;
    }

    private static byte[] BindingMessage(StunClass cls, byte[] id, UdpEndpoint endpoint, string software, bool fingerprint)
    {
        byte[] buffer = new byte[256];
        var writer = new StunMessageWriter(buffer, new StunMessageType(StunMethod.Binding, cls), StunTransactionId.Read(id));
        if (software.Length > 0)
        {
            writer.AddSoftware(software);
        }

        if (cls == StunClass.ErrorResponse)
        {
            writer.AddErrorCode(400, "Bad Request");
        }
        else if (cls == StunClass.SuccessResponse)
        {
            writer.AddXorMappedAddress(endpoint);
        }

        if (fingerprint)
        {
            writer.AddFingerprint();
        }

        return buffer[..writer.Length];
    }
}
