using System.Text;

namespace MeshAgent.Core.Invitations;

/// <summary>
/// The rules shared by every name an invitation carries (network name, suggested and requested
/// node names): UTF-8, bounded in bytes because the token is size-limited, and free of control
/// characters because `meshagent join` prints them to a terminal.
/// </summary>
internal static class NameRules
{
    /// <summary>Null when <paramref name="value"/> is acceptable, else a reason naming <paramref name="what"/>.</summary>
    public static string? Check(string what, string value, int maxBytes)
    {
        if (value.Length == 0)
        {
            return $"{what} is empty";
        }

        int bytes = Encoding.UTF8.GetByteCount(value);
        if (bytes > maxBytes)
        {
            return $"{what} '{value}' is {bytes} bytes in UTF-8 (at most {maxBytes})";
        }

        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsControl(c))
            {
                return $"{what} contains a control character (U+{(int)c:X4})";
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }

            // A lone surrogate has no UTF-8 form: it would not survive the round trip.
            if (char.IsSurrogate(c))
            {
                return $"{what} contains an unpaired surrogate";
            }
        }

        return null;
    }
}
