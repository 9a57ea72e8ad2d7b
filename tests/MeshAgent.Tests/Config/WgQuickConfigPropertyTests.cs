using System.Net;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using MeshAgent.Core.Config;
using MeshAgent.Core.Net;
using Xunit;
using static MeshAgent.Tests.Config.TestKeys;

namespace MeshAgent.Tests.Config;

/// <summary>
/// The parser is total (no exception for any text, consistent result) and every configuration it
/// accepts survives a write/parse round trip (STYLE rule 9).
/// </summary>
public class WgQuickConfigPropertyTests
{
    private static readonly string[] Keys =
    [
        "PrivateKey", "ListenPort", "FwMark", "Address", "MTU", "DNS", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig",
        "PublicKey", "PresharedKey", "Endpoint", "AllowedIPs", "PersistentKeepalive", "privatekey", "ALLOWEDIPS", "Endpiont", "", " ", "Foo",
    ];

    private static readonly string[] Values =
    [
        Key(1), Key(2), Key(3), Key(4), Key(1)[..43], Key(2) + "=", "", " ", "0", "1", "51820", "65535", "65536", "-1", "off", "OFF", "0x10",
        "0xffffffff", "0x100000000", "true", "false", "1420", "67", "10.0.0.1/24", "10.0.0.300/24", "fd00::1/64", "fd00::1/129", "10.0.0.0/8, fd00::/8",
        "10.0.0.0/8,,", "+10.0.0.0/8", "0.0.0.0/0, ::/0", "1.2.3.4:51820", "[2001:db8::1]:51820", "[fe80::1%eth0]:1", "host.example:1", "host:0",
        "2001:db8::1:51820", "[::1", "::", "/", "=", "==", "#", "[Peer]", "a b c", "\t", "\0", "\u00e9\u00e8", "\ud800", "%i",
    ];

    private static readonly string[] Headers = ["[Interface]", "[Peer]", "[peer]", "[ Interface ]", "[Peers]", "[", "[]", "[Interface", "Interface]", "[[Peer]]"];

    private static Gen<string> LineGen() =>
        Gen.Frequency(
            (6, from key in Gen.Elements(Keys)
                from value in Gen.Elements(Values)
                from spacing in Gen.Elements("=", " = ", "\t=\t", "==", " =")
                from comment in Gen.Elements("", " # note", "#", " #" + Key(9))
                select key + spacing + value + comment),
            (2, Gen.Elements(Headers)),
            (1, Gen.Elements("", "   ", "# comment", "\r", "=", "[Interface] # x", "PrivateKey")),
            (1, RandomChars()));

    private static Gen<string> RandomChars() =>
        Gen.Elements('a', 'Z', '0', '9', '=', '#', '[', ']', ':', '/', ',', '.', ' ', '\t', '\r', '+', '-', '%', '\0', '\u00ff', '\ud83d', '\ude00')
            .ArrayOf()
            .Select(chars => new string(chars));

    private static readonly string[] GoodInterfaceLines =
    [
        "ListenPort = 51820", "listenport=0", "Address = 10.0.0.1/24, fd00::1/64", "Address = 10.9.0.1", "MTU = 1420", "DNS = 1.1.1.1, corp",
        "PostUp = echo up # with a hash", "FwMark = off", "FwMark = 0x20", "Table = auto", "SaveConfig = false", "# comment", "", "   ",
    ];

    private static readonly string[] GoodPeerLines =
    [
        "AllowedIPs = 10.1.0.0/16, fd01::/48", "AllowedIPs = 10.2.0.9/24", "AllowedIPs =", "Endpoint = 198.51.100.1:51820",
        "Endpoint = [2001:db8::1]:1", "Endpoint = peer.example:443", "PersistentKeepalive = 25", "persistentkeepalive = off",
        $"PresharedKey = {Key(3)}", "# comment", "",
    ];

