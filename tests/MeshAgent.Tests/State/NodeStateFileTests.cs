using System.Runtime.Versioning;
using System.Text.Json;
using MeshAgent.Engine.State;

namespace MeshAgent.Tests.StateFiles;

/// <summary>node.json: round trip of every field, the format number, and damaged or newer files.</summary>
[SupportedOSPlatform("linux")]
public sealed class NodeStateFileTests
{
    private static NodeState Sample() => new()
    {
        NetworkName = "acme-production",
        RootPublicKey = Bytes(32, 0x10),
        IPv4Network = "100.96.0.0/16",
        IPv6Prefix = "fd7a:115c:a1e0::/48",
        Certificate = Bytes(180, 0x20),
        Incarnation = 4_000_000_001,
        RecordVersion = ulong.MaxValue - 3,
        Members = [Bytes(90, 0x30), Bytes(120, 0x40), []],
        Revocations = [Bytes(100, 0x50)],
        Left = true,
        Revoked = true,
    };

    [Fact]
    public void Absent_until_saved_then_every_field_round_trips_in_a_0600_file()
    {
        using var temp = new TemporaryStateDirectory();
        NodeState saved = Sample();
        using (StateDirectory state = StateDirectory.Open(temp.StatePath))
        {
            Assert.Null(state.LoadNodeState());
            state.SaveNodeState(saved);
        }

        string path = temp.File(StateDirectory.NodeStateFileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using StateDirectory reopened = StateDirectory.Open(temp.StatePath);
        NodeState loaded = reopened.LoadNodeState()!;
        Assert.Equal(NodeState.CurrentFormat, loaded.Format);
        Assert.Equal(saved.NetworkName, loaded.NetworkName);
        Assert.Equal(saved.RootPublicKey, loaded.RootPublicKey);
        Assert.Equal(saved.IPv4Network, loaded.IPv4Network);
        Assert.Equal(saved.IPv6Prefix, loaded.IPv6Prefix);
        Assert.Equal(saved.Certificate, loaded.Certificate);
        Assert.Equal(saved.Incarnation, loaded.Incarnation);
        Assert.Equal(saved.RecordVersion, loaded.RecordVersion);
        Assert.Equal(saved.Members, loaded.Members);
        Assert.Equal(saved.Revocations, loaded.Revocations);
        Assert.True(loaded.Left);
        Assert.True(loaded.Revoked);
    }

    [Fact]
    public void The_file_is_camel_case_json_with_a_format_number_and_base64_bytes()
    {
        using var temp = new TemporaryStateDirectory();
        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        state.SaveNodeState(Sample() with { Format = 7 }); // the writer always writes its own format

        using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(temp.File(StateDirectory.NodeStateFileName)));
        JsonElement root = json.RootElement;
        Assert.Equal(1, root.GetProperty("format").GetInt32());
        Assert.Equal("acme-production", root.GetProperty("networkName").GetString());
        Assert.Equal("100.96.0.0/16", root.GetProperty("ipv4Network").GetString());
        Assert.Equal("fd7a:115c:a1e0::/48", root.GetProperty("ipv6Prefix").GetString());
        Assert.Equal(Convert.ToBase64String(Bytes(32, 0x10)), root.GetProperty("rootPublicKey").GetString());
        Assert.Equal(3, root.GetProperty("members").GetArrayLength());
        Assert.Equal(4_000_000_001u, root.GetProperty("incarnation").GetUInt32());
    }

    public static TheoryData<string, string> DamagedFiles() => new()
    {
        { "", "it is empty" },
        { "{\"format\": 1, \"networkName\": \"acme\", \"rootPub", "not a JSON object with a format number" },
        { "not json at all", "not a JSON object with a format number" },
        { "null", "no \"format\" number" },
        { "{}", "no \"format\" number" },
        { "[1, 2]", "not a JSON object with a format number" },
        { "{\"format\": 0}", "format number 0 is not valid" },
        { "{\"format\": 1}", "does not match the node state format" },
        { "{\"format\": \"one\"}", "not a JSON object with a format number" },
        { Valid().Replace("\"rootPublicKey\": \"", "\"rootPublicKey\": \"!!", StringComparison.Ordinal), "does not match the node state format" },
        { Valid().Replace("\"networkName\": \"acme-production\"", "\"networkName\": null", StringComparison.Ordinal), "does not match the node state format" },
        { Valid().Replace("\"revocations\": [", "\"revocations\": [null,", StringComparison.Ordinal), "the revocation list holds a null entry" },
        { Valid().Replace("100.96.0.0/16", "100.96.0.0/99", StringComparison.Ordinal), "IPv4 network '100.96.0.0/99' is not an IPv4 prefix" },
        { Valid().Replace("\"rootPublicKey\": \"", "\"rootPublicKey\": \"AAAA", StringComparison.Ordinal), "root public key has 35 bytes instead of 32" },
    };

