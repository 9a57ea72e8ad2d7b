using System.Text;
using MeshAgent.Core.Dns;

namespace MeshAgent.Engine.Discovery;

/// <summary>
/// Instance and host labels: length limits in UTF-8 bytes, and the names tried after a conflict
/// (RFC 6762 §9; RFC 6763 §4.1 leaves the form to the implementation: "Name (2)" for instances,
/// as macOS and avahi-publish-style tools show them, and "host-2" for host names, which must stay
/// valid host labels).
/// </summary>
public static class MdnsNames
{
    /// <summary>
    /// <paramref name="name"/> cut to at most 63 bytes of UTF-8 at a character boundary, so it is
    /// one DNS label (RFC 6763 §4.1.1: instance names are UTF-8, up to 63 bytes).
    /// </summary>
    public static string TruncateLabel(string name, int maxBytes = DnsName.MaxLabelLength)
    {
        if (Encoding.UTF8.GetByteCount(name) <= maxBytes)
        {
            return name;
        }

        var text = new StringBuilder();
        int bytes = 0;
        foreach (Rune rune in name.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > maxBytes)
            {
                break;
            }

            bytes += rune.Utf8SequenceLength;
            text.Append(rune.ToString());
        }

        return text.ToString();
    }

    /// <summary>The instance label to try after <paramref name="attempt"/> - 1 conflicts: "base", then "base (2)", "base (3)", …</summary>
    public static string InstanceLabel(string baseName, int attempt)
    {
        if (attempt <= 1)
        {
            return TruncateLabel(baseName);
        }

        string suffix = $" ({attempt})";
        return TruncateLabel(baseName, DnsName.MaxLabelLength - suffix.Length) + suffix;
    }

    /// <summary>The host label to try after <paramref name="attempt"/> - 1 conflicts: "base", then "base-2", "base-3", …</summary>
    public static string HostLabel(string baseName, int attempt)
    {
        if (attempt <= 1)
        {
            return TruncateLabel(baseName);
        }

        string suffix = $"-{attempt}";
        return TruncateLabel(baseName, DnsName.MaxLabelLength - suffix.Length) + suffix;
    }

    /// <summary>
    /// A host label from a machine name: lower-case letters, digits and '-' (RFC 1123 §2.1), the
    /// first label only (a machine name may be fully qualified), at most 63 bytes; "meshagent"
    /// when nothing usable is left.
    /// </summary>
    public static string HostLabelFromMachineName(string machineName)
    {
        var text = new StringBuilder();
        foreach (char c in machineName.Split('.')[0])
        {
            char lower = char.ToLowerInvariant(c);
            text.Append(char.IsAsciiLetterLower(lower) || char.IsAsciiDigit(lower) ? lower : '-');
        }

        string label = TruncateLabel(text.ToString().Trim('-')).Trim('-');
        return label.Length == 0 ? "meshagent" : label;
    }
}
