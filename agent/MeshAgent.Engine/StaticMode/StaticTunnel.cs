using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Config;
using MeshAgent.Core.Net;
using MeshAgent.Core.WireGuard;
using MeshAgent.Engine.DataPlane;
using MeshAgent.Engine.Routing;
using MeshAgent.Engine.WireGuard;

namespace MeshAgent.Engine.StaticMode;

/// <summary>
/// Static mode: one wg-quick config, brought up the way wg-quick does it, but entirely in
/// process — TUN device, addresses, MTU, link up and a route per AllowedIPs prefix through
/// rtnetlink (no `ip` processes), then the WireGuard data plane. <see cref="Dispose"/> removes
/// what it added (routes and addresses vanish with the TUN device when its fd closes).
/// </summary>
public sealed class StaticTunnel : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly TextWriter _log;

    private StaticTunnel(TextWriter log) => _log = log;

    public required string InterfaceName { get; init; }

    public WireGuardDevice Device { get; private set; } = null!;

    public WireGuardDataPlane DataPlane { get; private set; } = null!;

    public int ListenPort { get; private set; }

    /// <summary>
    /// Brings the tunnel up. Failures throw exceptions whose message says what failed and what
    /// to do (permission, missing /dev/net/tun, an address in use, an unresolvable endpoint);
    /// anything set up before the failure is torn down first.
    /// </summary>
    public static async Task<StaticTunnel> StartAsync(WgQuickConfig config, string interfaceName, string? stateDirectory, TextWriter log, CancellationToken cancellationToken = default)
    {
        var tunnel = new StaticTunnel(log) { InterfaceName = interfaceName };
        try
        {
            await tunnel.StartCoreAsync(config, stateDirectory, cancellationToken);
            return tunnel;
        }
        catch
        {
            tunnel.Dispose();
            throw;
        }
    }

    private async Task StartCoreAsync(WgQuickConfig config, string? stateDirectory, CancellationToken cancellationToken)
    {
        // Resolve endpoints first: a typo in a host name should fail before we touch the system.
        var endpoints = new IPEndPoint?[config.Peers.Count];
        for (int i = 0; i < config.Peers.Count; i++)
        {
            if (config.Peers[i].Endpoint is { } endpoint)
            {
                endpoints[i] = await endpoint.ResolveAsync(AddressFamily.Unspecified, cancellationToken);
            }
        }

        int mtu = config.Mtu ?? WireGuardConstants.DefaultMtu;
        // TCP offloads: the kernel hands us TSO super-packets (up to 64 KiB) with partial
        // checksums, which the data plane segments and completes (one read per ~45 packets).
        TunDevice tun = TunDevice.Create(InterfaceName, new TunOptions { VirtioHeader = true, Offloads = TunOffloads.Tcp });
        _owned.Add(tun);

        using (Netlink netlink = Netlink.Open())
        {
            netlink.SetMtu(InterfaceName, mtu);
            foreach (InterfaceAddress address in config.Addresses)
            {
                netlink.AddAddress(InterfaceName, address.Address, address.PrefixLength);
            }

            netlink.SetLinkUp(InterfaceName);
            foreach (WgQuickPeer peer in config.Peers)
            {
                foreach (IPNetwork prefix in peer.AllowedIPs)
                {
                    AddRoute(netlink, prefix);
                }
            }
        }

        UdpBatchSocket udp = UdpBatchSocket.Open(new UdpBatchOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.IPv6Any, config.ListenPort ?? 0),
        });
        _owned.Add(udp);
        ListenPort = udp.LocalEndPoint.Port;

        var sender = new UdpOutsideSender(udp);
        _owned.Add(sender);
        Device = new WireGuardDevice(new WireGuardDeviceOptions
        {
            PrivateKey = config.PrivateKey.AsSpan().ToArray(),
            TimestampStore = OpenFloorStore(stateDirectory, InterfaceName),
        }, sender);
        _owned.Add(Device);

        var routes = new AllowedIpsTable<Peer>.Builder();
        for (int i = 0; i < config.Peers.Count; i++)
        {
            WgQuickPeer entry = config.Peers[i];
            Peer peer = Device.AddPeer(
                entry.PublicKey.AsSpan(),
                entry.PresharedKey is { } psk ? psk.AsSpan() : default,
                endpoints[i],
                TimeSpan.FromSeconds(entry.PersistentKeepalive));
            foreach (IPNetwork prefix in entry.AllowedIPs)
            {
                routes.Add(prefix, peer);
            }
        }

        DataPlane = new WireGuardDataPlane(Device, tun, udp, mtu) { Routes = routes.Build() };
        _owned.Insert(0, DataPlane); // stopped first
        DataPlane.Start();
        _log.WriteLine($"meshagent: {InterfaceName} is up: {config.Addresses.Count} address(es), MTU {mtu}, UDP port {ListenPort}, {config.Peers.Count} peer(s)");
    }

    private void AddRoute(Netlink netlink, IPNetwork prefix)
    {
        try
        {
            netlink.AddRoute(InterfaceName, prefix);
        }
        catch (NativeCallException e) when (e.Errno == 17)
        {
            // EEXIST: the interface address already covers it (e.g. 10.0.0.0/24 on 10.0.0.1/24), as with wg-quick.
        }
    }

    private ITai64NFloorStore OpenFloorStore(string? stateDirectory, string name)
    {
        if (stateDirectory is null)
        {
            return new InMemoryTai64NFloorStore();
        }

        try
        {
            Directory.CreateDirectory(stateDirectory);
            return new FileTai64NFloorStore(Path.Combine(stateDirectory, $"{name}.tai64n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.WriteLine($"meshagent: warning: cannot use state directory {stateDirectory} ({e.Message}); handshake timestamps will not survive a restart — pass --state-dir with a writable directory");
            return new InMemoryTai64NFloorStore();
        }
    }

    public void Dispose()
    {
        if (DataPlane is not null)
        {
            _log.WriteLine($"meshagent: {InterfaceName}: {DataPlane.Summary()}");
        }

        foreach (IDisposable owned in _owned)
        {
            try
            {
                owned.Dispose();
            }
            catch (Exception e)
            {
                _log.WriteLine($"meshagent: cleanup of {owned.GetType().Name} failed: {e.Message}");
            }
        }

        _owned.Clear();
    }
}
