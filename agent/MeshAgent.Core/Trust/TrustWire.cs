using System.Buffers;
using System.Net;
using System.Net.Sockets;
using MeshAgent.Core.MessagePack;
using MeshAgent.Core.Net;

namespace MeshAgent.Core.Trust;

/// <summary>
/// Pieces shared by the trust record codecs. Every signed record has the same outer shape:
/// <code>
/// signed record := fixarray(2) [ tbs: bin (the canonical encoding of the record's fields),
///                                signature: bin 8 (64 bytes, Ed25519 over context ‖ 0x00 ‖ tbs) ]
/// </code>
/// Carrying the to-be-signed bytes as one bin value means a verifier checks the signature over exactly
/// the bytes it received; the tbs is then decoded in strict (canonical) mode, so re-encoding the decoded
/// fields reproduces it byte for byte as well.
/// <code>
/// prefix   := fixarray(2) [ address: bin 8 (4 bytes IPv4 or 16 bytes IPv6, host bits zero),
///                           length: uint (0..32 or 0..128) ]
/// endpoint := fixarray(2) [ address: bin 8 (4 or 16 bytes), port: uint (1..65535) ]
/// </code>
/// Prefix sets are sorted by (family: IPv4 first, address bytes, length) with no duplicates.
/// Compound reads here may leave the reader anywhere when they fail: record decoders stop at the first failure.
/// </summary>
internal static class TrustWire
{
    public const int SignatureLength = 64;

    public static byte[] EncodeSigned(ReadOnlySpan<byte> tbs, ReadOnlySpan<byte> signature)
    {
        var output = new ArrayBufferWriter<byte>(tbs.Length + SignatureLength + 8);
        var writer = new MessagePackWriter(output);
        writer.WriteArrayHeader(2);
        writer.WriteBinary(tbs);
        writer.WriteBinary(signature);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads the outer shape of a signed record that must fill <paramref name="encoded"/> exactly. The
    /// ranges locate the tbs and signature inside <paramref name="encoded"/>.
    /// </summary>
    public static bool TryReadSigned(ReadOnlySpan<byte> encoded, out Range tbs, out Range signature, out string? error)
    {
        tbs = default;
        signature = default;
        var reader = new MessagePackReader(encoded, strict: true);
        if (!reader.TryReadArrayHeader(out int count) || count != 2)
        {
            error = "expected a 2-element array [signed fields, signature]";
            return false;
        }

        if (!reader.TryReadBinary(out ReadOnlySpan<byte> body))
        {
            error = "the signed fields are not a canonical bin value (truncated or malformed)";
            return false;
        }

        tbs = new Range(reader.Position - body.Length, reader.Position);
        if (!reader.TryReadBinary(out ReadOnlySpan<byte> sig) || sig.Length != SignatureLength)
        {
            error = $"the signature is not a {SignatureLength}-byte bin value";
            return false;
        }

        signature = new Range(reader.Position - sig.Length, reader.Position);
        if (!reader.End)
        {
            error = $"{reader.Remaining} unexpected bytes after the signature";
            return false;
        }

        error = null;
        return true;
    }

    public static long ToUnixSeconds(DateTimeOffset time) => time.ToUnixTimeSeconds();

    /// <summary>The range <see cref="DateTimeOffset"/> can hold (years 1..9999); never throws.</summary>
    public static bool TryFromUnixSeconds(long seconds, out DateTimeOffset time)
    {
        time = default;
        if (seconds < DateTimeOffset.MinValue.ToUnixTimeSeconds() || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return false;
        }

        time = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }

    public static bool TryReadFixedBinary(ref MessagePackReader reader, int length, out ReadOnlySpan<byte> bytes) =>
        reader.TryReadBinary(out bytes) && bytes.Length == length;

    public static void WriteAddress(ref MessagePackWriter writer, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        writer.WriteBinary(bytes[..written]);
    }

    public static bool TryReadAddress(ref MessagePackReader reader, out IPAddress? address)
    {
        address = null;
        if (!reader.TryReadBinary(out ReadOnlySpan<byte> bytes) || bytes.Length is not (4 or 16))
        {
            return false;
        }

        address = new IPAddress(bytes);
        return true;
    }

    public static void WritePrefix(ref MessagePackWriter writer, IPNetwork prefix)
    {
        writer.WriteArrayHeader(2);
        WriteAddress(ref writer, prefix.BaseAddress);
        writer.WriteUInt64((ulong)prefix.PrefixLength);
    }

    public static bool TryReadPrefix(ref MessagePackReader reader, out IPNetwork prefix)
    {
        prefix = default;
        if (!reader.TryReadArrayHeader(out int count) || count != 2
            || !TryReadAddress(ref reader, out IPAddress? address)
            || !reader.TryReadUInt32(out uint length) || length > IpPrefix.MaxLength(address!)
            || IpPrefix.HasHostBits(address!, (int)length))
        {
            return false;
        }

        prefix = new IPNetwork(address!, (int)length);
        return true;
    }

    public static void WritePrefixes(ref MessagePackWriter writer, IReadOnlyList<IPNetwork> prefixes)
    {
        writer.WriteArrayHeader(prefixes.Count);
        foreach (IPNetwork prefix in prefixes)
        {
            WritePrefix(ref writer, prefix);
        }
    }

    /// <summary>A sorted, duplicate-free prefix list of at most <paramref name="max"/> entries.</summary>
    public static bool TryReadPrefixSet(ref MessagePackReader reader, int max, out IPNetwork[] prefixes)
    {
        prefixes = [];
        if (!reader.TryReadArrayHeader(out int count) || count > max)
        {
            return false;
        }

        var list = new IPNetwork[count];
        for (int i = 0; i < count; i++)
        {
            if (!TryReadPrefix(ref reader, out list[i]) || (i > 0 && ComparePrefixes(list[i - 1], list[i]) >= 0))
            {
                return false;
            }
        }

        prefixes = list;
        return true;
    }

    /// <summary>Sorts and de-duplicates a prefix set into its canonical order; rejects non-IP families.</summary>
    public static IPNetwork[] CanonicalPrefixSet(IEnumerable<IPNetwork> prefixes, string what)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        var set = new SortedSet<IPNetwork>(Comparer<IPNetwork>.Create(ComparePrefixes));
        foreach (IPNetwork prefix in prefixes)
        {
            if (prefix.BaseAddress is null
                || prefix.BaseAddress.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                throw new ArgumentException($"{what}: {prefix} is not an IPv4 or IPv6 prefix", nameof(prefixes));
            }

            set.Add(IpPrefix.Create(prefix.BaseAddress, prefix.PrefixLength)); // drops any IPv6 scope id
        }

        return [.. set];
    }

