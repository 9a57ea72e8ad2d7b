using System.Net;
using MeshAgent.Core.Net;
using System.Net.Sockets;
using System.Text;
using MeshAgent.Core.Stun;

namespace MeshAgent.Engine.Nat;

/// <summary>
/// STUN Binding client (RFC 8489 §6.2.1, §7.3) that owns no socket: it sends through the
/// <c>send</c> delegate — in the agent, the WireGuard UDP socket itself, because the reflexive
/// address worth knowing is that port's NAT mapping — and is fed every STUN response the owner
/// receives through <see cref="TryHandleResponse"/>.
/// <para>Flow of <see cref="QueryAsync(IPEndPoint, TimeSpan, CancellationToken)"/>: pick a random
/// transaction id, send a Binding request (FINGERPRINT, optional SOFTWARE), retransmit after RTO,
/// 2·RTO, 4·RTO … until Rc requests are out, wait Rm·RTO after the last, all bounded by the
/// timeout; a response whose transaction id and source match completes the query.</para>
/// Thread-safety: any number of concurrent queries; <see cref="TryHandleResponse"/> may be called
/// from a receive thread at the same time. Continuations never run on the caller of
/// <see cref="TryHandleResponse"/> (the receive loop is not borrowed by query code).
/// Time comes from the injected <see cref="TimeProvider"/>; transaction ids from the injected source.
/// </summary>
public sealed class StunClient
{
    // A Binding request is 28 bytes plus SOFTWARE (at most 4 + 764).
    private const int MaxRequestSize = StunMessage.HeaderSize + StunMessage.AttributeHeaderSize + 764 + StunMessage.FingerprintAttributeSize;

    private readonly Action<ReadOnlySpan<byte>, IPEndPoint> _send;
    private readonly TimeProvider _time;
    private readonly Func<StunTransactionId> _newTransactionId;
    private readonly byte[] _software;
    private readonly Dictionary<StunTransactionId, Transaction> _pending = [];
    private readonly Lock _gate = new();

    /// <param name="send">Sends one datagram; borrowed: the span is valid only during the call. A
    /// <see cref="SocketException"/> counts as a lost transmission (retransmission continues);
    /// any other exception ends the query and propagates.</param>
    /// <param name="options">Timing; null for the RFC defaults with a 5 s bound.</param>
    /// <param name="timeProvider">Clock and timers; null for <see cref="TimeProvider.System"/>.</param>
    /// <param name="newTransactionId">Transaction id source; null for the OS CSPRNG (RFC 8489 §6 requires a strong one).</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> is invalid (the message lists every problem).</exception>
    public StunClient(
        Action<ReadOnlySpan<byte>, IPEndPoint> send,
        StunClientOptions? options = null,
        TimeProvider? timeProvider = null,
        Func<StunTransactionId>? newTransactionId = null)
    {
        ArgumentNullException.ThrowIfNull(send);
        options ??= new StunClientOptions();
        IReadOnlyList<string> problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid STUN client options: " + string.Join("; ", problems), nameof(options));
        }

