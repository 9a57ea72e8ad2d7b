using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Dns;
using MeshAgent.Engine.Discovery;

namespace MeshAgent.Tests.Dns.Discovery;

/// <summary>
/// One LAN segment in memory. Multicast to 224.0.0.251 reaches every member with IPv4 (the sender
/// too, as IP_MULTICAST_LOOP does), ff02::fb every member with IPv6; unicast reaches the member
/// owning the address. Packets queue until <see cref="Pump"/>, so a service never re-enters itself.
/// Every packet is logged with the time it was sent. Single-threaded.
/// </summary>
internal sealed class FakeMulticastBus(SteppedTimeProvider clock)
{
    private readonly Queue<(FakeMdnsTransport? From, byte[] Packet, IPEndPoint Source, IPEndPoint Destination)> _queue = new();
    private readonly List<FakeMdnsTransport> _members = [];

    public SteppedTimeProvider Clock { get; } = clock;

    public List<SentPacket> Log { get; } = [];

    /// <summary>Drops packets for which this returns true (loss, partitions).</summary>
    public Func<SentPacket, bool>? Drop { get; set; }

    public FakeMdnsTransport Join(string name, IPAddress ipv4, IPAddress? ipv6 = null, int interfaceIndex = 2)
    {
        List<MdnsInterfaceAddress> addresses = [new(ipv4, 24)];
        if (ipv6 is not null)
        {
            addresses.Add(new MdnsInterfaceAddress(ipv6, 64));
        }

        var member = new FakeMdnsTransport(this, name, new MdnsInterface(interfaceIndex, "eth0", addresses));
        _members.Add(member);
        return member;
    }

    /// <summary>A packet from a host that runs no service of ours (a querier, or captured avahi bytes).</summary>
    public void Inject(byte[] packet, IPEndPoint source, IPEndPoint? destination = null) =>
        Enqueue(null, packet, source, destination ?? new IPEndPoint(MdnsProtocol.Ipv4Group, MdnsProtocol.Port));

    internal void Enqueue(FakeMdnsTransport? from, byte[] packet, IPEndPoint source, IPEndPoint destination)
    {
        DnsMessage.TryRead(packet, out DnsMessage? message, out _);
        var sent = new SentPacket(Clock.Elapsed, from?.Name ?? "injected", source, destination, message, packet);
        Log.Add(sent);
        if (Drop?.Invoke(sent) != true)
        {
            _queue.Enqueue((from, packet, source, destination));
        }
    }

    /// <summary>Delivers queued packets (and those their delivery causes) until none is left.</summary>
    public int Pump()
    {
        int delivered = 0;
        while (_queue.TryDequeue(out var item))
        {
            if (++delivered > 100_000)
            {
                throw new InvalidOperationException("packet storm: 100000 deliveries without the bus going quiet");
            }

            IPAddress destination = item.Destination.Address;
            foreach (FakeMdnsTransport member in _members.ToList())
            {
                bool reaches = destination.IsIPv6Multicast ? member.HasIpv6
                    : destination.Equals(MdnsProtocol.Ipv4Group) ? member.HasIpv4
                    : member.Owns(destination);
                if (reaches)
                {
                    member.Deliver(item.Packet, item.Source);
                }
            }
        }

        return delivered;
    }

    /// <summary>Runs the segment for <paramref name="duration"/>: fires each timer at its instant and delivers what it sends, event by event.</summary>
    public void Run(TimeSpan duration)
    {
        TimeSpan end = Clock.Elapsed + duration;
        Pump();
        while (Clock.NextDue is { } next && next <= end)
        {
            Clock.AdvanceTo(next);
            Pump();
        }

        Clock.AdvanceTo(end);
        Pump();
    }

    internal sealed record SentPacket(TimeSpan At, string From, IPEndPoint Source, IPEndPoint Destination, DnsMessage? Message, byte[] Bytes)
    {
        public bool IsMulticast => Destination.Address.IsIPv6Multicast || Destination.Address.Equals(MdnsProtocol.Ipv4Group);
    }
}

/// <summary>One member of a <see cref="FakeMulticastBus"/>: a host with one interface "eth0".</summary>
internal sealed class FakeMdnsTransport(FakeMulticastBus bus, string name, MdnsInterface iface) : IMdnsTransport
{
    private IMdnsReceiver? _receiver;

    public string Name { get; } = name;

    public MdnsInterface Interface { get; private set; } = iface;

    public bool Disposed { get; private set; }

    public IReadOnlyList<MdnsInterface> Interfaces => Disposed ? [] : [Interface];

    public bool HasIpv4 => !Disposed && _receiver is not null && Interface.HasIpv4;

    public bool HasIpv6 => !Disposed && _receiver is not null && Interface.HasIpv6;

    public IPAddress Ipv4 => Interface.Ipv4Addresses.First();

    public void Start(IMdnsReceiver receiver) => _receiver = receiver;

    public bool Send(ReadOnlySpan<byte> packet, int interfaceIndex, IPEndPoint destination)
    {
        if (Disposed || interfaceIndex != Interface.Index)
        {
            return false;
        }

        IPAddress? source = destination.AddressFamily == AddressFamily.InterNetwork
            ? Interface.Ipv4Addresses.FirstOrDefault()
            : Interface.Ipv6Addresses.FirstOrDefault();
        if (source is null)
        {
            return false;
        }

        bus.Enqueue(this, packet.ToArray(), new IPEndPoint(source, MdnsProtocol.Port), destination);
        return true;
    }

    /// <summary>Gives the interface new addresses and tells the service, as a netlink change would.</summary>
    public void Readdress(params MdnsInterfaceAddress[] addresses)
    {
        Interface = Interface with { Addresses = addresses };
        _receiver?.OnInterfacesChanged();
    }

    public bool Owns(IPAddress address) =>
        !Disposed && Interface.Addresses.Any(a => a.Address.GetAddressBytes().AsSpan().SequenceEqual(address.GetAddressBytes()));

    public void Deliver(byte[] packet, IPEndPoint source)
    {
        if (!Disposed)
        {
            _receiver?.OnDatagram(packet, new MdnsPacketSource(source, Interface.Index));
        }
    }

    public void Dispose() => Disposed = true;
}
