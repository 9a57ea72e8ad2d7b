using System.Net;
using MeshAgent.Core.Trust;
using MeshAgent.Relay;
using Microsoft.Extensions.Logging;

namespace MeshAgent.Tests.Relay;

/// <summary>meshrelay configuration: the file format, command-line overrides, and errors with line numbers.</summary>
public sealed class RelaySettingsTests
{
    private static readonly string RootA = RelayFixtures.Root(1).PublicKey.ToString();
    private static readonly string RootB = RelayFixtures.Root(2).PublicKey.ToString();

    [Fact]
    public void A_config_file_gives_every_setting()
    {
        string text = $"""
            # meshrelay.conf
            listen = 0.0.0.0:3478
            listen = [::]:3478      # both families
            tcp-listen = 0.0.0.0:443

            accept-root = {RootA}
            accept-root = {RootB}
            state-dir = /srv/relay
            max-clients = 500
            client-packets-per-second = 2000
            client-bytes-per-second = 1000000
            idle-timeout = 90
            tcp-queue-bytes = 1048576
            """;
        RelayOptions options = Build(text, [], out List<string> errors);
        Assert.Empty(errors);
        Assert.Equal([IPEndPoint.Parse("0.0.0.0:3478"), IPEndPoint.Parse("[::]:3478")], options.Listen);
        Assert.Equal([IPEndPoint.Parse("0.0.0.0:443")], options.TcpListen);
        Assert.Equal([NetworkRootPublicKey.Parse(RootA), NetworkRootPublicKey.Parse(RootB)], options.AcceptedRoots);
        Assert.Equal("/srv/relay", options.StateDirectory);
        Assert.Equal(500, options.MaxClients);
        Assert.Equal(2000, options.ClientPacketsPerSecond);
        Assert.Equal(1_000_000, options.ClientBytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(90), options.IdleTimeout);
        Assert.Equal(1_048_576, options.TcpMaxQueuedBytes);
    }

    [Fact]
    public void Command_line_values_replace_the_files_values_key_by_key_and_defaults_fill_the_rest()
    {
        string text = $"""
            listen = 0.0.0.0:3478
            accept-root = {RootA}
            max-clients = 500
            """;
        RelayOptions options = Build(text, [new("listen", "127.0.0.1:9000", "--listen"), new("max-clients", "7", "--max-clients")], out List<string> errors);
        Assert.Empty(errors);
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:9000")], options.Listen);
        Assert.Equal(7, options.MaxClients);
        Assert.Equal([NetworkRootPublicKey.Parse(RootA)], options.AcceptedRoots);
        Assert.Equal("/var/lib/meshrelay", options.StateDirectory);

        RelayOptions defaults = Build(null, [new("accept-root", RootA, "--accept-root")], out errors);
        Assert.Empty(errors);
        Assert.Equal([new IPEndPoint(IPAddress.Any, 3478)], defaults.Listen);
        Assert.Equal(10_000, defaults.MaxClients);
        Assert.Equal(TimeSpan.FromSeconds(60), defaults.IdleTimeout);
    }

    [Fact]
    public void Every_error_is_reported_with_its_line_and_nothing_is_built()
    {
        string text = """
            listen = 0.0.0.0
            lisen = 0.0.0.0:3478
            accept-root = meshroot1:short
            max-clients = many
            max-clients = 5
            just some words
            idle-timeout =
            """;
        RelayOptions? options = RelaySettings.Build(Parse(text, out List<string> errors), [], errors);
        Assert.Null(options);
        Assert.Contains(errors, e => e.StartsWith("relay.conf:1: listen: '0.0.0.0' is not an address:port", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("relay.conf:2: unknown key 'lisen'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("relay.conf:3: accept-root:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("relay.conf:4: max-clients: 'many' is not a whole number", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("relay.conf:5: 'max-clients' is already set on line 4", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("relay.conf:6: expected 'key = value'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("relay.conf:7: 'idle-timeout' has no value", StringComparison.Ordinal));
        Assert.Equal(7, errors.Count);
    }

    [Fact]
    public void Options_that_parse_but_cannot_run_are_refused_by_key()
    {
        RelayOptions? options = RelaySettings.Build([], [new("listen", "0.0.0.0:3478", "--listen"), new("listen", "0.0.0.0:3478", "--listen")], new List<string>());
        Assert.Null(options);

        var errors = new List<string>();
        Assert.Null(RelaySettings.Build([], [new("listen", "0.0.0.0:3478", "--listen")], errors));
        Assert.Single(errors);
        Assert.StartsWith("accept-root: no network root key", errors[0], StringComparison.Ordinal);

        IReadOnlyList<string> invalid = new RelayOptions { AcceptedRoots = [NetworkRootPublicKey.Parse(RootA), NetworkRootPublicKey.Parse(RootA)], MaxClients = 0 }.Validate();
        Assert.Contains(invalid, e => e.StartsWith("listen:", StringComparison.Ordinal));
        Assert.Contains(invalid, e => e.StartsWith("accept-root: ", StringComparison.Ordinal) && e.Contains("more than once", StringComparison.Ordinal));
        Assert.Contains(invalid, e => e.StartsWith("max-clients:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0.0.0.0:3478", true)]
    [InlineData("[::]:3478", true)]
    [InlineData("[2001:db8::1]:443", true)]
    [InlineData("127.0.0.1:0", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::", false)]
    [InlineData("2001:db8::1:443", false)]
    [InlineData("[::]", false)]
    [InlineData("relay.example.net:3478", false)]
    [InlineData("0.0.0.0:70000", false)]
    public void Endpoints_need_an_ip_literal_and_an_explicit_port(string text, bool valid) =>
        Assert.Equal(valid, RelaySettings.TryParseEndpoint(text, out _));

    [Fact]
    public void Run_exits_with_InvalidInput_and_lists_the_errors_without_starting()
    {
        using var state = new TempDirectory();
        string config = Path.Combine(state.Path, "relay.conf");
        File.WriteAllText(config, "listen = 0.0.0.0\n");
        var error = new StringWriter();
        int code = RunCommand.Run(new FileInfo(config), [new("max-clients", "-1", "--max-clients")], LogLevel.None, error);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains($"{config}:1: listen:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("--max-clients: max-clients: '-1'", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("nothing was started", error.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(state.Path, "relay.key")));
    }

    private static RelayOptions Build(string? text, RelaySetting[] commandLine, out List<string> errors)
    {
        errors = [];
        List<RelaySetting> file = text is null ? [] : Parse(text, out errors);
        RelayOptions? options = RelaySettings.Build(file, commandLine, errors);
        Assert.True(options is not null, string.Join(Environment.NewLine, errors));
        return options;
    }

    private static List<RelaySetting> Parse(string text, out List<string> errors)
    {
        var settings = new List<RelaySetting>();
        errors = [];
        RelaySettings.ParseFile(text, "relay.conf", settings, errors);
        return settings;
    }
}
