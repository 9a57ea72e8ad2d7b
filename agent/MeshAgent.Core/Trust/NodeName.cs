namespace MeshAgent.Core.Trust;

/// <summary>
/// Node names: 1–63 characters of <c>[a-z0-9-]</c>, not starting or ending with '-' — a DNS label
/// (RFC 1123 §2.1) in lower case, so a name can later become <c>name.mesh</c> and never needs escaping.
/// </summary>
public static class NodeName
{
    public const int MaxLength = 63;

    public static bool IsValid(ReadOnlySpan<char> name) => Describe(name) is null;

    /// <summary>Null when valid; otherwise what is wrong, for an error message.</summary>
    public static string? Describe(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > MaxLength)
        {
            return $"a node name has 1 to {MaxLength} characters; this one has {name.Length}";
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                return $"node name '{name}' has '{c}': use only a-z, 0-9 and '-'";
            }
        }

        return name[0] == '-' || name[^1] == '-' ? $"node name '{name}' must not start or end with '-'" : null;
    }
}
