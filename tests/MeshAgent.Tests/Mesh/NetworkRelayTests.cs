using System.Buffers;
using System.Runtime.Versioning;
using System.Text.Json.Nodes;
using MeshAgent.Core.MessagePack;
using MeshAgent.Core.Trust;
using MeshAgent.Engine.Mesh;
using MeshAgent.Engine.State;
using MeshAgent.Tests.StateFiles;

namespace MeshAgent.Tests.Mesh;

/// <summary>Relay configuration: the CLI form, the snapshot field 7 a joiner receives, and node.json.</summary>
[SupportedOSPlatform("linux")]
public sealed class NetworkRelayTests
{
    private static readonly string RelayKey = new NodeIdentityKeyText().Text;

    [Theory]
    [InlineData("203.0.113.7:3478", "203.0.113.7:3478", null)]
    [InlineData("relay.example.org:3478,tcp=443", "relay.example.org:3478", 443)]
    [InlineData("[2001:db8::7]:3478, tcp=8443", "[2001:db8::7]:3478", 8443)]
    public void Parses_the_cli_form(string text, string address, int? tcp)
    {
        Assert.True(NetworkRelay.TryParse(text, out NetworkRelay? relay, out string? error), error);
        Assert.Equal(address, relay.Address);
        Assert.Equal(tcp, relay.TcpPort);
        Assert.Null(relay.Key);
        Assert.True(relay.TryGetAddress(out _));
    }

    [Fact]
    public void Parses_a_pinned_key_and_prints_the_same_form_back()
    {
        string text = $"198.51.100.1:3478,tcp=443,key={RelayKey}";
        Assert.True(NetworkRelay.TryParse(text, out NetworkRelay? relay, out string? error), error);
        Assert.Equal(RelayKey, relay.Key);
        Assert.NotNull(relay.PinnedKey);
        Assert.Equal(text, relay.ToString());
    }

    [Theory]
    [InlineData("", "not a relay address")]
    [InlineData("relay.example.org", "not a relay address")]
    [InlineData("1.2.3.4:0", "not a relay address")]
    [InlineData("1.2.3.4:3478,tcp=70000", "tcp=70000")]
    [InlineData("1.2.3.4:3478,key=meshnode1:nonsense", "key=meshnode1:nonsense")]
    [InlineData("1.2.3.4:3478,udp=5", "udp=5")]
    public void Refuses_bad_input_naming_the_part(string text, string named)
    {
        Assert.False(NetworkRelay.TryParse(text, out _, out string? error));
        Assert.Contains(named, error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_snapshot_carries_relays_as_field_7()
    {
        var original = new MembershipSnapshot
        {
            NetworkName = "n",
            IPv4Network = "100.96.0.0/16",
            IPv6Prefix = "fd00:1::/64",
            Relays =
            [
                new NetworkRelay { Address = "203.0.113.7:3478" },
                new NetworkRelay { Address = "relay.example.org:3478", TcpPort = 443, Key = RelayKey },
            ],
        };
        Assert.True(MembershipSnapshot.TryDecode(original.Encode(), out MembershipSnapshot? decoded, out string? error), error);
        Assert.Equal(original.Relays, decoded.Relays);
    }

    [Fact]
    public void A_snapshot_from_an_inviter_without_relays_decodes_with_none()
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(output);
        writer.WriteMapHeader(3);
        writer.WriteUInt64(1);
        writer.WriteString("old");
        writer.WriteUInt64(2);
        writer.WriteString("100.96.0.0/16");
        writer.WriteUInt64(3);
        writer.WriteString("fd00:1::/64");
        Assert.True(MembershipSnapshot.TryDecode(output.WrittenSpan, out MembershipSnapshot? decoded, out string? error), error);
        Assert.Empty(decoded.Relays);
    }

    [Fact]
    public void Relays_round_trip_in_node_json_and_older_files_without_them_load()
    {
        using var temp = new TemporaryStateDirectory();
        var saved = new NodeState
        {
            NetworkName = "n",
            RootPublicKey = new byte[32],
            IPv4Network = "100.96.0.0/16",
            IPv6Prefix = "fd00:1::/64",
            Certificate = [1, 2, 3],
            Relays = [new NetworkRelay { Address = "203.0.113.7:3478", TcpPort = 443, Key = RelayKey }],
        };
        using (StateDirectory state = StateDirectory.Open(temp.StatePath))
        {
            state.SaveNodeState(saved);
            Assert.Equal(saved.Relays, state.LoadNodeState()!.Relays);
        }

        string path = temp.File(StateDirectory.NodeStateFileName);
        JsonObject json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.True(json.Remove("relays"));
        File.WriteAllText(path, json.ToJsonString());
        using StateDirectory reopened = StateDirectory.Open(temp.StatePath);
        NodeState? loaded = reopened.LoadNodeState();
        Assert.NotNull(loaded);
        Assert.Empty(loaded.Relays);
    }

    /// <summary>A real node key's text form (what meshrelay key prints).</summary>
    private sealed class NodeIdentityKeyText
    {
        public string Text { get; } = CreateKey();

        private static string CreateKey()
        {
            using NodeIdentity identity = NodeIdentity.Generate();
            return identity.PublicKey.ToString();
        }
    }
}