    /// <summary>
    /// A valid skeleton (so that many texts are accepted and the round trip is exercised) with
    /// 0..3 arbitrary lines spliced in at random places (so that many are rejected).
    /// </summary>
    private static Gen<string> TextGen() =>
        from interfaceLines in Gen.Elements(GoodInterfaceLines).ListOf()
        from peerCount in Gen.Choose(0, 3)
        from peerBodies in Gen.CollectToArray(Enumerable.Range(0, peerCount), _ => Gen.Elements(GoodPeerLines).ListOf())
        from noiseCount in Gen.Frequency((3, Gen.Constant(0)), (2, Gen.Choose(1, 3)))
        from noise in LineGen().ArrayOf(noiseCount)
        from positions in Gen.Choose(0, 1000).ArrayOf(noiseCount)
        select Splice(
            [
                "[Interface]", $"PrivateKey = {Key(1)}", .. interfaceLines,
                .. peerBodies.SelectMany((body, i) => (string[])["[Peer]", $"PublicKey = {Key(10 + i)}", .. body]),
            ],
            noise,
            positions);

    private static string Splice(List<string> lines, string[] noise, int[] positions)
    {
        for (int i = 0; i < noise.Length; i++)
        {
            lines.Insert(positions[i] % (lines.Count + 1), noise[i]);
        }

        return string.Join("\n", lines);
    }

    [Fact]
    public void ParserNeverThrowsAndResultIsConsistent()
    {
        int accepted = 0;
        int rejected = 0;
        Property property = Prop.ForAll(TextGen().ToArbitrary(), text =>
            {
                bool ok = WgQuickConfig.TryParse(text, "random.conf", out WgQuickConfig? config, out IReadOnlyList<ConfigError> errors);
                _ = ok ? accepted++ : rejected++;
                int lineCount = text.Split('\n').Length;
                bool consistent = ok ? config is not null && errors.Count == 0 : config is null && errors.Count > 0;
                bool linesInRange = errors.All(e => e.Line is null || (e.Line >= 1 && e.Line <= lineCount));
                bool sorted = errors.Select(e => e.Line ?? 0).SequenceEqual(errors.Select(e => e.Line ?? 0).Order());
                return consistent && linesInRange && sorted && (!ok || RoundTrips(config!));
            });
        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(2000), property);