    [Theory]
    [MemberData(nameof(DamagedFiles))]
    public void A_damaged_node_state_is_reported_with_the_file_and_the_next_step(string content, string reason)
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        string path = temp.File(StateDirectory.NodeStateFileName);
        File.WriteAllText(path, content);

        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        StateException e = Assert.Throws<StateException>(() => state.LoadNodeState());
        Assert.StartsWith($"state file {path} is damaged: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Contains("Restore it from a backup, or move it away", e.Message, StringComparison.Ordinal);
        Assert.Contains("must join again", e.Message, StringComparison.Ordinal);
        Assert.Equal(content, File.ReadAllText(path));
    }

    [Fact]
    public void Every_truncation_of_a_valid_file_is_reported_as_damaged()
    {
        using var temp = new TemporaryStateDirectory();
        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        state.SaveNodeState(Sample());
        string path = temp.File(StateDirectory.NodeStateFileName);
        byte[] full = File.ReadAllBytes(path);

        // Every prefix that is not the whole document (trailing white space aside) must be refused.
        int end = full.AsSpan().TrimEnd("\n "u8).Length;
        for (int length = 0; length < end; length += 7)
        {
            File.WriteAllBytes(path, full[..length]);
            StateException e = Assert.Throws<StateException>(() => state.LoadNodeState());
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_file_from_a_newer_meshagent_asks_for_an_upgrade()
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        string path = temp.File(StateDirectory.NodeStateFileName);
        File.WriteAllText(path, "{\"format\": 2, \"somethingNew\": {\"a\": [1]}}");

        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        StateException e = Assert.Throws<StateException>(() => state.LoadNodeState());
        Assert.Equal($"{path} was written by a newer meshagent (format 2; this version reads up to format 1) — upgrade meshagent", e.Message);
    }

    [Fact]
    public void Unknown_fields_of_the_same_format_are_ignored()
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        File.WriteAllText(temp.File(StateDirectory.NodeStateFileName), Valid().Replace("{", "{\"addedLater\": 5,", StringComparison.Ordinal));

        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        Assert.Equal("acme-production", state.LoadNodeState()!.NetworkName);
    }

    [Fact]
    public void Optional_fields_may_be_absent()
    {
        using var temp = new TemporaryStateDirectory();
        Directory.CreateDirectory(temp.StatePath);
        File.WriteAllText(
            temp.File(StateDirectory.NodeStateFileName),
            "{\"format\": 1, \"networkName\": \"n\", \"rootPublicKey\": \"" + Convert.ToBase64String(new byte[32]) + "\", " +
            "\"ipv4Network\": \"100.96.0.0/16\", \"ipv6Prefix\": \"fd00::/48\", \"certificate\": \"AQ==\"}");

        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        NodeState loaded = state.LoadNodeState()!;
        Assert.Empty(loaded.Members);
        Assert.Empty(loaded.Revocations);
        Assert.Equal(0u, loaded.Incarnation);
        Assert.False(loaded.Left);
    }

    [Fact]
    public void A_state_that_could_not_be_loaded_again_is_not_saved()
    {
        using var temp = new TemporaryStateDirectory();
        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        Assert.Throws<ArgumentException>(() => state.SaveNodeState(Sample() with { RootPublicKey = new byte[31] }));
        Assert.Throws<ArgumentException>(() => state.SaveNodeState(Sample() with { IPv4Network = "fd00::/8" }));
        Assert.False(File.Exists(temp.File(StateDirectory.NodeStateFileName)));
    }

    private static byte[] Bytes(int length, byte seed) => Enumerable.Range(0, length).Select(i => (byte)(seed + i)).ToArray();

    /// <summary>The JSON this version writes for <see cref="Sample"/>.</summary>
    private static string Valid()
    {
        using var temp = new TemporaryStateDirectory();
        using StateDirectory state = StateDirectory.Open(temp.StatePath);
        state.SaveNodeState(Sample());
        return File.ReadAllText(temp.File(StateDirectory.NodeStateFileName));
    }
}
