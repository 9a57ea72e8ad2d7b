using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.Net;

namespace MeshAgent.Core.Config;

/// <summary>
/// A peer's <c>Endpoint =</c>: <c>203.0.113.1:51820</c>, <c>[2001:db8::1]:51820</c> or
/// <c>vpn.example.com:51820</c>. Host names stay unresolved here; resolving is the caller's
/// decision (when, how often, which family) and <see cref="ResolveAsync"/> is the helper for it.
/// </summary>
public sealed record PeerEndpoint
{
    private PeerEndpoint(string host, int port, IPAddress? address)
    {
        Host = host;
        Port = port;
        Address = address;
    }

    /// <summary>Host name, or the address literal without brackets.</summary>
    public string Host { get; }

    /// <summary>UDP port, 1..65535.</summary>
    public int Port { get; }

    /// <summary>The address when <see cref="Host"/> is a literal; null for a host name.</summary>
    public IPAddress? Address { get; }

    public bool IsHostName => Address is null;

    public static PeerEndpoint FromIPEndPoint(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentOutOfRangeException.ThrowIfZero(endPoint.Port);
        return new PeerEndpoint(endPoint.Address.ToString(), endPoint.Port, endPoint.Address);
    }

    /// <summary>
    /// Parses the wg(8) endpoint syntax. On failure <paramref name="error"/> says what is wrong in
    /// words that can follow "Endpoint 'text' ". Never throws.
    /// </summary>
    public static bool TryParse(string text, out PeerEndpoint? endpoint, out string? error)
    {
        endpoint = null;
        error = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "is empty; write host:port, e.g. vpn.example.com:51820 or [2001:db8::1]:51820";
            return false;
        }

        string host;
        string portText;
        IPAddress? address = null;
        if (text[0] == '[')
        {
            int close = text.IndexOf(']');
            if (close < 0)
            {
                error = "has '[' but no matching ']'; write IPv6 endpoints as [2001:db8::1]:51820";
                return false;
            }

            host = text[1..close];
            if (close + 1 >= text.Length || text[close + 1] != ':')
            {
                error = "has no port after ']'; write [address]:port";
                return false;
            }

            portText = text[(close + 2)..];
            if (!TryParseBracketedAddress(host, out address))
            {
                error = $"has '{host}' in brackets, which is not an IPv6 address";
                return false;
            }
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                error = "has no port; write host:port, e.g. vpn.example.com:51820";
                return false;
            }

            host = text[..colon];
            portText = text[(colon + 1)..];
            if (host.Contains(':'))
            {
                error = $"looks like an IPv6 address without brackets; write [{host}]:{portText}";
                return false;
            }

            if (host.Length == 0)
            {
                error = "has no host before ':port'";
                return false;
            }

            if (LooksNumeric(host))
            {
                if (!IpPrefix.TryParseAddress(host, out address))
                {
                    error = $"has '{host}', which is not an IPv4 address (four numbers 0-255 separated by dots)";
                    return false;
                }
            }
            else if (!IsValidHostName(host))
            {
                error = $"has '{host}', which is neither an IP address nor a host name (letters, digits, '-', '.')";
                return false;
            }
        }

        if (!TryParsePort(portText, out int port))
        {
            error = $"has port '{portText}'; a port is a number from 1 to 65535";
            return false;
        }

        endpoint = new PeerEndpoint(host, port, address);
        return true;
    }

    /// <summary>
    /// Resolves to one UDP endpoint. A literal returns at once. A host name goes through
    /// <see cref="System.Net.Dns.GetHostAddressesAsync(string, AddressFamily, CancellationToken)"/> and the first
    /// address is used, as wg(8) uses the first getaddrinfo(3) result. <paramref name="family"/>
    /// restricts the result to IPv4 or IPv6 (e.g. when only one socket family is open).
    /// Throws <see cref="EndpointResolutionException"/> with the host in the message.
    /// </summary>
    public Task<IPEndPoint> ResolveAsync(AddressFamily family = AddressFamily.Unspecified, CancellationToken cancellationToken = default) =>
        ResolveAsync(static (host, f, ct) => System.Net.Dns.GetHostAddressesAsync(host, f, ct), family, cancellationToken);

    /// <summary>As <see cref="ResolveAsync(AddressFamily, CancellationToken)"/> with an injected resolver (tests, custom DNS).</summary>
    public async Task<IPEndPoint> ResolveAsync(
        Func<string, AddressFamily, CancellationToken, Task<IPAddress[]>> resolver,
        AddressFamily family = AddressFamily.Unspecified,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        if (Address is not null)
        {
            if (family != AddressFamily.Unspecified && Address.AddressFamily != family)
            {
                throw new EndpointResolutionException(
                    $"endpoint {this} is {Describe(Address.AddressFamily)} but an {Describe(family)} address is required; use an endpoint of that family or open a socket for it");
            }

            return new IPEndPoint(Address, Port);
        }

        IPAddress[] addresses;
        try
        {
            addresses = await resolver(Host, family, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new EndpointResolutionException(
                $"resolving endpoint host '{Host}' failed: {e.Message} — check the name and the DNS settings, or write an IP address in Endpoint", e);
        }

        foreach (IPAddress candidate in addresses)
        {
            if (candidate.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6
                && (family == AddressFamily.Unspecified || candidate.AddressFamily == family))
            {
                return new IPEndPoint(candidate, Port);
            }
        }

        string wanted = family == AddressFamily.Unspecified ? "IPv4 or IPv6" : Describe(family);
        throw new EndpointResolutionException(
            $"endpoint host '{Host}' resolved to no {wanted} address — check its DNS records or write an IP address in Endpoint");
    }

    /// <summary>wg(8) form: <c>1.2.3.4:51820</c>, <c>[2001:db8::1]:51820</c>, <c>host:51820</c>.</summary>
    public override string ToString() =>
        Address is { AddressFamily: AddressFamily.InterNetworkV6 }
            ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}"
            : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    private static string Describe(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? "IPv6" : family == AddressFamily.InterNetwork ? "IPv4" : family.ToString();

    private static bool TryParsePort(string text, out int port)
    {
        port = 0;
        if (text.Length is 0 or > 5)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            port = (port * 10) + (c - '0');
        }

        return port is >= 1 and <= 65535;
    }

    // Inside brackets getaddrinfo(3) also takes a zone ("fe80::1%eth0"), needed for link-local peers.
    private static bool TryParseBracketedAddress(string host, out IPAddress? address)
    {
        address = null;
        int percent = host.IndexOf('%');
        string bare = percent < 0 ? host : host[..percent];
        if (!IpPrefix.TryParseAddress(bare, out IPAddress? parsed) || parsed!.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        if (percent < 0)
        {
            address = parsed;
            return true;
        }

        string zone = host[(percent + 1)..];
        if (zone.Length is 0 or > 15 || !zone.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            return false;
        }

        return IPAddress.TryParse(host, out address);
    }

    private static bool LooksNumeric(string host)
    {
        foreach (char c in host)
        {
            if (!(char.IsAsciiDigit(c) || c == '.'))
            {
                return false;
            }
        }

        return true;
    }

    // RFC 1123 names, leniently: '_' is allowed because real DNS names carry it and getaddrinfo accepts it.
    private static bool IsValidHostName(string host)
    {
        string name = host.EndsWith('.') ? host[..^1] : host;
        if (name.Length is 0 or > 253)
        {
            return false;
        }

        foreach (string label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (char c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
