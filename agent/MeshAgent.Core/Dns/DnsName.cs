using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace MeshAgent.Core.Dns;

/// <summary>
/// A domain name, held in its uncompressed wire form (RFC 1035 §3.1): length-prefixed labels
/// ending with the zero-length root label, at most 255 bytes in all and 63 per label
/// (RFC 1035 §2.3.4). Labels are arbitrary bytes: DNS-SD instance names are UTF-8 and may hold
/// dots, spaces and any other character (RFC 6763 §4.3), so a name is never split on dots
/// except when parsing presentation text (<see cref="Parse"/>, where "\." escapes a dot).
/// <para>
/// Equality ignores ASCII case only, as mDNS requires (RFC 6762 §16): bytes A–Z match a–z;
/// bytes of multi-byte UTF-8 sequences are all ≥ 0x80, so folding bytes never touches them.
/// </para>
/// Immutable and thread-safe.
/// </summary>
public sealed class DnsName : IEquatable<DnsName>
{
    /// <summary>Longest label in bytes (RFC 1035 §2.3.4).</summary>
    public const int MaxLabelLength = 63;

    /// <summary>Longest name in uncompressed wire form, length bytes and root label included (RFC 1035 §2.3.4).</summary>
    public const int MaxLength = 255;

    private readonly byte[] _wire;
    private byte[]? _labelOffsets;

    private DnsName(byte[] wire) => _wire = wire;

    /// <summary>The root name ".".</summary>
    public static DnsName Root { get; } = new([0]);

    /// <summary>The uncompressed wire form, ending with the root label's zero byte.</summary>
    public ReadOnlySpan<byte> WireForm => _wire;

    /// <summary>Length of <see cref="WireForm"/> (1 for the root, at most <see cref="MaxLength"/>).</summary>
    public int WireLength => _wire.Length;

    /// <summary>Number of labels, not counting the root label.</summary>
    public int LabelCount => LabelOffsets.Length;

    public bool IsRoot => _wire.Length == 1;

    // Each label's length byte position in _wire; positions fit a byte because _wire has ≤ 255 bytes.
    private byte[] LabelOffsets => _labelOffsets ??= ComputeLabelOffsets(_wire);

    /// <summary>The raw bytes of label <paramref name="index"/> (0 = leftmost).</summary>
    public ReadOnlySpan<byte> GetLabelBytes(int index)
    {
        int offset = LabelOffsets[index];
        return _wire.AsSpan(offset + 1, _wire[offset]);
    }

    /// <summary>Label <paramref name="index"/> decoded as UTF-8 (invalid bytes become U+FFFD; see <see cref="ToString"/> for a lossless form).</summary>
    public string GetLabel(int index) => Encoding.UTF8.GetString(GetLabelBytes(index));

    /// <summary>The name without its leftmost label ("b.local" for "a.b.local"); the root has no parent.</summary>
    /// <exception cref="InvalidOperationException">This is the root.</exception>
    public DnsName Parent
    {
        get
        {
            if (IsRoot)
            {
                throw new InvalidOperationException("the root name has no parent");
            }

            return new DnsName(_wire.AsSpan(1 + _wire[0]).ToArray());
        }
    }

    /// <summary>Builds a name from labels given as text (each encoded as UTF-8, no escapes), e.g. ("_meshagent", "_udp", "local").</summary>
    /// <exception cref="ArgumentException">A label is empty or longer than 63 bytes, or the name is longer than 255 bytes.</exception>
    public static DnsName FromLabels(params ReadOnlySpan<string> labels) =>
        TryFromLabels(labels, out DnsName? name, out string? error) ? name : throw new ArgumentException(error, nameof(labels));

    /// <summary>As <see cref="FromLabels"/>, reporting a problem in <paramref name="error"/> instead of throwing.</summary>
    public static bool TryFromLabels(ReadOnlySpan<string> labels, [NotNullWhen(true)] out DnsName? name, [NotNullWhen(false)] out string? error)
    {
        name = null;
        int total = 1;
        foreach (string label in labels)
        {
            int length = Encoding.UTF8.GetByteCount(label);
            if ((error = DescribeLabelLength(label, length)) is not null)
            {
                return false;
            }

            total += 1 + length;
        }

        if (total > MaxLength)
        {
            error = $"domain name '{string.Join('.', labels.ToArray())}' is {total} bytes in wire form; the limit is {MaxLength} (RFC 1035 §2.3.4)";
            return false;
        }

        byte[] wire = new byte[total];
        int position = 0;
        foreach (string label in labels)
        {
            int length = Encoding.UTF8.GetBytes(label, wire.AsSpan(position + 1));
            wire[position] = (byte)length;
            position += 1 + length;
        }

        wire[position] = 0;
        name = new DnsName(wire);
        error = null;
        return true;
    }

