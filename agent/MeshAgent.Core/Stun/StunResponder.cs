using System.Net;
using System.Text;
using MeshAgent.Core.Net;

namespace MeshAgent.Core.Stun;

/// <summary>
/// The STUN Binding server of RFC 8489 §6.3 without authentication, as the agent and the relay
/// run it on their UDP ports for datagrams <see cref="StunMessage.LooksLikeStun"/> classified:
/// a Binding request gets a success response whose XOR-MAPPED-ADDRESS is the request's source
/// (the caller's view of it, i.e. after every NAT on the way), followed by FINGERPRINT. A request
/// with comprehension-required attributes this server does not know (ICE's PRIORITY, RFC 5780's
/// CHANGE-REQUEST, ...) gets 420 with UNKNOWN-ATTRIBUTES (§6.3.1). Everything else — other
/// protocols, malformed or mis-fingerprinted messages, indications, responses, other methods —
/// is ignored and counted: answering those would make the port a reflector for spoofed sources.
/// Without SOFTWARE a success response is 40 (IPv4) or 52 (IPv6) bytes and a 420 at most 76, for a
/// request of at least 20 and 24 bytes: little amplification for a spoofed source.
/// Stateless apart from the counters; thread-safe; allocation-free per datagram.
/// </summary>
public sealed class StunResponder
{
    /// <summary>A response buffer of this size always suffices.</summary>
    public const int MaxResponseSize = 256;

    /// <summary>Longest SOFTWARE value the responder will send (keeps responses small).</summary>
    public const int MaxSoftwareBytes = 64;

    // At most this many types are listed in UNKNOWN-ATTRIBUTES: enough to be useful, bounded in size.
    private const int MaxListedUnknown = 8;

    private readonly byte[] _software;

    /// <summary>Creates a responder; <paramref name="software"/> (optional) goes into SOFTWARE of every response.</summary>
    /// <exception cref="ArgumentException"><paramref name="software"/> is longer than <see cref="MaxSoftwareBytes"/> bytes of UTF-8.</exception>
    public StunResponder(string? software = null)
    {
        _software = string.IsNullOrEmpty(software) ? [] : Encoding.UTF8.GetBytes(software);
        if (_software.Length > MaxSoftwareBytes)
        {
            throw new ArgumentException($"the SOFTWARE text '{software}' is {_software.Length} bytes of UTF-8; the responder sends at most {MaxSoftwareBytes}", nameof(software));
        }
    }

    public StunResponderCounters Counters { get; } = new();

    /// <summary>
    /// Answers <paramref name="datagram"/>, received from <paramref name="source"/>, by writing a
    /// response into <paramref name="response"/>. Returns the number of bytes to send back to
    /// <paramref name="source"/>, or 0 when the datagram is to be dropped (counted). Never throws
    /// on network input. Borrowed: both spans only for the duration of the call.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="response"/> is shorter than <see cref="MaxResponseSize"/> (a caller bug).</exception>
    public int Respond(ReadOnlySpan<byte> datagram, UdpEndpoint source, Span<byte> response)
    {
        if (response.Length < MaxResponseSize)
        {
            throw new ArgumentException($"the response buffer must hold {MaxResponseSize} bytes, it has {response.Length}", nameof(response));
        }

        switch (StunMessage.TryRead(datagram, out StunMessage request))
        {
            case StunReadResult.Success:
                break;
            case StunReadResult.NotStun:
                Counters.CountNotStun();
                return 0;
            default:
                Counters.CountMalformed();
                return 0;
        }

        if (request.Class != StunClass.Request)
        {
            // Binding indications are keepalives (§6.3.2: no response); responses are not ours to answer.
            Counters.CountNotRequest();
            return 0;
        }

        if (request.Method != StunMethod.Binding)
        {
            Counters.CountUnsupportedMethod();
            return 0;
        }

        Span<ushort> unknown = stackalloc ushort[MaxListedUnknown];
        int unknownCount = request.GetUnknownComprehensionRequired(unknown);
        if (unknownCount > 0)
        {
            Counters.CountUnknownAttributeErrors();
            return StunMessageWriter.WriteErrorResponse(
                response, StunMethod.Binding, request.TransactionId, 420, "Unknown Attribute", unknown[..unknownCount], _software);
        }

        Counters.CountAnswered();
        return StunMessageWriter.WriteBindingSuccess(response, request.TransactionId, source, _software);
    }

    /// <inheritdoc cref="Respond(ReadOnlySpan{byte}, UdpEndpoint, Span{byte})"/>
    /// <remarks>Converts the endpoint (no allocation); for callers that receive through System.Net.Sockets.</remarks>
    public int Respond(ReadOnlySpan<byte> datagram, IPEndPoint source, Span<byte> response) =>
        Respond(datagram, UdpEndpoint.FromIPEndPoint(source), response);
}

/// <summary>What a <see cref="StunResponder"/> did with the datagrams it was given. Thread-safe reads and writes.</summary>
public sealed class StunResponderCounters
{
    private long _answered;
    private long _unknownAttributeErrors;
    private long _notStun;
    private long _malformed;
    private long _notRequest;
    private long _unsupportedMethod;

    /// <summary>Binding requests answered with a success response.</summary>
    public long Answered => Volatile.Read(ref _answered);

    /// <summary>Binding requests answered with 420 Unknown Attribute.</summary>
    public long UnknownAttributeErrors => Volatile.Read(ref _unknownAttributeErrors);

    /// <summary>Dropped: not STUN at all (a demultiplexing mistake upstream).</summary>
    public long NotStun => Volatile.Read(ref _notStun);

    /// <summary>Dropped: STUN-shaped but malformed, or FINGERPRINT wrong.</summary>
    public long Malformed => Volatile.Read(ref _malformed);

    /// <summary>Dropped: indications and responses.</summary>
    public long NotRequest => Volatile.Read(ref _notRequest);

    /// <summary>Dropped: requests of methods other than Binding (TURN, ...).</summary>
    public long UnsupportedMethod => Volatile.Read(ref _unsupportedMethod);

    /// <summary>Total of the drop counters.</summary>
    public long Ignored => NotStun + Malformed + NotRequest + UnsupportedMethod;

    internal void CountAnswered() => Interlocked.Increment(ref _answered);

    internal void CountUnknownAttributeErrors() => Interlocked.Increment(ref _unknownAttributeErrors);

    internal void CountNotStun() => Interlocked.Increment(ref _notStun);

    internal void CountMalformed() => Interlocked.Increment(ref _malformed);

    internal void CountNotRequest() => Interlocked.Increment(ref _notRequest);

    internal void CountUnsupportedMethod() => Interlocked.Increment(ref _unsupportedMethod);
}
