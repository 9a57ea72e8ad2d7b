using System.Net;
using System.Net.Sockets;

namespace MeshAgent.Core.Net;

/// <summary>
/// Prefix helpers shared by the config parser and the routing table: strict address parsing with
/// the rules of inet_pton(3) (what wg(8) uses), and host-bit masking (what the WireGuard kernel
/// module does to <c>10.0.0.1/24</c>). <see cref="IPNetwork"/> itself refuses host bits, so every
/// prefix we build goes through <see cref="Create"/>.
/// </summary>
public static class IpPrefix
{
    /// <summary>Maximum prefix length for the address family of <paramref name="address"/> (32 or 128).</summary>
    public static int MaxLength(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;

    /// <summary>
    /// Builds a prefix, zeroing the bits after <paramref name="prefixLength"/> and dropping any IPv6
    /// scope id. Throws <see cref="ArgumentOutOfRangeException"/> on a length outside 0..32 / 0..128
    /// and <see cref="ArgumentException"/> on a non-IP address family (caller bugs, not input errors).
    /// </summary>
    public static IPNetwork Create(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"address family {address.AddressFamily} is not IPv4 or IPv6", nameof(address));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, MaxLength(address));

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        bytes = bytes[..written];
        MaskInPlace(bytes, prefixLength);
        return new IPNetwork(new IPAddress(bytes), prefixLength);
    }

    /// <summary>True when <paramref name="address"/> has a 1 bit after <paramref name="prefixLength"/>.</summary>
    public static bool HasHostBits(IPAddress address, int prefixLength)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        bytes = bytes[..written];
        for (int bit = prefixLength; bit < written * 8; bit++)
        {
            if ((bytes[bit >> 3] & (0x80 >> (bit & 7))) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Zeroes every bit of <paramref name="address"/> after <paramref name="prefixLength"/>.</summary>
    public static void MaskInPlace(Span<byte> address, int prefixLength)
    {
        int fullBytes = prefixLength >> 3;
        int restBits = prefixLength & 7;
        if (fullBytes < address.Length && restBits != 0)
        {
            address[fullBytes] &= (byte)(0xFF << (8 - restBits));
            fullBytes++;
        }

        if (fullBytes < address.Length)
        {
            address[fullBytes..].Clear();
        }
    }

    /// <summary>
    /// Parses an address the way inet_pton(3) does: IPv4 only as four dotted decimal octets without
    /// leading zeros (so <c>10.1</c> and <c>010.0.0.1</c> are rejected, unlike
    /// <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>); IPv6 in RFC 4291 text form,
    /// without brackets or a scope id. Never throws.
    /// </summary>
    public static bool TryParseAddress(ReadOnlySpan<char> text, out IPAddress? address)
    {
        address = null;
        if (text.IsEmpty)
        {
            return false;
        }

        if (text.Contains(':'))
        {
            // IPAddress.TryParse also accepts "[::1]", "::1%eth0" and "[::1]:80"; inet_pton does not.
            foreach (char c in text)
            {
                if (!(char.IsAsciiHexDigit(c) || c == ':' || c == '.'))
                {
                    return false;
                }
            }

            if (IPAddress.TryParse(text, out IPAddress? v6) && v6.AddressFamily == AddressFamily.InterNetworkV6)
            {
                address = v6;
                return true;
            }

            return false;
        }

        Span<byte> octets = stackalloc byte[4];
        int part = 0;
        int value = 0;
        int digits = 0;
        foreach (char c in text)
        {
            if (c == '.')
            {
                if (digits == 0 || part == 3)
                {
                    return false;
                }

                octets[part++] = (byte)value;
                value = 0;
                digits = 0;
            }
            else if (char.IsAsciiDigit(c))
            {
                if (digits == 1 && value == 0)
                {
                    return false; // leading zero
                }

                value = (value * 10) + (c - '0');
                if (++digits > 3 || value > 255)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        if (digits == 0 || part != 3)
        {
            return false;
        }

        octets[3] = (byte)value;
        address = new IPAddress(octets);
        return true;
    }

    /// <summary>
    /// Parses <c>address</c> or <c>address/length</c> (length in decimal, no sign, at most 32 or 128).
    /// A missing length means a host prefix (/32 or /128), as in wg(8) and ip(8). The address keeps its
    /// host bits; call <see cref="Create"/> to mask them. Never throws.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out IPAddress? address, out int prefixLength)
    {
        prefixLength = 0;
        int slash = text.IndexOf('/');
        ReadOnlySpan<char> addressText = slash < 0 ? text : text[..slash];
        if (!TryParseAddress(addressText, out address))
        {
            return false;
        }

        int max = MaxLength(address!);
        if (slash < 0)
        {
            prefixLength = max;
            return true;
        }

        ReadOnlySpan<char> lengthText = text[(slash + 1)..];
        if (lengthText.IsEmpty || lengthText.Length > 3)
        {
            address = null;
            return false;
        }

        int length = 0;
        foreach (char c in lengthText)
        {
            if (!char.IsAsciiDigit(c))
            {
                address = null;
                return false;
            }

            length = (length * 10) + (c - '0');
        }

        if (length > max)
        {
            address = null;
            return false;
        }

        prefixLength = length;
        return true;
    }
}