    /// <summary>This name with <paramref name="label"/> (UTF-8 text, no escapes) added on the left.</summary>
    /// <exception cref="ArgumentException">The label is empty or too long, or the result is longer than 255 bytes.</exception>
    public DnsName Prepend(string label) =>
        TryPrepend(label, out DnsName? name, out string? error) ? name : throw new ArgumentException(error, nameof(label));

    /// <summary>As <see cref="Prepend"/>, reporting a problem in <paramref name="error"/> instead of throwing.</summary>
    public bool TryPrepend(string label, [NotNullWhen(true)] out DnsName? name, [NotNullWhen(false)] out string? error)
    {
        name = null;
        int length = Encoding.UTF8.GetByteCount(label);
        if ((error = DescribeLabelLength(label, length)) is not null)
        {
            return false;
        }

        int total = 1 + length + _wire.Length;
        if (total > MaxLength)
        {
            error = $"domain name '{label}.{this}' is {total} bytes in wire form; the limit is {MaxLength} (RFC 1035 §2.3.4)";
            return false;
        }

        byte[] wire = new byte[total];
        wire[0] = (byte)Encoding.UTF8.GetBytes(label, wire.AsSpan(1));
        _wire.CopyTo(wire.AsSpan(1 + length));
        name = new DnsName(wire);
        return true;
    }

    /// <summary>True when this name equals <paramref name="suffix"/> or lies below it ("a.b.local" is a subdomain of "local").</summary>
    public bool IsSubdomainOf(DnsName suffix)
    {
        int start = _wire.Length - suffix._wire.Length;
        if (start < 0 || !AsciiEqualsIgnoreCase(_wire.AsSpan(start), suffix._wire))
        {
            return false;
        }

        // The tail must begin at a label boundary (or be the root), not inside a label that happens to end alike.
        return start == 0 || start == _wire.Length - 1 || Array.IndexOf(LabelOffsets, (byte)start) >= 0;
    }

    /// <summary>
    /// Parses presentation text: labels separated by unescaped dots, "\." and "\\" for a literal
    /// dot or backslash, "\DDD" (decimal) for any byte (RFC 1035 §5.1, RFC 6763 §4.3). A final dot
    /// is optional; "" and "." are the root.
    /// </summary>
    /// <exception cref="FormatException">The text is not a valid name; the message says why.</exception>
    public static DnsName Parse(string text) =>
        TryParse(text, out DnsName? name, out string? error) ? name : throw new FormatException(error);

    /// <summary>As <see cref="Parse"/>, reporting a problem in <paramref name="error"/> instead of throwing.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out DnsName? name, [NotNullWhen(false)] out string? error)
    {
        name = null;
        if (text.Length == 0 || text == ".")
        {
            name = Root;
            error = null;
            return true;
        }

        Span<byte> wire = stackalloc byte[MaxLength + 4 + 1];
        int labelStart = 0;
        int position = 1;
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < text.Length;)
        {
            char c = text[i];
            if (c == '.')
            {
                if (!CloseLabel(wire, labelStart, position, text, out error))
                {
                    return false;
                }

                labelStart = position;
                position++;
                i++;
                if (i == text.Length)
                {
                    break;
                }

                continue;
            }

            int written;
            if (c == '\\')
            {
                if (i + 1 >= text.Length)
                {
                    error = $"domain name '{text}' ends with a lone backslash";
                    return false;
                }

                if (i + 3 < text.Length && char.IsAsciiDigit(text[i + 1]) && char.IsAsciiDigit(text[i + 2]) && char.IsAsciiDigit(text[i + 3]))
                {
                    int value = int.Parse(text.AsSpan(i + 1, 3), NumberStyles.None, CultureInfo.InvariantCulture);
                    if (value > 255)
                    {
                        error = $"domain name '{text}' has escape \\{text.AsSpan(i + 1, 3)} above 255";
                        return false;
                    }

                    utf8[0] = (byte)value;
                    written = 1;
                    i += 4;
                }
                else if (char.IsAsciiDigit(text[i + 1]))
                {
                    error = $"domain name '{text}' has an incomplete \\DDD escape at position {i} (three decimal digits needed)";
                    return false;
                }
                else if (!EncodeRune(text, i + 1, utf8, out written, out int consumed))
                {
                    error = $"domain name '{text}' has an unpaired surrogate at position {i + 1}";
                    return false;
                }
                else
                {
                    i += 1 + consumed;
                }
            }
            else if (!EncodeRune(text, i, utf8, out written, out int consumed))
            {
                error = $"domain name '{text}' has an unpaired surrogate at position {i}";
                return false;
            }
            else
            {
                i += consumed;
            }

            if (position + written > MaxLength)
            {
                error = $"domain name '{text}' is longer than {MaxLength} bytes in wire form (RFC 1035 §2.3.4)";
                return false;
            }

            utf8[..written].CopyTo(wire[position..]);
            position += written;
        }

        if (position > labelStart + 1)
        {
            // The text did not end with a dot: close the last label.
            if (!CloseLabel(wire, labelStart, position, text, out error))
            {
                return false;
            }

            labelStart = position;
            position++;
        }

