using System.Numerics;

namespace MeshAgent.Core.Invitations;

/// <summary>
/// The text and checksum primitives of the join token: RFC 4648 §6 base32 in lowercase without
/// padding, CRC-8/SMBUS for the token header and CRC-32C for the whole token.
/// </summary>
/// <remarks>
/// Why base32 rather than base64url: the token is pasted into chats, e-mails and terminals and
/// scanned from QR codes. Base32 uses only a–z and 2–7: no "_" or "*" that Markdown chat turns
/// into italics, no "-" where mail clients and terminals break lines or double-click selection
/// stops, no "+" or "/" that URL handling rewrites, no 0/O or 1/l/I confusion when someone reads it
/// out, and it is case-insensitive, so autocorrect capitals do no harm and the uppercase form fits
/// the QR alphanumeric mode (5.5 bits a character instead of 8). It costs 20 % more characters
/// than base64, which the 400-character budget absorbs.
/// Why CRCs rather than a truncated hash: a CRC of degree n detects every burst error of at most
/// n bits, so each single wrong character (5 bits, spanning at most 2 bytes = a 16-bit burst) and
/// each swap of neighbouring characters is detected with certainty, not with probability 1 − 2⁻³².
/// The checksums guard against accidents only; what makes a token trustworthy is the channel an
/// admin sent it over, and the join handshake binds every key in it.
/// </remarks>
internal static class TokenText
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>Characters needed for <paramref name="byteCount"/> bytes: ⌈8n / 5⌉.</summary>
    public static int EncodedLength(int byteCount) => (byteCount * 8 + 4) / 5;

    /// <summary>5-bit value of a base32 character (either case), or −1.</summary>
    public static int ValueOf(char c) => c switch
    {
        >= 'a' and <= 'z' => c - 'a',
        >= 'A' and <= 'Z' => c - 'A',
        >= '2' and <= '7' => c - '2' + 26,
        _ => -1,
    };

    /// <summary>Appends the lowercase, unpadded base32 of <paramref name="data"/>; unused low bits of the last character are zero.</summary>
    public static void Encode(ReadOnlySpan<byte> data, Span<char> destination)
    {
        int buffer = 0;
        int bits = 0;
        int written = 0;
        foreach (byte b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                destination[written++] = Alphabet[(buffer >> bits) & 31];
            }
        }

        if (bits > 0)
        {
            destination[written] = Alphabet[(buffer << (5 - bits)) & 31];
        }
    }

    /// <summary>
    /// Decodes as many whole bytes as <paramref name="text"/> holds (⌊5n / 8⌋), MSB first. Every
    /// character must be valid (callers check first). Returns the value of the bits left over after
    /// the last whole byte, which canonical text has as zero.
    /// </summary>
    public static int Decode(ReadOnlySpan<char> text, Span<byte> destination)
    {
        int buffer = 0;
        int bits = 0;
        int written = 0;
        foreach (char c in text)
        {
            buffer = ((buffer << 5) | ValueOf(c)) & 0xFFFF;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                destination[written++] = (byte)(buffer >> bits);
            }
        }

        return buffer & ((1 << bits) - 1);
    }

    /// <summary>CRC-8/SMBUS: poly 0x07, init 0, MSB first (the bit order base32 uses), no final XOR.</summary>
    public static byte Crc8(ReadOnlySpan<byte> data)
    {
        int crc = 0;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++)
            {
                crc = (crc & 0x80) != 0 ? ((crc << 1) ^ 0x07) & 0xFF : (crc << 1) & 0xFF;
            }
        }

        return (byte)crc;
    }

    /// <summary>CRC-32C (Castagnoli, iSCSI): init and final XOR 0xFFFFFFFF, reflected; hardware-assisted by <see cref="BitOperations.Crc32C(uint, byte)"/>.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
