using System.Net;
using MeshAgent.Core.Config;
using Xunit;
using static MeshAgent.Tests.Config.TestKeys;

namespace MeshAgent.Tests.Config;

public class WgQuickConfigTests
{
    private static readonly string FullExample = $"""
        # full example: every key we know
        [Interface]
        PrivateKey = {Key(1)}   # comment after value
        listenport=51820
        Address = 10.0.0.1/24, fd00::1/64
        Address = 10.0.1.1
        MTU = 1420
        DNS = 10.0.0.53, example.internal
        Table = off
        PostUp = iptables -A FORWARD -i %i -j ACCEPT # kept for bash
        PreDown = echo down
        SaveConfig = false
        FwMark = 0x1234

        [peer]
        PublicKey = {Key(2)}
        PresharedKey = {Key(3)}
        Endpoint = 203.0.113.5:51820
        AllowedIPs = 10.0.0.2/32, fd00::2/128
        AllowedIPs = 192.168.10.0/24
        PersistentKeepalive = 25

          [ Peer ]
          publickey	=	{Key(4)}
        ENDPOINT = [2001:db8::7]:4500
        AllowedIPs = 0.0.0.0/0,::/0
        PersistentKeepalive = off

        [Peer]
        PublicKey = {Key(5)}
        Endpoint = vpn.example.com:51821
        AllowedIPs =
        """;

    [Fact]
    public void ParsesEveryKeyOfAFullExample()
    {
        Assert.True(WgQuickConfig.TryParse(FullExample, "full.conf", out WgQuickConfig? config, out IReadOnlyList<ConfigError> errors), string.Join("\n", errors));
        Assert.Empty(errors);
        Assert.NotNull(config);

        Assert.Equal("full.conf", config.SourceName);
        Assert.Equal(Key(1), config.PrivateKey.RevealBase64());
        Assert.Equal(51820, config.ListenPort);
        Assert.Equal(1420, config.Mtu);
        Assert.Equal(0x1234u, config.FwMark);
        Assert.Equal(
            ["10.0.0.1/24", "fd00::1/64", "10.0.1.1/32"],
            config.Addresses.Select(a => a.ToString()));
        Assert.Equal(IPNetwork.Parse("10.0.0.0/24"), config.Addresses[0].Network);

        Assert.Equal(
            [(8, "DNS", "10.0.0.53, example.internal"), (9, "Table", "off"), (10, "PostUp", "iptables -A FORWARD -i %i -j ACCEPT # kept for bash"),
             (11, "PreDown", "echo down"), (12, "SaveConfig", "false"), (13, "FwMark", "0x1234")],
            config.IgnoredKeys.Select(k => (k.Line, k.Key, k.Value)));
        Assert.Empty(config.Warnings);

        Assert.Equal(3, config.Peers.Count);
        WgQuickPeer first = config.Peers[0];
        Assert.Equal(Key(2), first.PublicKey.ToString());
        Assert.Equal(Key(3), first.PresharedKey!.Value.RevealBase64());
        Assert.Equal(new IPEndPoint(IPAddress.Parse("203.0.113.5"), 51820), new IPEndPoint(first.Endpoint!.Address!, first.Endpoint.Port));
        Assert.Equal(["10.0.0.2/32", "fd00::2/128", "192.168.10.0/24"], first.AllowedIPs.Select(p => p.ToString()));
        Assert.Equal(25, first.PersistentKeepalive);
        Assert.Equal(15, first.Line);

        WgQuickPeer second = config.Peers[1];
        Assert.Equal(Key(4), second.PublicKey.ToBase64());
        Assert.Null(second.PresharedKey);
        Assert.Equal("[2001:db8::7]:4500", second.Endpoint!.ToString());
        Assert.Equal(IPAddress.Parse("2001:db8::7"), second.Endpoint.Address);
        Assert.Equal(["0.0.0.0/0", "::/0"], second.AllowedIPs.Select(p => p.ToString()));
        Assert.Equal(0, second.PersistentKeepalive);

        WgQuickPeer third = config.Peers[2];
        Assert.True(third.Endpoint!.IsHostName);
        Assert.Equal("vpn.example.com", third.Endpoint.Host);
        Assert.Equal(51821, third.Endpoint.Port);
        Assert.Empty(third.AllowedIPs);
    }