    /// <summary>Canonical order of prefixes: IPv4 before IPv6, then address bytes, then length.</summary>
    public static int ComparePrefixes(IPNetwork a, IPNetwork b)
    {
        Span<byte> x = stackalloc byte[16], y = stackalloc byte[16];
        a.BaseAddress.TryWriteBytes(x, out int xLength);
        b.BaseAddress.TryWriteBytes(y, out int yLength);
        int c = xLength.CompareTo(yLength);
        if (c == 0)
        {
            c = x[..xLength].SequenceCompareTo(y[..yLength]);
        }

        return c != 0 ? c : a.PrefixLength.CompareTo(b.PrefixLength);
    }

    /// <summary>True when <paramref name="outer"/> contains every address of <paramref name="inner"/>.</summary>
    public static bool Covers(IPNetwork outer, IPNetwork inner) =>
        outer.BaseAddress.AddressFamily == inner.BaseAddress.AddressFamily
        && outer.PrefixLength <= inner.PrefixLength
        && outer.Contains(inner.BaseAddress);

    public static void WriteEndpoint(ref MessagePackWriter writer, IPEndPoint endpoint)
    {
        writer.WriteArrayHeader(2);
        WriteAddress(ref writer, endpoint.Address);
        writer.WriteUInt64((ulong)endpoint.Port);
    }

    public static bool TryReadEndpoint(ref MessagePackReader reader, out IPEndPoint? endpoint)
    {
        endpoint = null;
        if (!reader.TryReadArrayHeader(out int count) || count != 2
            || !TryReadAddress(ref reader, out IPAddress? address)
            || !reader.TryReadUInt32(out uint port) || port is 0 or > ushort.MaxValue)
        {
            return false;
        }

        endpoint = new IPEndPoint(address!, (int)port);
        return true;
    }
}
