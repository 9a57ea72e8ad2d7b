using System.Net;
using MeshAgent.Integration.Tests.Harness;
using Xunit;

namespace MeshAgent.Integration.Tests.HarnessTests;

/// <summary>The lab's STUN codec against the RFC 5769 sample messages, and on hostile input.</summary>
public sealed class LabStunTests
{
    // RFC 5769 §2.1 "Sample Request" and §2.2 "Sample IPv4 Response" (same transaction id).
    private const string Rfc5769Request = """
        0001 0058 2112a442 b7e7a701 bc34d686 fa87dfae
        8022 0010 5354554e 20746573 7420636c 69656e74
        0024 0004 6e0001ff 8029 0008 932ff9b1 51263b36
        0006 0009 6576746a 3a683676 59202020
        0008 0014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2
        8028 0004 e57a3bcf
        """;

    private const string Rfc5769Ipv4Response = """
        0101 003c 2112a442 b7e7a701 bc34d686 fa87dfae
        8022 000b 74657374 20766563 746f7220
        0020 0008 0001a147 e112a643
        0008 0014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7
        8028 0004 c07d4c96
        """;

    private static readonly byte[] Rfc5769TransactionId = Convert.FromHexString("b7e7a701bc34d686fa87dfae");

    [Fact]
    public void Reads_the_rfc5769_sample_request_and_ipv4_response()
    {
        Assert.True(LabStun.TryReadBindingRequest(Hex(Rfc5769Request), out var id));
        Assert.Equal(Rfc5769TransactionId, id.ToArray());

        Assert.True(LabStun.TryReadBindingSuccess(Hex(Rfc5769Ipv4Response), Rfc5769TransactionId, out var mapped));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853), mapped);
    }

    [Fact]
    public void Writes_the_xor_mapped_address_of_the_rfc5769_response()
    {
        var response = new byte[LabStun.BindingSuccessLength];
        var length = LabStun.WriteBindingSuccess(response, Rfc5769TransactionId, new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853));

        Assert.Equal(32, length);
        // Header with length 12, then the RFC's attribute bytes verbatim.
        Assert.Equal("0101000c2112a442b7e7a701bc34d686fa87dfae" + "002000080001a147e112a643", Convert.ToHexStringLower(response));
    }

    [Fact]
    public void A_response_to_another_transaction_or_a_request_is_not_a_mapping()
    {
        var otherId = (byte[])Rfc5769TransactionId.Clone();
        otherId[^1] ^= 1;
        Assert.False(LabStun.TryReadBindingSuccess(Hex(Rfc5769Ipv4Response), otherId, out _));
        Assert.False(LabStun.TryReadBindingSuccess(Hex(Rfc5769Request), Rfc5769TransactionId, out _));
        Assert.False(LabStun.TryReadBindingRequest(Hex(Rfc5769Ipv4Response), out _));
    }

    [Fact]
    public void Truncated_damaged_and_random_input_is_rejected_without_throwing()
    {
        var response = Hex(Rfc5769Ipv4Response);
        var request = Hex(Rfc5769Request);
        for (var cut = 0; cut < response.Length; cut++)
        {
            Assert.False(LabStun.TryReadBindingSuccess(response[..cut], Rfc5769TransactionId, out _));
        }
        for (var cut = 0; cut < request.Length; cut++)
        {
            Assert.False(LabStun.TryReadBindingRequest(request[..cut], out _));
        }
        // An attribute length running past the end, and a wrong magic cookie.
        var overrun = (byte[])response.Clone();
        overrun[20 + 16 + 3] = 0xff;
        Assert.False(LabStun.TryReadBindingSuccess(overrun, Rfc5769TransactionId, out _));
        var cookie = (byte[])request.Clone();
        cookie[4] ^= 0x80;
        Assert.False(LabStun.TryReadBindingRequest(cookie, out _));

        var random = new Random(5769);
        var buffer = new byte[128];
        for (var i = 0; i < 20_000; i++)
        {
            random.NextBytes(buffer);
            var message = buffer.AsSpan(0, random.Next(buffer.Length + 1));
            if (random.Next(2) == 0 && message.Length >= 20)
            {
                // Mostly plausible headers, so the attribute walk is exercised too.
                Hex(Rfc5769Ipv4Response).AsSpan(0, 20).CopyTo(message);
                message[2] = 0;
                message[3] = (byte)((message.Length - 20) & ~3);
            }
            LabStun.TryReadBindingSuccess(message, Rfc5769TransactionId, out _);
            LabStun.TryReadBindingRequest(message, out _);
        }
    }

    private static byte[] Hex(string text) => Convert.FromHexString(string.Concat(text.Where(char.IsAsciiHexDigit)));
}
