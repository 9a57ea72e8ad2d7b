using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Net;
using MeshAgent.Core.Stun;
using MeshAgent.Engine.Nat;

namespace MeshAgent.Tests.Stun;

/// <summary>
/// <see cref="StunClient"/> on simulated time (<see cref="TimerClock"/>) against the real
/// <see cref="StunResponder"/>: the RFC 8489 §6.2.1 retransmission schedule and its bound,
/// transaction and source matching, error and invalid responses, concurrency, cancellation.
/// </summary>
public sealed class StunClientTests
{
    private static readonly IPEndPoint Server = IPEndPoint.Parse("198.51.100.10:3478");
    private static readonly IPEndPoint OtherServer = IPEndPoint.Parse("198.51.100.11:3478");

    [Fact]
    public async Task Unanswered_query_follows_the_rfc_schedule_when_the_timeout_allows()
    {
        var network = new SimulatedStunNetwork(new TimerClock());
        StunClient client = Client(network, new StunClientOptions { Timeout = TimeSpan.FromMinutes(1) });

        StunResult result = await network.RunAsync(client.QueryAsync(Server));

        // RFC 8489 §6.2.1's example: 0, 500, 1500, 3500, 7500, 15500, 31500 ms, failure at 39500 ms.
        Assert.Equal([0, 500, 1500, 3500, 7500, 15500, 31500], network.SentDatagrams.Select(s => s.At.TotalMilliseconds));
        Assert.Equal(TimeSpan.FromMilliseconds(39500), network.Clock.Elapsed);
        Assert.Equal(StunResultStatus.Timeout, result.Status);
        Assert.Equal(7, result.Transmissions);
        Assert.All(network.SentDatagrams, s => Assert.Equal(network.SentDatagrams[0].Datagram, s.Datagram)); // same transaction id each time
        Assert.All(network.SentDatagrams, s => Assert.Equal(Server, s.Destination));
        Assert.Contains("no response from 198.51.100.10:3478 after 7 request(s) in 39.5 s", result.Problem);
        Assert.Equal(0, client.PendingCount);
        Assert.Equal(1, client.Counters.Timeouts);
    }

    [Fact]
    public async Task Default_timeout_cuts_the_schedule_at_five_seconds()
    {
        var network = new SimulatedStunNetwork(new TimerClock());
        StunClient client = Client(network);

        StunResult result = await network.RunAsync(client.QueryAsync(Server));

        Assert.Equal([0, 500, 1500, 3500], network.SentDatagrams.Select(s => s.At.TotalMilliseconds));
        Assert.Equal(TimeSpan.FromSeconds(5), network.Clock.Elapsed);
        Assert.Equal(StunResultStatus.Timeout, result.Status);
        Assert.False(result.IsSuccess);
    }

    [Fact]
    public async Task Explicit_timeout_overrides_the_default()
    {
        var network = new SimulatedStunNetwork(new TimerClock());
        StunClient client = Client(network);

        StunResult result = await network.RunAsync(client.QueryAsync(Server, TimeSpan.FromMilliseconds(1200)));

        Assert.Equal([0, 500], network.SentDatagrams.Select(s => s.At.TotalMilliseconds));
        Assert.Equal(TimeSpan.FromMilliseconds(1200), network.Clock.Elapsed);
        Assert.Equal(StunResultStatus.Timeout, result.Status);
    }

    [Fact]
    public async Task Answered_query_reports_the_reflexive_endpoint_and_round_trip_time()
    {
        var clock = new TimerClock();
        var network = new SimulatedStunNetwork(clock);
        network.AddServer(Server);
        network.Drop = (_, _) => true; // answered by hand below, 30 ms after the request
        StunClient client = Client(network);

        Task<StunResult> query = client.QueryAsync(Server);
        Assert.NotNull(await clock.WaitForTimerAsync(query));
        clock.AdvanceTo(TimeSpan.FromMilliseconds(30));
        byte[] response = Respond(network.SentDatagrams.Single().Datagram, "203.0.113.10:40000");
        Assert.True(client.TryHandleResponse(response, Server));
        StunResult result = await query;

        Assert.Equal(StunResultStatus.Success, result.Status);
        Assert.Equal(IPEndPoint.Parse("203.0.113.10:40000"), result.ReflexiveEndPoint);
        Assert.Equal(TimeSpan.FromMilliseconds(30), result.RoundTripTime);
        Assert.Equal(1, result.Transmissions);
        Assert.Equal("test responder", result.ServerSoftware);
        Assert.Equal(Server, result.Server);
        Assert.Equal(0, client.PendingCount);
        Assert.Equal(1, client.Counters.Matched);

        // The same response again (a duplicate, or the answer to a retransmission) is not taken.
        Assert.False(client.TryHandleResponse(response, Server));
        Assert.Equal(1, client.Counters.Unmatched);
    }

