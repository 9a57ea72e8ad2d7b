using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// The smallest useful part of STUN (RFC 5389; RFC 8489 keeps it) for the lab: a Binding
/// Request without attributes, and a Binding Success Response carrying XOR-MAPPED-ADDRESS for
/// IPv4. Enough for a host to learn its public mapping from <see cref="LabStunServer"/>, and what
/// any STUN client sends first. The harness's own codec, so lab tests do not depend on the
/// agent's. Readers never throw on network input.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |0 0|     STUN Message Type     |         Message Length        |  §6: length of the attributes
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Magic Cookie 0x2112A442                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Transaction ID (96 bits)                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// attribute (§15): type (16) | length (16) | value, padded to 4 bytes
/// XOR-MAPPED-ADDRESS (§15.2), IPv4: 0x00 | family 0x01 | port ^ 0x2112 | address ^ cookie
/// </code>
/// </summary>
public static class LabStun
{
    /// <summary>The STUN port (RFC 5389 §18.4).</summary>
    public const int DefaultPort = 3478;

    public const int HeaderLength = 20;
    public const int TransactionIdLength = 12;
    public const uint MagicCookie = 0x2112A442;
    public const ushort BindingRequest = 0x0001;
    public const ushort BindingSuccess = 0x0101;
    public const ushort XorMappedAddress = 0x0020;

    /// <summary>Length of a Binding Success Response with one IPv4 XOR-MAPPED-ADDRESS.</summary>
    public const int BindingSuccessLength = HeaderLength + 4 + 8;

    private const int TypeOffset = 0;
    private const int LengthOffset = 2;
    private const int CookieOffset = 4;
    private const int TransactionIdOffset = 8;

    /// <summary>Writes a Binding Request without attributes; returns its length (20).</summary>
    public static int WriteBindingRequest(Span<byte> destination, ReadOnlySpan<byte> transactionId)
    {
        WriteHeader(destination, BindingRequest, 0, transactionId);
        return HeaderLength;
    }

    /// <summary>
    /// True if <paramref name="message"/> is a well-formed Binding Request (attributes are
    /// ignored, as this server understands none); <paramref name="transactionId"/> is a slice of it.
    /// </summary>
    public static bool TryReadBindingRequest(ReadOnlySpan<byte> message, out ReadOnlySpan<byte> transactionId)
    {
        transactionId = default;
        if (!TryReadHeader(message, out var type, out var id) || type != BindingRequest)
        {
            return false;
        }
        transactionId = id;
        return true;
    }

