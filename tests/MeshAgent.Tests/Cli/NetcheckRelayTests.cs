using System.Net;
using MeshAgent.Commands;
using MeshAgent.Engine.Nat;
using MeshAgent.Tests.Api;

namespace MeshAgent.Tests.Cli;

/// <summary>netcheck's relay latency lines, and where it takes the relays from when none is given.</summary>
public sealed class NetcheckRelayTests
{
    private static readonly IPEndPoint Relay = new(IPAddress.Parse("198.51.100.1"), 3478);

    [Fact]
    public void A_relay_that_answers_shows_its_round_trip_and_session_state()
    {
        var result = new StunResult { Status = StunResultStatus.Success, Server = Relay, RoundTripTime = TimeSpan.FromMilliseconds(1.94), ReflexiveEndPoint = Relay, Transmissions = 1 };

        Assert.Equal("  relay 198.51.100.1:3478, connected: rtt 1.9 ms", NetcheckCommand.FormatRelay("198.51.100.1:3478", Relay, "connected", result, 5));
        Assert.Equal("  relay relay.example.org:3478 (198.51.100.1:3478): rtt 1.9 ms", NetcheckCommand.FormatRelay("relay.example.org:3478", Relay, null, result, 5));
    }

    [Fact]
    public void A_silent_relay_says_what_that_means()
    {
        var result = new StunResult { Status = StunResultStatus.Timeout, Server = Relay, Problem = "no response" };

        string line = NetcheckCommand.FormatRelay("198.51.100.1:3478", Relay, "connecting", result, 2);

        Assert.Equal("  relay 198.51.100.1:3478, connecting: no STUN answer within 2 s — UDP to the relay is blocked or the relay is down (members here would need its TCP port)", line);
    }

    [Fact]
    public async Task Without_relays_in_the_network_netcheck_says_so_after_the_stun_checks()
    {
        // The daemon (a fake node whose network has no relay) is asked; the STUN part goes to two closed loopback
        // ports, so it ends quickly with "no UDP" — the relay line is what this test is about.
        await using ApiTestServer server = await ApiTestServer.StartAsync();

        CliRunner.Result run = await CliRunner.RunAsync("netcheck", "--stun", "127.0.0.1:9", "--stun", "127.0.0.1:7", "--timeout", "0.5", "--socket", server.SocketPath);

        Assert.Contains("relays: the network has none", run.Output, StringComparison.Ordinal);
        Assert.Equal(["status"], server.Control.Calls.Select(c => c.Method));
    }
}
