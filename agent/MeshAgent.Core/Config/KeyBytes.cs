using System.Runtime.CompilerServices;

namespace MeshAgent.Core.Config;

/// <summary>
/// 32 bytes stored inline, so the key types are plain values with no array to share or leak.
/// Curve25519 keys and WireGuard preshared keys are all 32 bytes (WireGuard paper section 5.4).
/// </summary>
[InlineArray(Length)]
internal struct KeyBytes
{
    public const int Length = 32;

    // Base64 of 32 bytes: 43 significant characters and one '=' of padding.
    public const int Base64Length = 44;

    private byte _element0;

    /// <summary>
    /// Decodes canonical standard base64 of exactly 32 bytes, as wg(8) key_from_base64 does:
    /// 44 characters ending in a single '=', and the two unused low bits of the last character zero
    /// (so every key has exactly one text form). Never throws.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> base64, out KeyBytes key)
    {
        key = default;
        if (base64.Length != Base64Length || base64[^1] != '=' || base64[^2] == '=')
        {
            return false;
        }

        Span<byte> bytes = key;
        if (!Convert.TryFromBase64Chars(base64, bytes, out int written) || written != Length)
        {
            key = default;
            return false;
        }

        // Convert accepts non-zero unused bits; re-encoding exposes them.
        Span<char> canonical = stackalloc char[Base64Length];
        if (!Convert.TryToBase64Chars(bytes, canonical, out _) || !canonical.SequenceEqual(base64))
        {
            key = default;
            return false;
        }

        return true;
    }

    public static string Encode(ReadOnlySpan<byte> key) => Convert.ToBase64String(key);

    /// <summary>Short reason for an invalid key text, for error messages. Does not echo the text.</summary>
    public static string DescribeInvalid(ReadOnlySpan<char> base64)
    {
        if (base64.Length != Base64Length)
        {
            return $"is not 44 characters of base64 (32 bytes); it has {base64.Length} characters";
        }

        return "is not 44 characters of base64 (32 bytes); it has 44 characters but is not valid standard base64 ending in a single '='";
    }
}
