using System.Net;
using System.Text;
using MeshAgent.Core.Net;
using MeshAgent.Core.Stun;
using MeshAgent.Tests.Support;
using static MeshAgent.Tests.Stun.StunCodecTests;

namespace MeshAgent.Tests.Stun;

/// <summary>
/// <see cref="StunResponder"/>: Binding requests are answered with the source as
/// XOR-MAPPED-ADDRESS, requests with unknown comprehension-required attributes with 420, and
/// everything else is dropped and counted under the right reason.
/// </summary>
public sealed class StunResponderTests
{
    private static readonly StunTransactionId Id = StunTransactionId.Read(Convert.FromHexString("a1a2a3a4a5a6a7a8a9aaabac"));

    [Theory]
    [InlineData("203.0.113.5:40000", 40)]
    [InlineData("[2001:db8::17]:51820", 52)]
    [InlineData("[::ffff:198.51.100.7]:3478", 40)] // what a dual-stack socket reports for an IPv4 peer
    public void Binding_request_gets_the_source_back(string source, int expectedLength)
    {
        var responder = new StunResponder();
        byte[] response = new byte[StunResponder.MaxResponseSize];
        int length = responder.Respond(Request(), IPEndPoint.Parse(source), response);

        Assert.Equal(expectedLength, length);
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(response.AsSpan(0, length), out StunMessage m));
        Assert.Equal(StunMessageType.BindingSuccess, m.Type);
        Assert.Equal(Id, m.TransactionId);
        Assert.True(m.HasFingerprint);
        Assert.False(m.TryGetSoftware(out _));
        Assert.True(m.TryGetXorMappedAddress(out UdpEndpoint mapped));
        Assert.Equal(UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse(source)), mapped);
        Assert.Equal(1, responder.Counters.Answered);
        Assert.Equal(0, responder.Counters.Ignored);
    }

    [Fact]
    public void Software_is_sent_when_configured()
    {
        var responder = new StunResponder("meshagent 0.1");
        byte[] response = new byte[StunResponder.MaxResponseSize];
        int length = responder.Respond(Request(), Endpoint("192.0.2.9:9"), response);
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(response.AsSpan(0, length), out StunMessage m));
        Assert.True(m.TryGetSoftware(out ReadOnlySpan<byte> software));
        Assert.Equal("meshagent 0.1", Encoding.UTF8.GetString(software));
        Assert.Throws<ArgumentException>(() => new StunResponder(new string('s', StunResponder.MaxSoftwareBytes + 1)));
    }

    [Fact]
    public void Rfc5769_sample_request_gets_420_listing_priority()
    {
        // The RFC's request is an ICE connectivity check: PRIORITY is comprehension-required and a
        // plain Binding server does not know it (RFC 8489 §6.3.1).
        byte[] request = VectorFile.Load("Stun", "rfc5769.txt").Single(c => c.Text("section") == "2.1 Sample Request").Hex("message");
        var responder = new StunResponder();
        byte[] response = new byte[StunResponder.MaxResponseSize];
        int length = responder.Respond(request, Endpoint("192.0.2.1:32853"), response);

        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(response.AsSpan(0, length), out StunMessage m));
        Assert.Equal(StunMessageType.BindingError, m.Type);
        Assert.Equal(StunTransactionId.Read(request.AsSpan(8)), m.TransactionId);
        Assert.True(m.TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason));
        Assert.Equal(420, code);
        Assert.Equal("Unknown Attribute", Encoding.UTF8.GetString(reason));
        ushort[] unknown = new ushort[4];
        Assert.Equal(1, m.GetUnknownAttributes(unknown));
        Assert.Equal(StunAttributeType.Priority, unknown[0]);
        Assert.Equal(1, responder.Counters.UnknownAttributeErrors);
        Assert.Equal(0, responder.Counters.Answered);
    }

    [Fact]
    public void Largest_420_stays_within_the_documented_size()
    {
        var writer = new StunMessageWriter(new byte[512], StunMessageType.BindingRequest, Id);
        for (ushort type = 0x7000; type < 0x7020; type++)
        {
            writer.AddAttribute(type, []);
        }

        var responder = new StunResponder();
        byte[] response = new byte[StunResponder.MaxResponseSize];
        int length = responder.Respond(writer.Written, Endpoint("192.0.2.9:9"), response);
        Assert.Equal(76, length); // 8 of the 32 types listed
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(response.AsSpan(0, length), out StunMessage m));
        Assert.Equal(32, writer.Written.Length / 4 - 5); // the request really had 32
        Assert.Equal(8, m.GetUnknownAttributes(new ushort[16]));
    }

    [Fact]
    public void Everything_but_a_binding_request_is_dropped_and_counted()
    {
        var responder = new StunResponder();
        byte[] response = new byte[StunResponder.MaxResponseSize];
        UdpEndpoint source = Endpoint("192.0.2.9:9");

        byte[] wireGuardKeepalive = [4, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, .. new byte[16]];
        Assert.Equal(0, responder.Respond(wireGuardKeepalive, source, response));
        Assert.Equal(0, responder.Respond("mj\u0001\u0001xxxx"u8, source, response));
        Assert.Equal(2, responder.Counters.NotStun);

        byte[] badFingerprint = Request();
        badFingerprint[^1] ^= 0xFF;
        Assert.Equal(0, responder.Respond(badFingerprint, source, response));
        Assert.Equal(1, responder.Counters.Malformed);

        Assert.Equal(0, responder.Respond(Message(StunMessageType.BindingIndication), source, response));
        Assert.Equal(0, responder.Respond(Message(StunMessageType.BindingSuccess), source, response));
        Assert.Equal(0, responder.Respond(Message(StunMessageType.BindingError), source, response));
        Assert.Equal(3, responder.Counters.NotRequest);

        Assert.Equal(0, responder.Respond(Message(new StunMessageType((StunMethod)0x003, StunClass.Request)), source, response)); // TURN Allocate
        Assert.Equal(1, responder.Counters.UnsupportedMethod);

        Assert.Equal(7, responder.Counters.Ignored);
        Assert.Equal(0, responder.Counters.Answered);
    }

    [Fact]
    public void Undersized_response_buffer_is_a_caller_bug()
    {
        var responder = new StunResponder();
        Assert.Throws<ArgumentException>(() => responder.Respond(Request(), Endpoint("192.0.2.9:9"), new byte[StunResponder.MaxResponseSize - 1]));
    }

    [Fact]
    public void Answering_allocates_nothing()
    {
        var responder = new StunResponder("meshagent");
        byte[] request = Request();
        byte[] response = new byte[StunResponder.MaxResponseSize];
        UdpEndpoint source = Endpoint("[2001:db8::1]:4000");
        int total = responder.Respond(request, source, response);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            total += responder.Respond(request, source, response);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1001 * 68, total); // 20 header + 16 SOFTWARE + 24 XOR-MAPPED-ADDRESS (IPv6) + 8 FINGERPRINT
    }

    private static byte[] Request()
    {
        byte[] buffer = new byte[64];
        return buffer[..StunMessageWriter.WriteBindingRequest(buffer, Id)];
    }

    private static byte[] Message(StunMessageType type)
    {
        var writer = new StunMessageWriter(new byte[64], type, Id);
        writer.AddFingerprint();
        return writer.Written.ToArray();
    }
}
