using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace MeshAgent.Core.Dns;

/// <summary>
/// TXT record RDATA: a sequence of length-prefixed strings of 0–255 bytes (RFC 1035 §3.3.14).
/// DNS-SD reads each as "key=value" (RFC 6763 §6.3–6.4): the key is everything before the first
/// '=', matched ignoring ASCII case; the first occurrence of a key wins. With no strings the
/// RDATA is written as one empty string, since a TXT record may not be empty (RFC 6763 §6.1).
/// </summary>
public sealed class DnsTxtData : DnsRecordData
{
    public const int MaxStringLength = 255;

    /// <param name="strings">Each string's bytes; owned by this object afterwards.</param>
    /// <exception cref="ArgumentException">A string is longer than 255 bytes.</exception>
    public DnsTxtData(IEnumerable<byte[]> strings)
    {
        Strings = [.. strings];
        foreach (byte[] s in Strings)
        {
            if (s.Length > MaxStringLength)
            {
                throw new ArgumentException(
                    $"TXT string '{Encoding.UTF8.GetString(s)}' is {s.Length} bytes; a TXT string holds at most {MaxStringLength} (RFC 1035 §3.3.14)",
                    nameof(strings));
            }
        }
    }

    /// <summary>The strings in order. Do not modify the arrays.</summary>
    public IReadOnlyList<byte[]> Strings { get; }

    public override DnsRecordType Type => DnsRecordType.Txt;

    /// <summary>TXT data from text strings, each encoded as UTF-8 ("v=1", "net=…").</summary>
    public static DnsTxtData FromStrings(params IEnumerable<string> strings) => new(strings.Select(Encoding.UTF8.GetBytes));

    /// <summary>
    /// Looks up <paramref name="key"/> (RFC 6763 §6.4): true when a string "key=value" or "key" is
    /// present; <paramref name="value"/> is the UTF-8 text after the first '=', or null for a bare
    /// key (a boolean attribute, RFC 6763 §6.4).
    /// </summary>
    public bool TryGetValue(string key, out string? value)
    {
        byte[] wanted = Encoding.UTF8.GetBytes(key);
        foreach (byte[] s in Strings)
        {
            int equals = Array.IndexOf(s, (byte)'=');
            ReadOnlySpan<byte> k = equals < 0 ? s : s.AsSpan(0, equals);
            if (k.Length > 0 && DnsName.AsciiEqualsIgnoreCase(k, wanted))
            {
                value = equals < 0 ? null : Encoding.UTF8.GetString(s.AsSpan(equals + 1));
                return true;
            }
        }

        value = null;
        return false;
    }

    /// <summary>The value of <paramref name="key"/> when present with a value (see <see cref="TryGetValue"/>).</summary>
    public bool TryGetText(string key, [NotNullWhen(true)] out string? value) => TryGetValue(key, out value) && value is not null;

    public override bool TryWrite(ref DnsWriter writer, bool compressNames)
    {
        if (Strings.Count == 0)
        {
            return writer.TryWriteUInt8(0);
        }

        foreach (byte[] s in Strings)
        {
            if (!writer.TryWriteUInt8((byte)s.Length) || !writer.TryWriteBytes(s))
            {
                return false;
            }
        }

        return true;
    }

    public override string ToString() =>
        string.Join(' ', Strings.Select(s => "\"" + DnsName.EscapeLabel(s).Replace("\"", "\\\"", StringComparison.Ordinal) + "\""));

    /// <summary>Reads strings up to the reader's end (the record's RDLENGTH); a string that overruns it is malformed.</summary>
    internal static bool TryReadData(ref DnsReader reader, out DnsRecordData? data)
    {
        data = null;
        var strings = new List<byte[]>();
        while (reader.Remaining > 0)
        {
            if (!reader.TryReadUInt8(out byte length) || !reader.TryReadBytes(length, out ReadOnlySpan<byte> bytes))
            {
                return reader.Fail(DnsReadError.BadRecordData);
            }

            strings.Add(bytes.ToArray());
        }

        data = new DnsTxtData(strings);
        return true;
    }
}
