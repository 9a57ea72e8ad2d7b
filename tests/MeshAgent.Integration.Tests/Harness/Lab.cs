using System.Net;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// Builds a topology of network namespaces that share one random id ("ma-&lt;id&gt;-&lt;label&gt;"),
/// and tears all of it down on dispose. Every veth pair is created inside a lab namespace with
/// its peer end moved straight into another (<c>ip -n A link add … peer name … netns B</c>), so
/// nothing ever appears in the root namespace.
/// <para>Address plan (IPv4 as in the project's shared NAT lab; Harness/README.md has it all):</para>
/// <list type="bullet">
/// <item>direct link k (<see cref="ConnectAsync"/>): A = 10.200.k.1/24 and fd00:200:0:&lt;k hex&gt;::1/64, B = .2 and ::2.</item>
/// <item>internet core "inet": 192.0.2.1 on a point-to-point link to every public host and site router (or CGN);
/// drops private and carrier-grade addresses; holds the cuts (<see cref="CutAsync"/>).</item>
/// <item>public host n (<see cref="AddPublicHostAsync"/>, n = 0, 1, …): 198.51.100.(10 + n)/32 on eth0, default via 192.0.2.1.</item>
/// <item>NAT site i (<see cref="AddNatSiteAsync"/>, i = 1, 2, …): router wan 203.0.113.(10·i)/32, LAN bridge 10.i.0.1/24,
/// host k = 10.i.0.(9 + k)/24 on eth0, default via 10.i.0.1; <see cref="NatType.None"/> host k also 203.0.113.(10·i + k)/32;
/// <see cref="NatType.DoubleNat"/>: CGN wan 203.0.113.(10·i), CGN "sub" 100.64.i.1/24, router wan 100.64.i.2/24.</item>
/// </list>
/// The internet part is IPv4 only. Not thread-safe: build from one test thread.
/// </summary>
public sealed class Lab : IAsyncDisposable, IDisposable
{
    /// <summary>The core router's address on every public point-to-point link.</summary>
    public static readonly IPAddress InternetGateway = IPAddress.Parse("192.0.2.1");

    private static readonly TimeSpan LinkUpTimeout = TimeSpan.FromSeconds(10);

    private readonly List<NetworkNamespace> _namespaces = [];
    private readonly List<NatSite> _sites = [];
    private readonly List<IAsyncDisposable> _services = [];
    private int _links;
    private int _publicHosts;
    private int _disposed;

    private Lab(string id, HarnessLog log)
    {
        Id = id;
        Log = log;
    }

    /// <summary>The random id in every namespace name of this lab.</summary>
    public string Id { get; }

    public HarnessLog Log { get; }

    /// <summary>The core router, once a public host or NAT site exists.</summary>
    public NetworkNamespace? Internet { get; private set; }

    public IReadOnlyList<NetworkNamespace> Namespaces => [.. _namespaces];

    public IReadOnlyList<NatSite> Sites => [.. _sites];

    /// <summary>Creates an empty lab. Fails (not skips) when <see cref="Requirements"/> are not met.</summary>
    public static Task<Lab> CreateAsync(ITestOutputHelper? output = null) => CreateAsync(new HarnessLog(output));

    public static Task<Lab> CreateAsync(HarnessLog log)
    {
        Requirements.EnsureNetnsTestsCanRun();
        string id;
        do
        {
            id = NetworkNamespace.NewId(5);
        }
        while (Directory.Exists("/run/netns")
            && Directory.EnumerateFiles("/run/netns", $"{NetworkNamespace.NamePrefix}{id}-*").Any());
        log.Write($"lab {id}");
        return Task.FromResult(new Lab(id, log));
    }

    /// <summary>The lab namespace with <paramref name="label"/>.</summary>
    public NetworkNamespace this[string label]
        => _namespaces.FirstOrDefault(n => n.Label == label)
            ?? throw new KeyNotFoundException($"lab {Id} has no namespace '{label}' (has: {string.Join(", ", _namespaces.Select(n => n.Label))})");