        // Both outcomes must be common, or one half of the property was never exercised.
        Assert.True(accepted > 200 && rejected > 200, $"accepted {accepted}, rejected {rejected}");
    }

    [Fact]
    public void ParserNeverThrowsOnSeededRandomCharacters()
    {
        // Raw UTF-16 noise, including lone surrogates and control characters, in addition to the structured generator above.
        var random = new Random(20240601);
        for (int i = 0; i < 3000; i++)
        {
            var text = new StringBuilder();
            int length = random.Next(0, 400);
            for (int j = 0; j < length; j++)
            {
                text.Append(random.Next(4) switch
                {
                    0 => (char)random.Next(0, 0x80),
                    1 => "[]=#:/,.\n \t"[random.Next(11)],
                    2 => (char)random.Next(0, 0x10000),
                    _ => "\n[Peer]\nPublicKey = "[random.Next(20)],
                });
            }

            string input = (i % 2 == 0 ? $"[Interface]\nPrivateKey = {Key(1)}\n" : "") + text;
            bool ok = WgQuickConfig.TryParse(input, "noise", out WgQuickConfig? config, out IReadOnlyList<ConfigError> errors);
            Assert.Equal(ok, config is not null);
            Assert.Equal(ok, errors.Count == 0);
        }
    }

    [Fact]
    public void GeneratedConfigsRoundTripThroughBothWriters()
    {
        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(ConfigGen().ToArbitrary(), RoundTrips));
    }

    private static bool RoundTrips(WgQuickConfig config)
    {
        WgQuickConfig quick = WgQuickConfig.Parse(config.ToWgQuickConf(), "quick");
        WgQuickConfig set = WgQuickConfig.Parse(config.ToWgSetConf(), "set");
        ConfigAssert.SamePeers(config.Peers, quick.Peers);
        ConfigAssert.SamePeers(config.Peers, set.Peers);
        Assert.Equal(config.Addresses, quick.Addresses);
        Assert.Equal(config.Mtu, quick.Mtu);
        Assert.Empty(set.Addresses);
        foreach (WgQuickConfig reparsed in new[] { quick, set })
        {
            Assert.True(config.PrivateKey.FixedTimeEquals(reparsed.PrivateKey));
            Assert.Equal(config.ListenPort, reparsed.ListenPort);
            Assert.Equal(config.FwMark is null or 0 ? null : config.FwMark, reparsed.FwMark);
        }

        return true;
    }

    private static Gen<byte[]> Bytes(int length) => Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(length);

    private static Gen<IPAddress> AddressGen() =>
        Gen.OneOf(Bytes(4), Bytes(16)).Select(b => new IPAddress(b));

    private static Gen<IPNetwork> PrefixGen() =>
        from address in AddressGen()
        from length in Gen.Choose(0, IpPrefix.MaxLength(address))
        select IpPrefix.Create(address, length);

    private static Gen<PeerEndpoint?> EndpointGen() =>
        Gen.OneOf(
            Gen.Constant<PeerEndpoint?>(null),
            from address in AddressGen()
            from port in Gen.Choose(1, 65535)
            select (PeerEndpoint?)PeerEndpoint.FromIPEndPoint(new IPEndPoint(address, port)),
            from host in Gen.Elements("a.example", "vpn-1.example.org", "x", "localhost")
            from port in Gen.Choose(1, 65535)
            select Parsed($"{host}:{port}"));

    private static PeerEndpoint? Parsed(string text) =>
        PeerEndpoint.TryParse(text, out PeerEndpoint? endpoint, out string? error) ? endpoint : throw new InvalidOperationException(error);

    private static Gen<WgQuickPeer> PeerGen(int index) =>
        from publicKey in Bytes(32)
        from hasPsk in Gen.Elements(true, false)
        from psk in Bytes(32)
        from endpoint in EndpointGen()
        from prefixes in PrefixGen().ListOf()
        from keepalive in Gen.Choose(0, 65535)
        select new WgQuickPeer
        {
            // Index in the first byte keeps public keys distinct, which the parser requires.
            PublicKey = new WireGuardPublicKey([(byte)index, .. publicKey[1..]]),
            PresharedKey = hasPsk ? new PresharedKey(psk) : null,
            Endpoint = endpoint,
            AllowedIPs = prefixes.Distinct().ToArray(),
            PersistentKeepalive = (ushort)keepalive,
        };

    private static Gen<WgQuickConfig> ConfigGen() =>
        from privateKey in Bytes(32)
        from listenPort in Gen.OneOf(Gen.Constant<int?>(null), Gen.Choose(0, 65535).Select(p => (int?)p))
        from fwMark in Gen.OneOf(Gen.Constant<uint?>(null), Gen.Choose(0, int.MaxValue).Select(m => (uint?)m))
        from addresses in (from a in AddressGen() from l in Gen.Choose(0, 32) select new InterfaceAddress(a, IpPrefix.MaxLength(a) == 32 ? l : l * 4)).ListOf()
        from mtu in Gen.OneOf(Gen.Constant<int?>(null), Gen.Choose(1280, 65535).Select(m => (int?)m))
        from peerCount in Gen.Choose(0, 5)
        from peers in Gen.CollectToArray(Enumerable.Range(0, peerCount), PeerGen)
        select new WgQuickConfig
        {
            PrivateKey = new WireGuardPrivateKey(privateKey),
            ListenPort = listenPort,
            FwMark = fwMark,
            Addresses = addresses.ToArray(),
            Mtu = mtu,
            Peers = peers.ToArray(),
        };
}