    [Fact]
    public void CrLfLineEndingsParseTheSame()
    {
        WgQuickConfig lf = WgQuickConfig.Parse(FullExample.ReplaceLineEndings("\n"), "lf");
        WgQuickConfig crlf = WgQuickConfig.Parse(FullExample.ReplaceLineEndings("\r\n"), "crlf");
        Assert.Equal(lf.ToWgQuickConf(), crlf.ToWgQuickConf());
        Assert.Equal(lf.IgnoredKeys.Select(k => k.Value), crlf.IgnoredKeys.Select(k => k.Value));
    }

    [Fact]
    public void Wg8ManualExampleParsesAndMasksHostBits()
    {
        WgQuickConfig config = WgQuickConfig.Parse(ReadVector("wg8-example.conf"), "wg8-example.conf");

        Assert.Equal("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", config.PrivateKey.RevealBase64());
        Assert.Equal(51820, config.ListenPort);
        Assert.Equal(
            ["xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=", "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA="],
            config.Peers.Select(p => p.PublicKey.ToString()));
        Assert.Equal(["192.95.5.67:1234", "[2607:5300:60:6b0::c05f:543]:2468", "test.wireguard.com:18981"], config.Peers.Select(p => p.Endpoint!.ToString()));

        // The manual writes 10.192.124.1/24; WireGuard masks it to the network.
        Assert.Equal(["10.192.122.3/32", "10.192.124.0/24"], config.Peers[0].AllowedIPs.Select(p => p.ToString()));
        ConfigWarning warning = Assert.Single(config.Warnings);
        Assert.Equal(8, warning.Line);
        Assert.Contains("10.192.124.1/24", warning.Message);
        Assert.Contains("10.192.124.0/24", warning.Message);
    }

    [Fact]
    public void WgQuick8ClientExampleKeepsHooksAndDnsAsIgnoredKeys()
    {
        WgQuickConfig config = WgQuickConfig.Parse(ReadVector("wg-quick8-client.conf"), "client.conf");

        Assert.Equal("10.200.100.8/24", Assert.Single(config.Addresses).ToString());
        Assert.Equal(["DNS", "PostUp", "PreDown"], config.IgnoredKeys.Select(k => k.Key));
        Assert.StartsWith("iptables -I OUTPUT ! -o %i -m mark ! --mark $(wg show %i fwmark)", config.IgnoredKeys[1].Value);
        WgQuickPeer peer = Assert.Single(config.Peers);
        Assert.Equal("/UwcSPg38hW/D9Y3tcS1FOV0K1wuURMbS0sesJEP5ak=", peer.PresharedKey!.Value.RevealBase64());
        Assert.Equal("demo.wireguard.com:51820", peer.Endpoint!.ToString());
        Assert.Equal("0.0.0.0/0", Assert.Single(peer.AllowedIPs).ToString());
    }

    [Fact]
    public void WgQuick8ServerExampleHasTwoAddressLinesAndSaveConfig()
    {
        WgQuickConfig config = WgQuickConfig.Parse(ReadVector("wg-quick8-server.conf"), "server.conf");

        Assert.Equal(["10.192.122.1/24", "10.10.0.1/16"], config.Addresses.Select(a => a.ToString()));
        IgnoredKey saveConfig = Assert.Single(config.IgnoredKeys);
        Assert.Equal(("SaveConfig", "true", 4), (saveConfig.Key, saveConfig.Value, saveConfig.Line));
        Assert.Equal(3, config.Peers.Count);
    }