    /// <summary>Adds an unconnected namespace "ma-&lt;id&gt;-&lt;label&gt;".</summary>
    public async Task<NetworkNamespace> AddNamespaceAsync(string label)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_namespaces.Any(n => n.Label == label))
        {
            throw new ArgumentException($"lab {Id} already has a namespace '{label}'", nameof(label));
        }
        var ns = await NetworkNamespace.CreateAsync(label, Id, Log, CancellationToken.None);
        _namespaces.Add(ns);
        return ns;
    }

    /// <summary>
    /// Links <paramref name="a"/> and <paramref name="b"/> with a veth pair (devices "v&lt;k&gt;-&lt;peer label&gt;")
    /// carrying IPv4 and IPv6 addresses (see the address plan), and returns once both ends are up.
    /// </summary>
    public async Task<VethLink> ConnectAsync(NetworkNamespace a, NetworkNamespace b)
    {
        var k = ++_links;
        if (k > 254)
        {
            throw new InvalidOperationException($"lab {Id}: at most 254 direct links");
        }
        var deviceA = InterfaceName($"v{k}-{b.Label}");
        var deviceB = InterfaceName($"v{k}-{a.Label}");
        var endA = new VethEnd(a, deviceA, IPAddress.Parse($"10.200.{k}.1"), IPAddress.Parse($"fd00:200:0:{k:x}::1"));
        var endB = new VethEnd(b, deviceB, IPAddress.Parse($"10.200.{k}.2"), IPAddress.Parse($"fd00:200:0:{k:x}::2"));

        await a.IpAsync("link", "add", deviceA, "type", "veth", "peer", "name", deviceB, "netns", b.Name);
        foreach (var end in new[] { endA, endB })
        {
            await end.Namespace.IpBatchAsync(
                $"addr add {end.Ipv4}/24 dev {end.Device}",
                $"addr add {end.Ipv6}/64 dev {end.Device} nodad",
                $"link set {end.Device} up");
        }
        await WaitForLinksUpAsync([(a, deviceA), (b, deviceB)]);
        return new VethLink(k, endA, endB);
    }

    /// <summary>Adds a host with a public address on the internet (no NAT).</summary>
    public async Task<LabHost> AddPublicHostAsync(string label)
    {
        var n = _publicHosts++;
        if (n > 200)
        {
            throw new InvalidOperationException($"lab {Id}: at most 200 public hosts");
        }
        var address = IPAddress.Parse($"198.51.100.{10 + n}");
        var ns = await AddNamespaceAsync(label);
        await WaitForLinksUpAsync(await AttachToInternetAsync(ns, "eth0", address));
        return new LabHost(ns, address, address, "eth0");
    }

    /// <summary>
    /// Adds a LAN of <paramref name="hostCount"/> hosts behind a NAT router of
    /// <paramref name="type"/> (rules: <see cref="NatRules"/>). <paramref name="name"/> is 1-6
    /// lowercase letters/digits; namespaces are "&lt;name&gt;-rtr", "&lt;name&gt;-h&lt;k&gt;" and, for
    /// <see cref="NatType.DoubleNat"/>, "&lt;name&gt;-cgn". Site i gets LAN 10.i.0.0/24 (gateway .1,
    /// host k = .(9 + k)) and public address 203.0.113.(10·i); a <see cref="NatType.None"/> host k
    /// also owns 203.0.113.(10·i + k), a <see cref="NatType.DoubleNat"/> router sits at
    /// 100.64.i.2/24 behind the CGN's 100.64.i.1.
    /// </summary>
    public async Task<NatSite> AddNatSiteAsync(string name, NatType type, int hostCount = 1)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (name.Length is < 1 or > 6 || !NetworkNamespace.IsValidLabel(name) || name.Contains('-', StringComparison.Ordinal))
        {
            throw new ArgumentException($"site name '{name}' is invalid: use 1-6 lowercase letters or digits, starting with a letter", nameof(name));
        }
        if (_sites.Any(s => s.Name == name))
        {
            throw new ArgumentException($"lab {Id} already has a site '{name}'", nameof(name));
        }
        if (hostCount is < 1 or > 9)
        {
            throw new ArgumentOutOfRangeException(nameof(hostCount), hostCount, "a site has 1-9 hosts");
        }
        var index = _sites.Count + 1;
        if (index > 25 || (type == NatType.None && 10 * index + hostCount > 254))
        {
            throw new InvalidOperationException($"lab {Id}: at most 25 NAT sites, and a None site's host addresses 203.0.113.(10·index + k) must stay below .255 (site {index})");
        }
        var lan = $"10.{index}.0";
        var lanCidr = $"{lan}.0/24";
        var publicAddress = IPAddress.Parse($"203.0.113.{10 * index}");
        var gateway = IPAddress.Parse($"{lan}.1");

        // Devices to wait for once at the end: each wait costs a linkwatch round.
        List<(NetworkNamespace, string)> devices = [];
        NetworkNamespace? cgn = null;
        var router = await AddNamespaceAsync($"{name}-rtr");
        await EnableRoutingAsync(router);
        if (type == NatType.DoubleNat)
        {
            // The CGN owns the public address; the home router's WAN is in 100.64.0.0/10.
            cgn = await AddNamespaceAsync($"{name}-cgn");
            await EnableRoutingAsync(cgn);
            devices.AddRange(await AttachToInternetAsync(cgn, "wan", publicAddress));
            await cgn.IpBatchAsync(
                $"link add sub type veth peer name wan netns {router.Name}",
                $"addr add 100.64.{index}.1/24 dev sub",
                "link set sub up");
            await router.IpBatchAsync(
                $"addr add 100.64.{index}.2/24 dev wan",
                "link set wan up",
                $"route add default via 100.64.{index}.1");
            await cgn.NftAsync(NatRules.CarrierGradeNat("sub", $"100.64.{index}.0/24"));
            devices.Add((cgn, "sub"));
            devices.Add((router, "wan"));
        }
        else
        {
            devices.AddRange(await AttachToInternetAsync(router, "wan", publicAddress));
        }
        List<string> routerSetup = [$"link add lan type bridge forward_delay 0", $"addr add {gateway}/24 dev lan", "link set lan up"];
        List<string> coreRoutes = [];

        var hosts = new List<LabHost>();
        for (var k = 1; k <= hostCount; k++)
        {
            var host = await AddNamespaceAsync($"{name}-h{k}");
            var lanAddress = IPAddress.Parse($"{lan}.{9 + k}");
            var port = $"p-h{k}";
            routerSetup.Add($"link add {port} type veth peer name eth0 netns {host.Name}");
            routerSetup.Add($"link set {port} master lan up");
            if (type == NatType.None)
            {
                // The host owns a public /32, routed core → router → host and used as the source
                // of everything it sends off the LAN; the masquerade rule never sees it.
                var own = IPAddress.Parse($"203.0.113.{10 * index + k}");
                routerSetup.Add($"route add {own}/32 via {lanAddress} dev lan");
                coreRoutes.Add($"route add {own}/32 via {publicAddress} dev {InterfaceName($"to-{(cgn ?? router).Label}")}");
                hosts.Add(new LabHost(host, own, own, "eth0") { LocalAddresses = [own, lanAddress], LanAddress = lanAddress });
            }
            else
            {
                hosts.Add(new LabHost(host, lanAddress, publicAddress, "eth0") { LanAddress = lanAddress });
            }
            devices.Add((router, port));
            devices.Add((host, "eth0"));
        }
        devices.Add((router, "lan"));
        // Bridge and ports first (the hosts' eth0 must exist before they are configured).
        await router.IpBatchAsync([.. routerSetup.Where(c => !c.StartsWith("route ", StringComparison.Ordinal))]);
        foreach (var host in hosts)
        {
            List<string> hostSetup = [$"addr add {host.LanAddress}/24 dev eth0", "link set eth0 up"];
            hostSetup.AddRange(type == NatType.None
                ? [$"addr add {host.Address}/32 dev eth0", $"route add default via {gateway} src {host.Address}"]
                : [$"route add default via {gateway}"]);
            await host.Namespace.IpBatchAsync([.. hostSetup]);
        }
        if (coreRoutes.Count > 0)
        {
            await router.IpBatchAsync([.. routerSetup.Where(c => c.StartsWith("route ", StringComparison.Ordinal))]);
            await Internet!.IpBatchAsync([.. coreRoutes]);
        }
        var routerType = type == NatType.DoubleNat ? NatType.Cone : type;
        await router.NftAsync(NatRules.SiteRouter(routerType, "lan", lanCidr, type == NatType.None ? [.. hosts.Select(h => h.PublicAddress)] : null));
        await WaitForLinksUpAsync(devices);

        var site = new NatSite(name, index, type, router, cgn, publicAddress, gateway, lanCidr, hosts);
        _sites.Add(site);
        Log.Write($"{site}: hosts {string.Join(", ", hosts)}");
        return site;
    }

    /// <summary>
    /// Adds a public host (<see cref="AddPublicHostAsync"/>) running an in-process STUN Binding
    /// server on UDP <paramref name="port"/> (<see cref="LabStunServer"/>); the lab stops it on dispose.
    /// </summary>
    public async Task<LabStunServer> AddStunServerAsync(string label = "stun", int port = LabStun.DefaultPort)
    {
        var host = await AddPublicHostAsync(label);
        var server = LabStunServer.Start(host, port, Log);
        _services.Add(server);
        return server;
    }

    /// <summary>
    /// Cuts <paramref name="protocol"/> traffic between every address of <paramref name="a"/>
    /// and every address of <paramref name="b"/> in the core (both directions; e.g.
    /// <c>CutAsync(siteA.PublicAddresses, siteB.PublicAddresses)</c>). The core keeps no
    /// connection state, so established flows stop at once; NAT mappings at the sites survive.
    /// </summary>
    public async Task CutAsync(IEnumerable<IPAddress> a, IEnumerable<IPAddress> b, CutProtocol protocol = CutProtocol.Udp)
    {
        var inet = Internet ?? throw new InvalidOperationException($"lab {Id} has no internet core yet: add a site or public host first");
        var elements = NatRules.CutElements(a, b);
        await inet.ExecAsync("nft", "add", "element", "ip", NatRules.CutTable, NatRules.CutSet(protocol), $"{{ {elements} }}");
        Log.Write($"cut {protocol}: {elements}");
    }

    /// <summary>Removes the cuts (every protocol) between <paramref name="a"/> and <paramref name="b"/>.</summary>
    public async Task HealAsync(IEnumerable<IPAddress> a, IEnumerable<IPAddress> b)
    {
        var inet = Internet ?? throw new InvalidOperationException($"lab {Id} has no internet core yet");
        var pairs = a.SelectMany(x => b.Select(y => (x, y))).ToList();
        foreach (var protocol in Enum.GetValues<CutProtocol>())
        {
            foreach (var (x, y) in pairs)
            {
                // Deleting an absent element fails: remove only what is there.
                foreach (var element in new[] { $"{x} . {y}", $"{y} . {x}" })
                {
                    await inet.ExecAsync(["nft", "delete", "element", "ip", NatRules.CutTable, NatRules.CutSet(protocol), $"{{ {element} }}"],
                        new RunOptions { Check = false });
                }
            }
        }
        Log.Write($"healed: {NatRules.CutElements(a, b)}");
    }

    /// <summary>Removes every cut.</summary>
    public async Task HealAllAsync()
    {
        var inet = Internet ?? throw new InvalidOperationException($"lab {Id} has no internet core yet");
        foreach (var protocol in Enum.GetValues<CutProtocol>())
        {
            await inet.ExecAsync("nft", "flush", "set", "ip", NatRules.CutTable, NatRules.CutSet(protocol));
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Disposes every namespace of the lab (in parallel: each may wait 2 s for SIGTERM). Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        foreach (var service in _services)
        {
            try
            {
                await service.DisposeAsync();
            }
            catch (Exception e)
            {
                Log.Write($"warning: stopping {service} failed: {e}");
            }
        }
        await Task.WhenAll(_namespaces.Select(n => n.DisposeAsync().AsTask()));
    }

    /// <summary>Truncates to IFNAMSIZ - 1 = 15 characters, the kernel's limit for device names.</summary>
    public static string InterfaceName(string name) => name.Length <= 15 ? name : name[..15];

    private async Task<NetworkNamespace> EnsureInternetAsync()
    {
        if (Internet is not null)
        {
            return Internet;
        }
        var inet = await AddNamespaceAsync("inet");
        await EnableRoutingAsync(inet);
        await inet.NftAsync(NatRules.Core());
        Internet = inet;
        return inet;
    }

    // If br_netfilter is loaded, bridged LAN frames would traverse the router's IP hooks: off.
    private static Task EnableRoutingAsync(NetworkNamespace router)
        => router.ExecAsync(
            ["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward && f=/proc/sys/net/bridge/bridge-nf-call-iptables && { [ ! -e $f ] || echo 0 > $f; }"],
            RunOptions.Default);

    // A point-to-point /32 link between the core and a public host or site router, as in the
    // shared NAT lab: no subnet to plan, and the core routes each address to its own link.
    // Returns the two devices; the caller waits for them to come up.
    private async Task<(NetworkNamespace, string)[]> AttachToInternetAsync(NetworkNamespace host, string hostDevice, IPAddress publicAddress)
    {
        var inet = await EnsureInternetAsync();
        var inetDevice = InterfaceName($"to-{host.Label}");
        await inet.IpBatchAsync(
            $"link add {inetDevice} type veth peer name {hostDevice} netns {host.Name}",
            $"addr add {InternetGateway}/32 peer {publicAddress}/32 dev {inetDevice}",
            $"link set {inetDevice} up");
        await host.IpBatchAsync(
            $"addr add {publicAddress}/32 peer {InternetGateway}/32 dev {hostDevice}",
            $"link set {hostDevice} up",
            $"route add default via {InternetGateway} dev {hostDevice}");
        return [(inet, inetDevice), (host, hostDevice)];
    }

    /// <summary>
    /// Waits until every device reports operstate UP. The kernel applies carrier changes through
    /// linkwatch, batched up to 1 s, and IPv6 on a link starts only then: observed here, the
    /// first IPv6 ping from the veth end brought up first was lost for ~1 s without this wait.
    /// </summary>
    private static Task WaitForLinksUpAsync(IReadOnlyList<(NetworkNamespace Namespace, string Device)> devices)
        => ProcessRunner.WaitUntilAsync(
            async () =>
            {
                // One "ip link show" per namespace; a line reads "7: eth0@if8: <…> … state UP …".
                foreach (var group in devices.GroupBy(d => d.Namespace))
                {
                    var show = await ProcessRunner.RunAsync(["ip", "-n", group.Key.Name, "-o", "link", "show"], new RunOptions { Check = false });
                    var up = show.StandardOutput.Split('\n')
                        .Where(line => line.Contains(" state UP ", StringComparison.Ordinal))
                        .Select(line => line.Split(": ", 3) is [_, var device, ..] ? device.Split('@')[0] : "")
                        .ToHashSet();
                    if (!group.All(d => up.Contains(d.Device)))
                    {
                        return false;
                    }
                }
                return true;
            },
            LinkUpTimeout,
            "links up: " + string.Join(", ", devices.Select(d => $"{d.Device} in {d.Namespace.Name}")));
}
