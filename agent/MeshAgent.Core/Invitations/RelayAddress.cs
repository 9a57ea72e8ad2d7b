using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace MeshAgent.Core.Invitations;

/// <summary>
/// A relay a joiner can reach the inviter through: a DNS name or an IP literal, and a port. Stored
/// canonically so that equal addresses have equal text: DNS names in lowercase, IP literals as
/// <see cref="IPAddress.ToString"/> prints them (IPv4-mapped IPv6 becomes IPv4, scope ids dropped).
/// Text form: "host:port", "192.0.2.1:3478", "[2001:db8::1]:3478".
/// </summary>
public readonly struct RelayAddress : IEquatable<RelayAddress>
{
    /// <summary>RFC 1035 §2.3.4: at most 253 characters in the dotted text form.</summary>
    public const int MaxHostNameLength = 253;

    /// <summary>Throws <see cref="ArgumentException"/> naming the problem; see <see cref="Validate"/>.</summary>
    public RelayAddress(string host, int port)
    {
        string? error = Validate(host, port, out string canonical);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(host));
        }

        Host = canonical;
        Port = port;
    }

    public RelayAddress(IPAddress address, int port)
        : this(address?.ToString() ?? throw new ArgumentNullException(nameof(address)), port)
    {
    }

    /// <summary>A DNS name (lowercase) or an IP literal without brackets.</summary>
    public string Host { get; }

    public int Port { get; }

    /// <summary>The address when <see cref="Host"/> is an IP literal, else null (resolve the name).</summary>
    public IPAddress? Address => Host is not null && IPAddress.TryParse(Host, out IPAddress? address) ? address : null;

    /// <summary>Parses "host:port" or "[v6]:port". Never throws.</summary>
    public static bool TryParse(string? text, out RelayAddress address)
    {
        address = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        string host;
        string portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = text[1..close];
            portText = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out IPAddress? v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':') != colon)
            {
                return false;
            }

            host = text[..colon];
            portText = text[(colon + 1)..];
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            || Validate(host, port, out _) is not null)
        {
            return false;
        }

        address = new RelayAddress(host, port);
        return true;
    }

    /// <summary>
    /// Null when <paramref name="host"/> and <paramref name="port"/> make a relay address, else the
    /// reason. A DNS name is 1..253 characters of letters, digits, '-' and '.', in labels of 1..63
    /// characters that neither start nor end with '-'. Port 1..65535.
    /// </summary>
    internal static string? Validate(string? host, int port, out string canonical)
    {
        canonical = string.Empty;
        if (port is < 1 or > ushort.MaxValue)
        {
            return $"relay port {port} is out of range (1..65535)";
        }

        if (string.IsNullOrEmpty(host))
        {
            return "a relay address needs a host name or IP address";
        }

        if (IPAddress.TryParse(host, out IPAddress? ip))
        {
            if (ip.IsIPv4MappedToIPv6)
            {
                ip = ip.MapToIPv4();
            }

            if (ip.AddressFamily == AddressFamily.InterNetworkV6)
            {
                ip.ScopeId = 0;
            }

            canonical = ip.ToString();
            return null;
        }

        if (host.Length > MaxHostNameLength)
        {
            return $"relay host name is {host.Length} characters long (at most {MaxHostNameLength})";
        }

        foreach (string label in host.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-'
                || label.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-')))
            {
                return $"relay host '{host}' is not a valid DNS name (letters, digits, '-' and '.', labels of 1..63 characters)";
            }
        }

        canonical = host.ToLowerInvariant();
        return null;
    }

    public bool Equals(RelayAddress other) => string.Equals(Host, other.Host, StringComparison.Ordinal) && Port == other.Port;

    public override bool Equals(object? obj) => obj is RelayAddress other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Host, Port);

    public static bool operator ==(RelayAddress left, RelayAddress right) => left.Equals(right);

    public static bool operator !=(RelayAddress left, RelayAddress right) => !left.Equals(right);

    public override string ToString() => Host is not null && Host.Contains(':', StringComparison.Ordinal)
        ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}"
        : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