    public static TheoryData<string, string> SingleErrorCases() => new()
    {
        // Brief examples, verbatim.
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nAllowedIPs = 10.0.0.0/8\n\nEndpiont = 1.2.3.4:5", "line 7: unknown key 'Endpiont' in [Peer] — did you mean 'Endpoint'?" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nAddress = 10.0.0.300/24", "line 3: Address '10.0.0.300/24' is not an IP address with prefix length" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = abc", "line 4: PublicKey is not 44 characters of base64 (32 bytes)" },

        // [Interface] values.
        { $"[Interface]\nPrivateKey = {Key(1)}\nAddress = fd00::1/129", "line 3: Address 'fd00::1/129' is not an IP address with prefix length" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nAddress = 10.1/8", "line 3: Address '10.1/8' is not" },
        { "[Interface]\nPrivateKey = tooShort=", "line 2: PrivateKey is not 44 characters of base64 (32 bytes); it has 9 characters" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nListenPort = 65536", "line 3: ListenPort '65536' is not a port number from 0 to 65535" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nListenPort = -1", "line 3: ListenPort '-1' is not a port number" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nMTU = 1420b", "line 3: MTU '1420b' is not a number from 68 to 65535" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nMTU = 67", "line 3: MTU '67' is not a number from 68 to 65535" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nFwMark = 0x100000000", "line 3: FwMark '0x100000000' is neither 'off' nor a number from 0 to 0xffffffff" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nSaveConfig = yes", "line 3: SaveConfig 'yes' is neither 'true' nor 'false'" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nAdress = 10.0.0.1/24", "line 3: unknown key 'Adress' in [Interface] — did you mean 'Address'?" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nColour = blue", "line 3: unknown key 'Colour' in [Interface]; the keys there are PrivateKey, ListenPort" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nEndpoint = 1.2.3.4:5", "line 3: Endpoint belongs in [Peer], not [Interface]; is a '[Peer]' line missing above?" },

        // [Peer] values.
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nPresharedKey = {Key(3)[..43]}", "line 5: PresharedKey is not 44 characters of base64 (32 bytes); it has 43 characters" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nEndpoint = 1.2.3.4", "line 5: Endpoint '1.2.3.4' has no port" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nEndpoint = 1.2.3.4:0", "line 5: Endpoint '1.2.3.4:0' has port '0'; a port is a number from 1 to 65535" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nEndpoint = 1.2.3.4:65536", "line 5: Endpoint '1.2.3.4:65536' has port '65536'" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nEndpoint = 2001:db8::1:51820", "line 5: Endpoint '2001:db8::1:51820' looks like an IPv6 address without brackets; write [2001:db8::1]:51820" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nEndpoint = [2001:db8::1:51820", "line 5: Endpoint '[2001:db8::1:51820' has '[' but no matching ']'" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nEndpoint = [10.0.0.1]:51820", "line 5: Endpoint '[10.0.0.1]:51820' has '10.0.0.1' in brackets, which is not an IPv6 address" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nEndpoint = 10.0.0.300:51820", "line 5: Endpoint '10.0.0.300:51820' has '10.0.0.300', which is not an IPv4 address" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nEndpoint = bad!host:51820", "line 5: Endpoint 'bad!host:51820' has 'bad!host', which is neither an IP address nor a host name" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nEndpoint =", "line 5: Endpoint '' is empty" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nAllowedIPs = 10.0.0.0/8,,fd00::/8", "line 5: AllowedIPs has an empty entry (a stray or doubled comma?)" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nAllowedIPs = 10.0.0.0/8 192.168.0.0/16", "line 5: AllowedIPs entry '10.0.0.0/8 192.168.0.0/16' contains a space; separate prefixes with commas" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nAllowedIPs = +10.0.0.0/8", "line 5: AllowedIPs entry '+10.0.0.0/8' starts with '+'; incremental +/- prefixes are for 'wg set'" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nAllowedIPs = 10.0.0.0/33", "line 5: AllowedIPs entry '10.0.0.0/33' is not an IP prefix" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nAllowedIPs = 10.0.0.0/", "line 5: AllowedIPs entry '10.0.0.0/' is not an IP prefix" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nPersistentKeepalive = 65536", "line 5: PersistentKeepalive '65536' is neither 'off' nor a number of seconds from 0 to 65535" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nPersistentKeepalive = never", "line 5: PersistentKeepalive 'never' is neither 'off'" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\nListenPort = 1", "line 5: ListenPort belongs in [Interface], not [Peer]" },

        // Structure.
        { $"PrivateKey = {Key(1)}\n[Interface]\nPrivateKey = {Key(1)}", "line 1: key 'PrivateKey' appears before any section; put it under [Interface] or [Peer]" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peers]\nPublicKey = {Key(2)}", "line 3: unknown section '[Peers]' — did you mean '[Peer]'?" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Routes]\nFoo = bar", "line 3: unknown section '[Routes]'; the sections are [Interface] and [Peer]" },
        { $"[Interface]\nPrivateKey = {Key(1)}\nListenPort 51820", "line 3: expected 'Key = Value' or a section header like [Peer], got 'ListenPort 51820'" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n= 51820", "line 3: missing key before '='" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Interface]\nListenPort = 1", "line 3: second [Interface] section (the first is at line 1); only one is allowed, merge them" },
        { "[Interface]\nListenPort = 1", "line 1: [Interface] has no PrivateKey; add 'PrivateKey = <output of wg genkey>'" },
        { $"[Peer]\nPublicKey = {Key(2)}", "no [Interface] section; a configuration needs [Interface]" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n\n[Peer]\nAllowedIPs = 10.0.0.0/8", "line 4: [Peer] has no PublicKey" },
        { $"[Interface]\nPrivateKey = {Key(1)}\n[Peer]\nPublicKey = {Key(2)}\n[Peer]\nPublicKey = {Key(2)}", $"line 6: PublicKey {Key(2)} is already used by the [Peer] at line 3; merge the two sections into one" },
    };

    [Theory]
    [MemberData(nameof(SingleErrorCases))]
    public void ReportsOneErrorWithLineAndCause(string text, string expectedPrefix)
    {
        Assert.False(WgQuickConfig.TryParse(text, "test.conf", out WgQuickConfig? config, out IReadOnlyList<ConfigError> errors));
        Assert.Null(config);
        ConfigError error = Assert.Single(errors);
        Assert.Equal("test.conf", error.SourceName);
        Assert.StartsWith(expectedPrefix, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void CollectsEveryErrorInLineOrder()
    {
        string text = $"""
            [Interface]
            Address = 10.0.0.300/24
            ListenPort = nope
            [Peer]
            PublicKey = short
            Endpiont = 1.2.3.4:5
            AllowedIPs = 10.0.0.0/8, bogus
            [Peer]
            Endpoint = host:1
            """;

        Assert.False(WgQuickConfig.TryParse(text, "many.conf", out _, out IReadOnlyList<ConfigError> errors));
        Assert.Equal([1, 2, 3, 5, 6, 7, 8], errors.Select(e => e.Line ?? -1));
        Assert.Contains("no PrivateKey", errors[0].Message);
        Assert.Contains("[Peer] has no PublicKey", errors[6].Message);

        ConfigException exception = Assert.Throws<ConfigException>(() => WgQuickConfig.Parse(text, "many.conf"));
        Assert.StartsWith("many.conf: 7 errors in WireGuard configuration", exception.Message);
        foreach (ConfigError error in errors)
        {
            Assert.Contains(error.ToString(), exception.Message);
        }

        Assert.Equal(errors, exception.Errors);
    }

    [Fact]
    public void SecretValuesAreNeverEchoedInErrors()
    {
        string secret = Key(9);
        string text = $"""
            [Interface]
            PrivateKey = {secret[..43]}X
            {secret}
            PrivatKey = {secret}
            [Peer]
            PublicKey = {Key(2)}
            PresharedKey = {secret}!
            {secret[..43]} = {secret}
            """;

        Assert.False(WgQuickConfig.TryParse(text, "secret.conf", out _, out IReadOnlyList<ConfigError> errors));
        Assert.Equal([2, 3, 4, 7, 8], errors.Select(e => e.Line ?? -1));
        string all = string.Join("\n", errors);
        Assert.DoesNotContain(secret[..20], all);
    }

    [Fact]
    public void WarnsAboutRepeatsSharedPrefixesAndSmallMtuWithIPv6()
    {
        string text = $"""
            [Interface]
            PrivateKey = {Key(1)}
            ListenPort = 1000
            ListenPort = 2000
            Address = fd00::1/64
            MTU = 1200
            [Peer]
            PublicKey = {Key(2)}
            AllowedIPs = 10.0.0.0/24
            Endpoint = 1.1.1.1:1
            Endpoint = 2.2.2.2:2
            [Peer]
            PublicKey = {Key(3)}
            AllowedIPs = 10.0.0.7/24, 10.0.0.0/24
            """;

        WgQuickConfig config = WgQuickConfig.Parse(text, "warn.conf");
        Assert.Equal(2000, config.ListenPort);
        Assert.Equal("2.2.2.2:2", config.Peers[0].Endpoint!.ToString());
        Assert.Equal(["10.0.0.0/24"], config.Peers[1].AllowedIPs.Select(p => p.ToString()));
        Assert.Equal([4, 6, 11, 14, 14], config.Warnings.Select(w => w.Line ?? -1).Order());
        Assert.Contains(config.Warnings, w => w.Message.StartsWith("ListenPort is set again (first at line 3)", StringComparison.Ordinal));
        Assert.Contains(config.Warnings, w => w.Message.Contains("below 1280"));
        Assert.Contains(config.Warnings, w => w.Message.StartsWith("AllowedIPs 10.0.0.0/24 is also in the [Peer] at line 7", StringComparison.Ordinal));
    }

    [Fact]
    public void ToWgSetConfStripsWgQuickKeysLikeWgQuickStrip()
    {
        WgQuickConfig config = WgQuickConfig.Parse(FullExample, "full.conf");

        string expected = $"""
            [Interface]
            PrivateKey = {Key(1)}
            ListenPort = 51820
            FwMark = 0x1234

            [Peer]
            PublicKey = {Key(2)}
            PresharedKey = {Key(3)}
            AllowedIPs = 10.0.0.2/32, fd00::2/128, 192.168.10.0/24
            Endpoint = 203.0.113.5:51820
            PersistentKeepalive = 25

            [Peer]
            PublicKey = {Key(4)}
            AllowedIPs = 0.0.0.0/0, ::/0
            Endpoint = [2001:db8::7]:4500

            [Peer]
            PublicKey = {Key(5)}
            Endpoint = vpn.example.com:51821

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), config.ToWgSetConf());
    }

    [Fact]
    public void ToWgSetConfRoundTripsThroughTheParser()
    {
        WgQuickConfig original = WgQuickConfig.Parse(FullExample, "full.conf");
        WgQuickConfig reparsed = WgQuickConfig.Parse(original.ToWgSetConf(), "stripped.conf");

        Assert.Empty(reparsed.Warnings);
        Assert.Empty(reparsed.Addresses);
        Assert.Null(reparsed.Mtu);
        Assert.Equal(["FwMark"], reparsed.IgnoredKeys.Select(k => k.Key));
        Assert.True(original.PrivateKey.FixedTimeEquals(reparsed.PrivateKey));
        Assert.Equal(original.ListenPort, reparsed.ListenPort);
        Assert.Equal(original.FwMark, reparsed.FwMark);
        ConfigAssert.SamePeers(original.Peers, reparsed.Peers);
        Assert.Equal(original.ToWgSetConf(), reparsed.ToWgSetConf());
    }

    [Fact]
    public void ToWgQuickConfRoundTripsAddressesAndMtu()
    {
        WgQuickConfig original = WgQuickConfig.Parse(FullExample, "full.conf");
        WgQuickConfig reparsed = WgQuickConfig.Parse(original.ToWgQuickConf(), "quick.conf");

        Assert.Equal(original.Addresses, reparsed.Addresses);
        Assert.Equal(original.Mtu, reparsed.Mtu);
        ConfigAssert.SamePeers(original.Peers, reparsed.Peers);
    }

    [Fact]
    public void EmptyTextReportsMissingInterface()
    {
        Assert.False(WgQuickConfig.TryParse("", "empty.conf", out _, out IReadOnlyList<ConfigError> errors));
        ConfigError error = Assert.Single(errors);
        Assert.Null(error.Line);
    }

    private static string ReadVector(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Vectors", "Config", name));
}