    [Fact]
    public async Task Answer_to_a_retransmission_completes_the_query()
    {
        var network = new SimulatedStunNetwork(new TimerClock());
        network.AddServer(Server);
        network.Drop = (_, count) => count < 3;
        StunClient client = Client(network);

        StunResult result = await network.RunAsync(client.QueryAsync(Server));

        Assert.Equal(StunResultStatus.Success, result.Status);
        Assert.Equal(3, result.Transmissions);
        Assert.Equal(TimeSpan.Zero, result.RoundTripTime); // answered at once, measured from the third copy
        Assert.Equal([0, 500, 1500], network.SentDatagrams.Select(s => s.At.TotalMilliseconds));
        Assert.Equal(IPEndPoint.Parse("203.0.113.10:40000"), result.ReflexiveEndPoint);
    }

    [Fact]
    public async Task Responses_that_do_not_match_are_ignored_and_counted()
    {
        var clock = new TimerClock();
        var network = new SimulatedStunNetwork(clock) { Drop = (_, _) => true };
        StunClient client = Client(network);
        Task<StunResult> query = client.QueryAsync(Server);
        await clock.WaitForTimerAsync(query);
        byte[] request = network.SentDatagrams.Single().Datagram;

        byte[] otherTransaction = new byte[64];
        otherTransaction = otherTransaction[..StunMessageWriter.WriteBindingRequest(otherTransaction, StunTransactionId.NewRandom())];
        Assert.False(client.TryHandleResponse(Respond(otherTransaction, "192.0.2.66:6666"), Server));
        Assert.Equal(1, client.Counters.Unmatched);

        Assert.False(client.TryHandleResponse(Respond(request, "192.0.2.66:6666"), OtherServer));
        Assert.Equal(1, client.Counters.WrongSource);

        Assert.False(client.TryHandleResponse(request, Server)); // a request, not a response
        Assert.Equal(1, client.Counters.NotResponse);

        Assert.False(client.TryHandleResponse([1, 0, 0, 0, 9, 9, 9, 9], Server));
        Assert.Equal(1, client.Counters.Malformed);

        Assert.False(query.IsCompleted);
        // The right response, from the server's address as a dual-stack socket reports it.
        Assert.True(client.TryHandleResponse(Respond(request, "203.0.113.10:40000"), IPEndPoint.Parse("[::ffff:198.51.100.10]:3478")));
        StunResult result = await query;
        Assert.Equal(IPEndPoint.Parse("203.0.113.10:40000"), result.ReflexiveEndPoint);
    }

    [Fact]
    public async Task Error_response_ends_the_query_with_code_and_reason()
    {
        var clock = new TimerClock();
        var network = new SimulatedStunNetwork(clock) { Drop = (_, _) => true };
        StunClient client = Client(network);
        Task<StunResult> query = client.QueryAsync(Server);
        await clock.WaitForTimerAsync(query);
        StunTransactionId id = StunTransactionId.Read(network.SentDatagrams.Single().Datagram.AsSpan(8));

        byte[] buffer = new byte[256];
        int length = StunMessageWriter.WriteErrorResponse(buffer, StunMethod.Binding, id, 401, "Unauthorized");
        Assert.True(client.TryHandleResponse(buffer.AsSpan(0, length), Server));
        StunResult result = await query;

        Assert.Equal(StunResultStatus.ErrorResponse, result.Status);
        Assert.Equal(401, result.ErrorCode);
        Assert.Equal("Unauthorized", result.ErrorReason);
        Assert.Null(result.ReflexiveEndPoint);
        Assert.Contains("198.51.100.10:3478 answered with error 401 \"Unauthorized\"", result.ToString());
    }

    [Theory]
    [InlineData("no address", "has no (XOR-)MAPPED-ADDRESS")]
    [InlineData("unknown required attribute", "comprehension-required attributes this client does not know: 0x7abc")]
    [InlineData("error without code", "has no valid ERROR-CODE")]
    public async Task Unusable_response_fails_the_transaction(string kind, string problem)
    {
        var clock = new TimerClock();
        var network = new SimulatedStunNetwork(clock) { Drop = (_, _) => true };
        StunClient client = Client(network);
        Task<StunResult> query = client.QueryAsync(Server);
        await clock.WaitForTimerAsync(query);
        StunTransactionId id = StunTransactionId.Read(network.SentDatagrams.Single().Datagram.AsSpan(8));

        var writer = new StunMessageWriter(new byte[128], kind == "error without code" ? StunMessageType.BindingError : StunMessageType.BindingSuccess, id);
        if (kind == "unknown required attribute")
        {
            writer.AddXorMappedAddress(UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("203.0.113.10:1")));
            writer.AddAttribute(0x7ABC, [1, 2, 3, 4]);
        }

        writer.AddFingerprint();
        Assert.True(client.TryHandleResponse(writer.Written, Server));
        StunResult result = await query;

