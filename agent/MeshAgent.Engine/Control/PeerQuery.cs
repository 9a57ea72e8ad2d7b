using System.Net;
using System.Net.Sockets;

namespace MeshAgent.Engine.Control;

/// <summary>
/// How a user names another member on the command line (<c>meshagent ping PEER</c>): its name, or one of its
/// overlay addresses. Parsed once by the CLI (malformed input never reaches the daemon) and again by the daemon,
/// which matches it against its members.
/// </summary>
/// <remarks>
/// Only a dotted quad (four decimal parts) or a text with ':' is an address: <see cref="IPAddress.TryParse(string, out IPAddress)"/>
/// alone would read a name like "42" as 0.0.0.42. Names match exactly first, then ignoring case (names are DNS labels);
/// an IPv4-mapped IPv6 address matches the IPv4 overlay address.
/// </remarks>
public readonly record struct PeerQuery
{
    /// <summary>Longest name accepted here (node names have at most 32 characters; longer texts are surely mistakes).</summary>
    public const int MaxNameLength = 64;

    private PeerQuery(string? name, IPAddress? address)
    {
        Name = name;
        Address = address;
    }

    /// <summary>The member's name, when the query is not an address.</summary>
    public string? Name { get; }

    /// <summary>The overlay address (IPv4 or IPv6, never IPv4-mapped), when the query is one.</summary>
    public IPAddress? Address { get; }

    public override string ToString() => Name ?? Address!.ToString();

    /// <summary>Reads <paramref name="text"/>; false with <paramref name="error"/> (for humans) when it is neither a name nor an address.</summary>
    public static bool TryParse(string? text, out PeerQuery query, out string? error)
    {
        query = default;
        string trimmed = text?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            error = "no peer given — name a member (see 'meshagent peers') or give its overlay IPv4 or IPv6 address";
            return false;
        }

        if (trimmed.Contains(':', StringComparison.Ordinal) || IsDottedQuad(trimmed))
        {
            string bare = trimmed.StartsWith('[') && trimmed.EndsWith(']') ? trimmed[1..^1] : trimmed;
            if (bare.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(bare, out IPAddress? address))
            {
                error = $"'{trimmed}' is not an IPv4 or IPv6 address (overlay addresses look like 100.96.0.3 or fd7a:115c:a1e0::3)";
                return false;
            }

            query = new PeerQuery(null, address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
            error = null;
            return true;
        }

        if (trimmed.Length > MaxNameLength)
        {
            error = $"'{trimmed[..16]}…' ({trimmed.Length} characters) is too long for a member name";
            return false;
        }

        foreach (char c in trimmed)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                error = $"'{trimmed}' is neither a member name (letters, digits, '-', '_', '.') nor an overlay IP address";
                return false;
            }
        }

        query = new PeerQuery(trimmed, null);
        error = null;
        return true;
    }

    /// <summary>
    /// The member this query names among <paramref name="members"/>, or null. By address: the member whose overlay
    /// IPv4 or IPv6 address it is. By name: the exact name, else the only one equal ignoring case.
    /// </summary>
    public T? Find<T>(IEnumerable<T> members, Func<T, string> name, Func<T, IPAddress> ipv4, Func<T, IPAddress> ipv6)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(members);
        if (Address is { } address)
        {
            Func<T, IPAddress> overlay = address.AddressFamily == AddressFamily.InterNetwork ? ipv4 : ipv6;
            return members.FirstOrDefault(m => overlay(m).Equals(address));
        }

        string? wanted = Name;
        T? exact = members.FirstOrDefault(m => string.Equals(name(m), wanted, StringComparison.Ordinal));
        if (exact is not null)
        {
            return exact;
        }

        List<T> folded = members.Where(m => string.Equals(name(m), wanted, StringComparison.OrdinalIgnoreCase)).Take(2).ToList();
        return folded.Count == 1 ? folded[0] : null;
    }

    private static bool IsDottedQuad(string text)
    {
        string[] parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit));
    }
}
