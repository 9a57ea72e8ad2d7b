using System.Buffers;
using System.Buffers.Text;

namespace MeshAgent.Core.Trust;

/// <summary>
/// Text form of trust keys: a visible prefix naming the kind and format version (so a network key is never
/// pasted where a node key belongs, and a secret is recognisable at a glance), then the 32 bytes in
/// unpadded base64url (RFC 4648 §5), which survives URLs, shells and file names. 43 characters, canonical:
/// the two unused low bits of the last character are zero, so each key has exactly one text form.
/// </summary>
internal static class KeyText
{
    public const int KeyLength = 32;
    public const int Base64UrlLength = 43;

    public static string Encode(string prefix, ReadOnlySpan<byte> key) => prefix + Base64Url.EncodeToString(key);

    /// <summary>Never throws. <paramref name="key"/> receives exactly 32 bytes on success.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, string prefix, Span<byte> key)
    {
        if (!text.StartsWith(prefix, StringComparison.Ordinal) || text.Length != prefix.Length + Base64UrlLength)
        {
            return false;
        }

        ReadOnlySpan<char> payload = text[prefix.Length..];
        Span<byte> decoded = stackalloc byte[KeyLength + 2];
        // DecodeFromChars reports bad input by status; TryDecodeFromChars throws FormatException on it.
        if (Base64Url.DecodeFromChars(payload, decoded, out int consumed, out int written) != OperationStatus.Done
            || consumed != Base64UrlLength || written != KeyLength)
        {
            return false;
        }

        // The decoder accepts non-zero unused bits; re-encoding exposes them.
        Span<char> canonical = stackalloc char[Base64UrlLength];
        if (!Base64Url.TryEncodeToChars(decoded[..KeyLength], canonical, out int charsWritten)
            || charsWritten != Base64UrlLength || !canonical.SequenceEqual(payload))
        {
            return false;
        }

        decoded[..KeyLength].CopyTo(key);
        return true;
    }

    /// <summary>Why a key text is not valid, for error messages; never echoes the text (it may be a secret).</summary>
    public static string DescribeInvalid(ReadOnlySpan<char> text, string prefix, string what)
    {
        if (!text.StartsWith(prefix, StringComparison.Ordinal))
        {
            return $"a {what} starts with '{prefix}'";
        }

        return text.Length != prefix.Length + Base64UrlLength
            ? $"a {what} is '{prefix}' followed by {Base64UrlLength} base64url characters; this one has {text.Length - prefix.Length}"
            : $"a {what} is '{prefix}' followed by {Base64UrlLength} base64url characters (A-Z a-z 0-9 - _); these are not valid base64url of 32 bytes";
    }
}