        _send = send;
        Options = options;
        _time = timeProvider ?? TimeProvider.System;
        _newTransactionId = newTransactionId ?? StunTransactionId.NewRandom;
        _software = options.Software is null ? [] : Encoding.UTF8.GetBytes(options.Software);
    }

    public StunClientOptions Options { get; }

    public StunClientCounters Counters { get; } = new();

    /// <summary>Queries in flight.</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Queries <paramref name="server"/> bounded by <see cref="StunClientOptions.Timeout"/>.</summary>
    public Task<StunResult> QueryAsync(IPEndPoint server, CancellationToken cancellationToken = default) =>
        QueryAsync(server, Options.Timeout, cancellationToken);

    /// <summary>
    /// One Binding transaction with <paramref name="server"/>, at most <paramref name="timeout"/>
    /// long. Never throws for network outcomes: those are a <see cref="StunResult"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<StunResult> QueryAsync(IPEndPoint server, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();

        var transaction = new Transaction(_newTransactionId(), server.Unmapped());
        lock (_gate)
        {
            if (!_pending.TryAdd(transaction.Id, transaction))
            {
                throw new InvalidOperationException($"STUN transaction id {transaction.Id} is already in use: the transaction id source repeats itself");
            }
        }

        try
        {
            byte[] request = new byte[MaxRequestSize];
            int length = StunMessageWriter.WriteBindingRequest(request, transaction.Id, _software);
            long started = _time.GetTimestamp();
            TimeSpan rto = Options.InitialRto;
            for (int sent = 1; ; sent++)
            {
                Transmit(transaction, request.AsSpan(0, length), server);

                // RFC 8489 §6.2.1: wait RTO, doubling, between requests; Rm × RTO after the last.
                TimeSpan wait = sent < Options.MaxTransmissions ? rto : Options.InitialRto * Options.LastWaitMultiplier;
                rto *= 2;
                TimeSpan remaining = timeout - _time.GetElapsedTime(started);
                bool lastWait = sent >= Options.MaxTransmissions || remaining <= wait;
                if (remaining > TimeSpan.Zero && await WaitAsync(transaction.Completion, wait < remaining ? wait : remaining, cancellationToken).ConfigureAwait(false))
                {
                    return await transaction.Completion.ConfigureAwait(false);
                }

                if (transaction.Completion.IsCompleted)
                {
                    return await transaction.Completion.ConfigureAwait(false); // answered just as the wait ended
                }

                // Decided before waiting, not by reading the clock again: a timer that fires a
                // millisecond early must not trigger one more transmission at the deadline.
                if (lastWait)
                {
                    Counters.CountTimeout();
                    return new StunResult
                    {
                        Status = StunResultStatus.Timeout,
                        Server = transaction.Server,
                        Transmissions = transaction.Transmissions,
                        Problem = $"no response from {transaction.Server} after {transaction.Transmissions} request(s) in {_time.GetElapsedTime(started).TotalSeconds:0.0#} s"
                            + (transaction.LastSendError is { } error ? $"; sending failed: {error}" : "")
                            + " — UDP to the server may be blocked, or the server is down",
                    };
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _pending.Remove(transaction.Id);
            }
        }
    }

    /// <summary>
    /// Offers a received datagram. Returns true when it was the response to a query in flight
    /// (which it completes); false for anything else — not STUN, malformed, not a Binding
    /// response, an unknown or finished transaction, or the right transaction from the wrong
    /// source (counted in <see cref="Counters"/>). Never throws on network input; allocates only
    /// for a matching response. Borrowed: <paramref name="datagram"/> only during the call.
    /// </summary>
    public bool TryHandleResponse(ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        ArgumentNullException.ThrowIfNull(from);
        if (StunMessage.TryRead(datagram, out StunMessage response) != StunReadResult.Success)
        {
            Counters.CountMalformed();
            return false;
        }

        if (response.Class is not (StunClass.SuccessResponse or StunClass.ErrorResponse) || response.Method != StunMethod.Binding)
        {
            Counters.CountNotResponse();
            return false;
        }

        Transaction? transaction;
        lock (_gate)
        {
            _pending.TryGetValue(response.TransactionId, out transaction);
        }

        if (transaction is null)
        {
            Counters.CountUnmatched();
            return false;
        }

        // The transaction id alone would do against off-path attackers; the source check also
        // keeps a response relayed by some other host from being taken as the server's view.
        if (!SameEndpoint(transaction.Server, from))
        {
            Counters.CountWrongSource();
            return false;
        }

        StunResult result = Interpret(response, transaction);
        if (!transaction.TryComplete(result))
        {
            Counters.CountUnmatched(); // a duplicate answer to a retransmission, after the first completed
            return false;
        }

        Counters.CountMatched();
        return true;
    }

    private StunResult Interpret(in StunMessage response, Transaction transaction)
    {
        TimeSpan rtt = _time.GetElapsedTime(Volatile.Read(ref transaction.LastSentTimestamp));
        string? software = response.TryGetSoftware(out ReadOnlySpan<byte> softwareUtf8) ? Encoding.UTF8.GetString(softwareUtf8) : null;
        var result = new StunResult
        {
            Status = StunResultStatus.InvalidResponse,
            Server = transaction.Server,
            RoundTripTime = rtt,
            Transmissions = transaction.Transmissions,
            ServerSoftware = software,
        };

        Span<ushort> unknown = stackalloc ushort[4];
        int unknownCount = response.GetUnknownComprehensionRequired(unknown);
        if (unknownCount > 0)
        {
            // RFC 8489 §7.3.3/§7.3.4: such a response is discarded and the transaction has failed.
            return result with
            {
                Problem = $"the response from {transaction.Server} has comprehension-required attributes this client does not know: "
                    + string.Join(", ", unknown[..unknownCount].ToArray().Select(t => $"0x{t:x4}")),
            };
        }

        if (response.Class == StunClass.ErrorResponse)
        {
            if (!response.TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason))
            {
                return result with { Problem = $"the error response from {transaction.Server} has no valid ERROR-CODE" };
            }

            string reasonText = Encoding.UTF8.GetString(reason);
            return result with
            {
                Status = StunResultStatus.ErrorResponse,
                ErrorCode = code,
                ErrorReason = reasonText,
                Problem = $"{transaction.Server} answered with error {code} \"{reasonText}\"",
            };
        }

        if (!response.TryGetXorMappedAddress(out Core.Net.UdpEndpoint mapped) && !response.TryGetMappedAddress(out mapped))
        {
            return result with { Problem = $"the success response from {transaction.Server} has no (XOR-)MAPPED-ADDRESS" };
        }

        return result with { Status = StunResultStatus.Success, ReflexiveEndPoint = mapped.ToIPEndPoint() };
    }

    private void Transmit(Transaction transaction, ReadOnlySpan<byte> request, IPEndPoint server)
    {
        Volatile.Write(ref transaction.LastSentTimestamp, _time.GetTimestamp());
        Interlocked.Increment(ref transaction.TransmissionCount);
        Counters.CountTransmission();
        try
        {
            _send(request, server);
        }
        catch (SocketException e)
        {
            // ENETUNREACH while an interface comes up, ICMP errors reported on the socket, a full
            // send buffer: the request is as good as lost, which retransmission is there for.
            transaction.LastSendError = $"{e.SocketErrorCode} ({e.Message})";
            Counters.CountSendError();
        }
    }

    // Waits for the completion or the delay; true when completed first.
    private async Task<bool> WaitAsync(Task completion, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var stopDelay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task delay = Task.Delay(wait, _time, stopDelay.Token);
        Task first = await Task.WhenAny(completion, delay).ConfigureAwait(false);
        await stopDelay.CancelAsync().ConfigureAwait(false); // releases the timer when the response won
        cancellationToken.ThrowIfCancellationRequested();
        return first == completion;
    }

    private static bool SameEndpoint(IPEndPoint expected, IPEndPoint actual) => actual.Unmapped().Equals(expected);

    private sealed class Transaction(StunTransactionId id, IPEndPoint server)
    {
        // Continuations run on the thread pool, never inline on the receive thread that completes.
        private readonly TaskCompletionSource<StunResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long LastSentTimestamp;
        public int TransmissionCount;

        public StunTransactionId Id { get; } = id;

        public IPEndPoint Server { get; } = server;

        public Task<StunResult> Completion => _completion.Task;

        public int Transmissions => Volatile.Read(ref TransmissionCount);

        public string? LastSendError { get; set; }

        public bool TryComplete(StunResult result) => _completion.TrySetResult(result);
    }
}