        Assert.Equal(StunResultStatus.InvalidResponse, result.Status);
        Assert.Contains(problem, result.Problem);
        Assert.Null(result.ReflexiveEndPoint);
    }

    [Fact]
    public async Task Concurrent_queries_are_matched_by_transaction()
    {
        var network = new SimulatedStunNetwork(new TimerClock(), nat: destination => new IPEndPoint(IPAddress.Parse("203.0.113.20"), 1000 + destination.Port));
        var servers = Enumerable.Range(0, 8).Select(i => new IPEndPoint(IPAddress.Parse("198.51.100.10"), 3000 + i)).ToArray();
        foreach (IPEndPoint server in servers)
        {
            network.AddServer(server);
        }

        network.Drop = (destination, count) => count <= destination.Port % 3; // different servers answer different copies
        StunClient client = Client(network);

        StunResult[] results = await network.RunAsync(Task.WhenAll(servers.Select(s => client.QueryAsync(s))));

        for (int i = 0; i < servers.Length; i++)
        {
            Assert.Equal(servers[i], results[i].Server);
            Assert.Equal(new IPEndPoint(IPAddress.Parse("203.0.113.20"), 1000 + servers[i].Port), results[i].ReflexiveEndPoint);
            Assert.Equal(servers[i].Port % 3 + 1, results[i].Transmissions);
        }

        Assert.Equal(0, client.PendingCount);
    }

    [Fact]
    public async Task Cancellation_ends_the_query_and_forgets_it()
    {
        var clock = new TimerClock();
        var network = new SimulatedStunNetwork(clock);
        StunClient client = Client(network);
        using var cancel = new CancellationTokenSource();
        Task<StunResult> query = client.QueryAsync(Server, cancel.Token);
        await clock.WaitForTimerAsync(query);
        Assert.Equal(1, client.PendingCount);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => query);
        Assert.Equal(0, client.PendingCount);
        Assert.Single(network.SentDatagrams);
    }

    [Fact]
    public async Task Failing_sends_count_as_losses_and_are_reported()
    {
        var clock = new TimerClock();
        int attempts = 0;
        var client = new StunClient(
            (_, _) =>
            {
                Interlocked.Increment(ref attempts);
                throw new SocketException((int)SocketError.NetworkUnreachable);
            },
            timeProvider: clock);
        var network = new SimulatedStunNetwork(clock);

        StunResult result = await network.RunAsync(client.QueryAsync(Server));

        Assert.Equal(4, attempts);
        Assert.Equal(4, client.Counters.SendErrors);
        Assert.Equal(StunResultStatus.Timeout, result.Status);
        Assert.Contains("sending failed: NetworkUnreachable", result.Problem);
    }

    [Fact]
    public async Task Request_uses_the_injected_transaction_id_and_software()
    {
        var network = new SimulatedStunNetwork(new TimerClock());
        network.AddServer(Server);
        StunTransactionId id = StunTransactionId.Read(Convert.FromHexString("00112233445566778899aabb"));
        var client = new StunClient(network.Send, new StunClientOptions { Software = "meshagent-test" }, network.Clock, () => id);
        network.Client = client;

        StunResult result = await network.RunAsync(client.QueryAsync(Server));

        Assert.True(result.IsSuccess);
        Assert.Equal(StunReadResult.Success, StunMessage.TryRead(network.SentDatagrams.Single().Datagram, out StunMessage request));
        Assert.Equal(id, request.TransactionId);
        Assert.True(request.TryGetSoftware(out ReadOnlySpan<byte> software));
        Assert.Equal("meshagent-test"u8.ToArray(), software.ToArray());
        Assert.True(request.HasFingerprint);

        // A source that repeats ids is refused rather than mixing two transactions.
        Task<StunResult> first = client.QueryAsync(OtherServer);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.QueryAsync(OtherServer));
        await network.RunAsync(first);
    }

    [Fact]
    public void Invalid_options_are_listed_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => new StunClient(
            (_, _) => { },
            new StunClientOptions { InitialRto = TimeSpan.Zero, MaxTransmissions = 0, Timeout = TimeSpan.FromSeconds(-1) }));
        Assert.Contains("InitialRto must be positive", e.Message);
        Assert.Contains("MaxTransmissions must be at least 1", e.Message);
        Assert.Contains("Timeout must be positive", e.Message);
    }

    private static StunClient Client(SimulatedStunNetwork network, StunClientOptions? options = null)
    {
        var client = new StunClient(network.Send, options, network.Clock);
        network.Client = client;
        return client;
    }

    private static byte[] Respond(byte[] request, string source)
    {
        byte[] response = new byte[StunResponder.MaxResponseSize];
        int length = new StunResponder("test responder").Respond(request, IPEndPoint.Parse(source), response);
        Assert.True(length > 0);
        return response[..length];
    }
}