        wire[labelStart] = 0;
        if (labelStart + 1 > MaxLength)
        {
            error = $"domain name '{text}' is longer than {MaxLength} bytes in wire form (RFC 1035 §2.3.4)";
            return false;
        }

        name = new DnsName(wire[..(labelStart + 1)].ToArray());
        error = null;
        return true;
    }

    /// <summary>
    /// Presentation text with RFC 6763 §4.3 / RFC 1035 §5.1 escapes: "\." and "\\" inside labels,
    /// "\DDD" for control characters and bytes that are not valid UTF-8; other characters as they
    /// are (spaces, punctuation and non-ASCII letters included). No final dot; the root is ".".
    /// Lossless: <see cref="Parse"/> of the result equals this name byte for byte.
    /// </summary>
    public override string ToString()
    {
        if (IsRoot)
        {
            return ".";
        }

        var text = new StringBuilder(_wire.Length + 8);
        for (int i = 0; i < LabelCount; i++)
        {
            if (i > 0)
            {
                text.Append('.');
            }

            AppendEscapedLabel(text, GetLabelBytes(i));
        }

        return text.ToString();
    }

    /// <summary>One label in escaped presentation form (see <see cref="ToString"/>).</summary>
    public static string EscapeLabel(ReadOnlySpan<byte> label)
    {
        var text = new StringBuilder(label.Length + 4);
        AppendEscapedLabel(text, label);
        return text.ToString();
    }

    public bool Equals(DnsName? other) =>
        other is not null && _wire.Length == other._wire.Length && AsciiEqualsIgnoreCase(_wire, other._wire);

    public override bool Equals(object? obj) => Equals(obj as DnsName);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (byte b in _wire)
        {
            hash.Add(ToLowerAscii(b));
        }

        return hash.ToHashCode();
    }

    public static bool operator ==(DnsName? left, DnsName? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(DnsName? left, DnsName? right) => !(left == right);

    /// <summary>Wraps a wire form the reader has already checked (labels ≤ 63, total ≤ 255, ends with 0). Owned: the array is kept.</summary>
    internal static DnsName FromCheckedWire(byte[] wire) => new(wire);

    internal static bool AsciiEqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i] && ToLowerAscii(a[i]) != ToLowerAscii(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static byte ToLowerAscii(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;

    private static string? DescribeLabelLength(string label, int length) => length switch
    {
        0 => "a domain name label is empty (only the root label may be)",
        > MaxLabelLength => $"label '{label}' is {length} bytes in UTF-8; a DNS label holds at most {MaxLabelLength} (RFC 1035 §2.3.4)",
        _ => null,
    };

    private static bool CloseLabel(Span<byte> wire, int labelStart, int position, string text, [NotNullWhen(false)] out string? error)
    {
        int length = position - labelStart - 1;
        if (length == 0)
        {
            error = $"domain name '{text}' has an empty label (two dots in a row, or a leading dot)";
            return false;
        }

        if (length > MaxLabelLength)
        {
            error = $"domain name '{text}' has a label of {length} bytes; a DNS label holds at most {MaxLabelLength} (RFC 1035 §2.3.4)";
            return false;
        }

        wire[labelStart] = (byte)length;
        error = null;
        return true;
    }

    private static bool EncodeRune(string text, int index, Span<byte> utf8, out int written, out int consumed)
    {
        written = 0;
        if (Rune.DecodeFromUtf16(text.AsSpan(index), out Rune rune, out consumed) != OperationStatus.Done)
        {
            return false;
        }

        written = rune.EncodeToUtf8(utf8);
        return true;
    }

    private static void AppendEscapedLabel(StringBuilder text, ReadOnlySpan<byte> label)
    {
        while (!label.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(label, out Rune rune, out int consumed) != OperationStatus.Done)
            {
                AppendDecimalEscape(text, label[0]);
                label = label[1..];
                continue;
            }

            if (rune.Value is '.' or '\\')
            {
                text.Append('\\').Append((char)rune.Value);
            }
            else if (rune.Value < 0x20 || rune.Value == 0x7F)
            {
                AppendDecimalEscape(text, (byte)rune.Value);
            }
            else
            {
                text.Append(rune.ToString());
            }

            label = label[consumed..];
        }
    }

    private static void AppendDecimalEscape(StringBuilder text, byte value) =>
        text.Append('\\').Append(value.ToString("D3", CultureInfo.InvariantCulture));

    private static byte[] ComputeLabelOffsets(byte[] wire)
    {
        int count = 0;
        for (int p = 0; wire[p] != 0; p += 1 + wire[p])
        {
            count++;
        }

        byte[] offsets = new byte[count];
        for (int p = 0, i = 0; wire[p] != 0; p += 1 + wire[p])
        {
            offsets[i++] = (byte)p;
        }

        return offsets;
    }
}