/// <summary>What a <see cref="StunClient"/> sent and what it did with what it was given. Thread-safe.</summary>
public sealed class StunClientCounters
{
    private long _transmissions;
    private long _sendErrors;
    private long _matched;
    private long _timeouts;
    private long _malformed;
    private long _notResponse;
    private long _unmatched;
    private long _wrongSource;

    /// <summary>Requests handed to the send delegate (first copies and retransmissions).</summary>
    public long Transmissions => Volatile.Read(ref _transmissions);

    /// <summary>Sends that threw a <see cref="SocketException"/>.</summary>
    public long SendErrors => Volatile.Read(ref _sendErrors);

    /// <summary>Responses that completed a query (success, error or invalid).</summary>
    public long Matched => Volatile.Read(ref _matched);

    /// <summary>Queries that ended without a response.</summary>
    public long Timeouts => Volatile.Read(ref _timeouts);

    /// <summary>Dropped: not STUN, malformed, or FINGERPRINT wrong.</summary>
    public long Malformed => Volatile.Read(ref _malformed);

    /// <summary>Dropped: requests, indications, or other methods.</summary>
    public long NotResponse => Volatile.Read(ref _notResponse);

    /// <summary>Dropped: no query in flight with that transaction id (late, duplicate or forged).</summary>
    public long Unmatched => Volatile.Read(ref _unmatched);

    /// <summary>Dropped: the transaction id matched but the source was not the server queried.</summary>
    public long WrongSource => Volatile.Read(ref _wrongSource);

    internal void CountTransmission() => Interlocked.Increment(ref _transmissions);

    internal void CountSendError() => Interlocked.Increment(ref _sendErrors);

    internal void CountMatched() => Interlocked.Increment(ref _matched);

    internal void CountTimeout() => Interlocked.Increment(ref _timeouts);

    internal void CountMalformed() => Interlocked.Increment(ref _malformed);

    internal void CountNotResponse() => Interlocked.Increment(ref _notResponse);

    internal void CountUnmatched() => Interlocked.Increment(ref _unmatched);

    internal void CountWrongSource() => Interlocked.Increment(ref _wrongSource);
}
