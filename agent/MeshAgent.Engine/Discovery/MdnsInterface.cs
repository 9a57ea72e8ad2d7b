using System.Net;
using System.Net.Sockets;

namespace MeshAgent.Engine.Discovery;

/// <summary>One address of an interface with its on-link prefix.</summary>
public readonly record struct MdnsInterfaceAddress(IPAddress Address, int PrefixLength)
{
    /// <summary>True when <paramref name="other"/> lies in this address's on-link prefix.</summary>
    public bool Contains(IPAddress other)
    {
        if (other.AddressFamily != Address.AddressFamily)
        {
            return false;
        }

        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        Address.TryWriteBytes(a, out int length);
        other.TryWriteBytes(b, out _);
        int bits = Math.Clamp(PrefixLength, 0, length * 8);
        int whole = bits / 8;
        if (!a[..whole].SequenceEqual(b[..whole]))
        {
            return false;
        }

        int rest = bits % 8;
        return rest == 0 || ((a[whole] ^ b[whole]) & (0xFF << (8 - rest)) & 0xFF) == 0;
    }

    public override string ToString() => $"{Address}/{PrefixLength}";
}

/// <summary>
/// A network interface mDNS runs on: its kernel index, name and addresses. The A/AAAA records
/// sent on an interface carry that interface's addresses only (RFC 6762 §6.2).
/// </summary>
public sealed record MdnsInterface(int Index, string Name, IReadOnlyList<MdnsInterfaceAddress> Addresses)
{
    public IEnumerable<IPAddress> Ipv4Addresses =>
        Addresses.Where(a => a.Address.AddressFamily == AddressFamily.InterNetwork).Select(a => a.Address);

    public IEnumerable<IPAddress> Ipv6Addresses =>
        Addresses.Where(a => a.Address.AddressFamily == AddressFamily.InterNetworkV6).Select(a => a.Address);

    public bool HasIpv4 => Ipv4Addresses.Any();

    public bool HasIpv6 => Ipv6Addresses.Any();

    /// <summary>
    /// True when <paramref name="source"/> is on this link: inside one of its prefixes, or IPv6
    /// link-local, or IPv4 link-local (169.254/16). RFC 6762 §11 has responders ignore packets
    /// from elsewhere (a misconfigured router forwarding port 5353 must not inject answers).
    /// </summary>
    public bool IsOnLink(IPAddress source)
    {
        IPAddress address = source.IsIPv4MappedToIPv6 ? source.MapToIPv4() : source;
        if (address.IsIPv6LinkLocal)
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> bytes = stackalloc byte[4];
            address.TryWriteBytes(bytes, out _);
            if (bytes[0] == 169 && bytes[1] == 254)
            {
                return true;
            }
        }

        foreach (MdnsInterfaceAddress own in Addresses)
        {
            if (own.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Same index, name and addresses (records compare lists by reference).</summary>
    public bool SameAs(MdnsInterface other) =>
        Index == other.Index && Name == other.Name && Addresses.SequenceEqual(other.Addresses);

    public override string ToString() => $"{Name} (#{Index}: {string.Join(", ", Addresses)})";
}
