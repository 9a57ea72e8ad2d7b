using System.CommandLine;
using System.Security.Cryptography;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Commands;

/// <summary>
/// <c>meshagent genkey</c> and <c>meshagent pubkey</c>: byte-for-byte compatible with <c>wg genkey</c> and
/// <c>wg pubkey</c>, so keys move freely between this agent and stock WireGuard tools. A key is printed as the
/// standard base64 encoding of its 32 raw bytes (44 characters) followed by a newline.
/// </summary>
public static class KeyCommands
{
    /// <summary>Standard base64 of 32 bytes: 43 significant characters and one '=' of padding.</summary>
    public const int Base64KeyLength = 44;

    // Enough for a key plus generous whitespace; anything longer is certainly not a key.
    private const int MaxInputLength = 4096;

    public static Command[] Create() => [CreateGenKey(), CreatePubKey()];

    private static Command CreateGenKey()
    {
        var command = new Command("genkey", "Print a new random X25519 private key in base64, like 'wg genkey'.");
        command.SetAction(parseResult => Run("genkey", parseResult, () => GenKey(parseResult.InvocationConfiguration.Output)));
        return command;
    }

    private static Command CreatePubKey()
    {
        var command = new Command(
            "pubkey",
            "Read a base64 private key from standard input and print its public key in base64, like 'wg pubkey'.");
        command.SetAction(parseResult => Run(
            "pubkey",
            parseResult,
            () => PubKey(Console.In, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error)));
        return command;
    }

    /// <summary>Writes a fresh clamped private key (see <see cref="X25519.GeneratePrivateKey"/>) to <paramref name="output"/>.</summary>
    public static int GenKey(TextWriter output)
    {
        Span<byte> privateKey = stackalloc byte[X25519.KeySize];
        try
        {
            X25519.GeneratePrivateKey(privateKey);
            WriteKey(output, privateKey);
            return ExitCodes.Success;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }
    }

    /// <summary>
    /// Reads one base64 private key from <paramref name="input"/> (surrounding whitespace ignored) and writes its
    /// public key to <paramref name="output"/>. Malformed input gets one line on <paramref name="error"/> and
    /// <see cref="ExitCodes.InvalidInput"/>; the input itself is never echoed, since it is meant to be a secret.
    /// </summary>
    public static int PubKey(TextReader input, TextWriter output, TextWriter error)
    {
        char[] text = new char[MaxInputLength + 1];
        Span<byte> privateKey = stackalloc byte[X25519.KeySize];
        Span<byte> publicKey = stackalloc byte[X25519.KeySize];
        try
        {
            int read = input.ReadBlock(text, 0, text.Length);
            ReadOnlySpan<char> candidate = text.AsSpan(0, read).Trim();
            if (read > MaxInputLength || !TryParseKey(candidate, privateKey))
            {
                error.WriteLine(
                    "pubkey: the input is not a base64 WireGuard private key (expected 44 characters of base64 encoding 32 bytes, " +
                    $"got {DescribeInvalidKey(candidate, read > MaxInputLength)}) — pipe the output of 'meshagent genkey' or 'wg genkey'");
                return ExitCodes.InvalidInput;
            }

            X25519.DerivePublicKey(privateKey, publicKey);
            WriteKey(output, publicKey);
            return ExitCodes.Success;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
            Array.Clear(text);
        }
    }

    /// <summary>
    /// Accepts exactly what <c>wg</c> accepts: 44 characters of canonical standard base64 for 32 bytes
    /// (wg's key_from_base64 also rejects non-zero padding bits, which .NET's decoder would ignore).
    /// </summary>
    public static bool TryParseKey(ReadOnlySpan<char> base64, Span<byte> key)
    {
        if (key.Length != X25519.KeySize)
        {
            throw new ArgumentException($"key must be exactly {X25519.KeySize} bytes long (it is {key.Length}).", nameof(key));
        }

        if (base64.Length != Base64KeyLength
            || !Convert.TryFromBase64Chars(base64, key, out int written)
            || written != X25519.KeySize)
        {
            key.Clear();
            return false;
        }

        Span<char> canonical = stackalloc char[Base64KeyLength];
        if (!Convert.TryToBase64Chars(key, canonical, out _) || !canonical.SequenceEqual(base64))
        {
            key.Clear();
            return false;
        }

        return true;
    }

    private static string DescribeInvalidKey(ReadOnlySpan<char> candidate, bool tooLong)
    {
        if (tooLong)
        {
            return $"more than {MaxInputLength} characters";
        }

        if (candidate.IsEmpty)
        {
            return "empty input";
        }

        return candidate.Length == Base64KeyLength
            ? "44 characters that are not canonical base64 of 32 bytes"
            : $"{candidate.Length} characters";
    }

    private static void WriteKey(TextWriter output, ReadOnlySpan<byte> key)
    {
        Span<char> text = stackalloc char[Base64KeyLength];
        Convert.TryToBase64Chars(key, text, out _);
        output.Write(text);
        output.Write('\n');
        output.Flush();
    }

    /// <summary>Turns a missing libsodium into one actionable line instead of a stack trace.</summary>
    private static int Run(string commandName, ParseResult parseResult, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (DllNotFoundException e)
        {
            parseResult.InvocationConfiguration.Error.WriteLine($"{commandName}: {e.Message}");
            return ExitCodes.MissingDependency;
        }
    }
}