    /// <summary>Writes a Binding Success Response telling the client <paramref name="mapped"/>; returns its length.</summary>
    public static int WriteBindingSuccess(Span<byte> destination, ReadOnlySpan<byte> transactionId, IPEndPoint mapped)
    {
        if (mapped.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"the lab is IPv4 only; cannot encode {mapped}", nameof(mapped));
        }
        WriteHeader(destination, BindingSuccess, 12, transactionId);
        var attribute = destination[HeaderLength..BindingSuccessLength];
        BinaryPrimitives.WriteUInt16BigEndian(attribute, XorMappedAddress);
        BinaryPrimitives.WriteUInt16BigEndian(attribute[2..], 8);
        attribute[4] = 0;
        attribute[5] = 0x01;
        BinaryPrimitives.WriteUInt16BigEndian(attribute[6..], (ushort)(mapped.Port ^ (MagicCookie >> 16)));
        mapped.Address.TryWriteBytes(attribute[8..], out _);
        BinaryPrimitives.WriteUInt32BigEndian(attribute[8..], BinaryPrimitives.ReadUInt32BigEndian(attribute[8..]) ^ MagicCookie);
        return BindingSuccessLength;
    }

    /// <summary>
    /// True if <paramref name="message"/> is a Binding Success Response to
    /// <paramref name="transactionId"/> with an IPv4 XOR-MAPPED-ADDRESS, decoded into <paramref name="mapped"/>.
    /// </summary>
    public static bool TryReadBindingSuccess(ReadOnlySpan<byte> message, ReadOnlySpan<byte> transactionId, out IPEndPoint? mapped)
    {
        mapped = null;
        if (!TryReadHeader(message, out var type, out var id) || type != BindingSuccess || !id.SequenceEqual(transactionId))
        {
            return false;
        }
        var attributes = message[HeaderLength..];
        while (attributes.Length >= 4)
        {
            var attributeType = BinaryPrimitives.ReadUInt16BigEndian(attributes);
            int length = BinaryPrimitives.ReadUInt16BigEndian(attributes[2..]);
            if (attributes.Length < 4 + length)
            {
                return false;
            }
            var value = attributes.Slice(4, length);
            if (attributeType == XorMappedAddress && length == 8 && value[1] == 0x01)
            {
                var port = BinaryPrimitives.ReadUInt16BigEndian(value[2..]) ^ (int)(MagicCookie >> 16);
                var address = BinaryPrimitives.ReadUInt32BigEndian(value[4..]) ^ MagicCookie;
                Span<byte> bytes = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(bytes, address);
                mapped = new IPEndPoint(new IPAddress(bytes), port);
                return true;
            }
            var padded = 4 + ((length + 3) & ~3);
            attributes = attributes[Math.Min(padded, attributes.Length)..];
        }
        return false;
    }

    /// <summary>
    /// Asks <paramref name="server"/> for <paramref name="socket"/>'s public mapping: Binding
    /// Requests retransmitted at 100, 200, 400 ms … (RFC 5389 §7.2.1 doubling, from a lab-sized
    /// start) until an answer or <paramref name="timeout"/>. Other datagrams arriving meanwhile
    /// are discarded. Returns null when nothing answered (e.g. UDP blocked).
    /// </summary>
    public static async Task<IPEndPoint?> QueryAsync(Socket socket, IPEndPoint server, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var transactionId = RandomNumberGenerator.GetBytes(TransactionIdLength);
        var request = new byte[HeaderLength];
        WriteBindingRequest(request, transactionId);
        var buffer = new byte[1500];
        var deadline = DateTime.UtcNow + timeout;
        var rto = TimeSpan.FromMilliseconds(100);
        while (DateTime.UtcNow < deadline)
        {
            await socket.SendToAsync(request, SocketFlags.None, server, cancellationToken);
            var until = DateTime.UtcNow + rto < deadline ? DateTime.UtcNow + rto : deadline;
            rto *= 2;
            while (DateTime.UtcNow < until)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                wait.CancelAfter(until - DateTime.UtcNow);
                SocketReceiveFromResult result;
                try
                {
                    result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), wait.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
                {
                    // ICMP port unreachable from an earlier send: no server there (yet).
                    continue;
                }
                if (TryReadBindingSuccess(buffer.AsSpan(0, result.ReceivedBytes), transactionId, out var mapped))
                {
                    return mapped;
                }
            }
        }
        return null;
    }

    private static void WriteHeader(Span<byte> destination, ushort type, ushort length, ReadOnlySpan<byte> transactionId)
    {
        if (transactionId.Length != TransactionIdLength)
        {
            throw new ArgumentException($"a STUN transaction id has {TransactionIdLength} bytes, not {transactionId.Length}", nameof(transactionId));
        }
        BinaryPrimitives.WriteUInt16BigEndian(destination[TypeOffset..], type);
        BinaryPrimitives.WriteUInt16BigEndian(destination[LengthOffset..], length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[CookieOffset..], MagicCookie);
        transactionId.CopyTo(destination[TransactionIdOffset..]);
    }

    private static bool TryReadHeader(ReadOnlySpan<byte> message, out ushort type, out ReadOnlySpan<byte> transactionId)
    {
        type = 0;
        transactionId = default;
        if (message.Length < HeaderLength || (message[0] & 0xC0) != 0
            || BinaryPrimitives.ReadUInt32BigEndian(message[CookieOffset..]) != MagicCookie)
        {
            return false;
        }
        int length = BinaryPrimitives.ReadUInt16BigEndian(message[LengthOffset..]);
        if (length % 4 != 0 || HeaderLength + length != message.Length)
        {
            return false;
        }
        type = BinaryPrimitives.ReadUInt16BigEndian(message[TypeOffset..]);
        transactionId = message.Slice(TransactionIdOffset, TransactionIdLength);
        return true;
    }
}
