using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.Invitations;

/// <summary>
/// A join token: what `meshagent invite` prints and `meshagent join` consumes (DESIGN §3). One
/// line, "mesh1:" followed by base32 (see <see cref="TokenText"/> for why base32 and why CRCs).
/// Immutable; equal tokens have equal text.
/// </summary>
/// <remarks>
/// Binary layout (all integers big-endian), then base32 of all of it after the prefix:
/// <code>
/// offset  size  field
///      0     1  layout version = 1
///      1     1  total length L in bytes, this header and the trailing CRC included (L ≤ 245)
///      2     1  header check: CRC-8/SMBUS of bytes 0..1
///      3    32  network root public key (Ed25519)
///     35    32  inviter identity public key (Ed25519; its X25519 WireGuard key is derived from it)
///     67    16  one-time secret
///     83     8  expiry, Unix seconds
///     91   1+n  network name: n (1..32), UTF-8
///      …   1+m  suggested node name: m (0..32; 0 = none), UTF-8
///      …     1  endpoint count (0..8), then each endpoint as an address (below)
///      …     1  relay count (0..4), then each relay as an address (below)
///    L−4     4  CRC-32C of bytes 0..L−5
///
/// address: tag 1 = IPv4:  4 address bytes, port (2)
///          tag 2 = IPv6: 16 address bytes, port (2)
///          tag 3 = DNS name: length (1..253), lowercase ASCII, port (2)   (relays only)
/// </code>
/// The header lets a reader tell a truncated token (fewer characters than L needs) from a damaged
/// one, and it is checked on its own so a damaged length is never mistaken for a truncation.
/// The secret is 16 bytes (128 bits): it is never the only key — the handshake also runs X25519 —
/// and the one attack it must resist, guessing it offline from a recorded challenge (someone who
/// knows the token id can ask the inviter for one), costs 2¹²⁸ tries, the security level of X25519
/// itself; 32 bytes would add 26 characters for nothing. The token id is derived from the secret
/// (<see cref="JoinTokenId.FromSecret"/>) rather than carried. Realistic tokens are about 330
/// characters; the constructor refuses contents that would exceed <see cref="MaxLength"/>.
/// </remarks>
public sealed class JoinToken : IEquatable<JoinToken>
{
    public const string Prefix = "mesh1:";
    public const byte LayoutVersion = 1;

    /// <summary>The budget: under 400 characters, prefix included.</summary>
    public const int MaxLength = 399;

    public const int SecretSize = 16;
    public const int KeySize = 32;
    public const int MaxNameBytes = 32;
    public const int MaxEndpoints = 8;
    public const int MaxRelays = 4;

    private const int VersionOffset = 0;
    private const int LengthOffset = 1;
    private const int HeaderCheckOffset = 2;
    private const int HeaderSize = 3;
    private const int RootKeyOffset = 3;
    private const int InviterKeyOffset = RootKeyOffset + KeySize;
    private const int SecretOffset = InviterKeyOffset + KeySize;
    private const int ExpiryOffset = SecretOffset + SecretSize;
    private const int VariableOffset = ExpiryOffset + 8;
    private const int ChecksumSize = 4;
    private const byte TagIPv4 = 1;
    private const byte TagIPv6 = 2;
    private const byte TagDnsName = 3;

    /// <summary>The largest binary token whose text fits <see cref="MaxLength"/>.</summary>
    private const int MaxBinaryLength = (MaxLength - 6) * 5 / 8;

    /// <summary>Input beyond this is refused before any work: generous room for whitespace a chat client adds.</summary>
    private const int MaxInputLength = 65536;

    /// <summary>Expiry bounds: DateTimeOffset's range, so parsing never meets an unrepresentable date.</summary>
    private const long MaxUnixSeconds = 253402300799;

    private readonly Contents _contents;
    private readonly string _text;

    /// <summary>
    /// Builds a token. Throws <see cref="ArgumentException"/> naming the problem: a name that is
    /// empty, too long or has control characters, keys of the wrong size, a secret that is not
    /// 16 bytes, no endpoint and no relay, too many of either, a port of 0, an expiry outside
    /// 1970..9999, or contents that would make the text longer than <see cref="MaxLength"/>.
    /// Endpoints are normalised: IPv4-mapped IPv6 becomes IPv4; IPv6 scope ids are dropped (an
    /// interface index means nothing on another machine). The expiry is kept to the second.
    /// </summary>
    public JoinToken(
        string networkName,
        ReadOnlySpan<byte> networkRootPublicKey,
        ReadOnlySpan<byte> inviterPublicKey,
        IEnumerable<IPEndPoint> endpoints,
        IEnumerable<RelayAddress> relays,
        ReadOnlySpan<byte> secret,
        DateTimeOffset expiresAt,
        string? suggestedNodeName = null)
        : this(Prepare(networkName, networkRootPublicKey, inviterPublicKey, endpoints, relays, secret, expiresAt, suggestedNodeName))
    {
    }

    private JoinToken((Contents Contents, string Text) prepared)
    {
        _contents = prepared.Contents;
        _text = prepared.Text;
        Id = JoinTokenId.FromSecret(_contents.Secret);
    }

    public string NetworkName => _contents.NetworkName;

    public ReadOnlySpan<byte> NetworkRootPublicKey => _contents.RootKey;

    /// <summary>The inviter's Ed25519 identity key; the join handshake targets the X25519 key derived from it.</summary>
    public ReadOnlySpan<byte> InviterPublicKey => _contents.InviterKey;

    /// <summary>Where the inviter listens (UDP), most preferred first. A fresh copy on each call (IPEndPoint is mutable).</summary>
    public IReadOnlyList<IPEndPoint> Endpoints => Array.ConvertAll(_contents.Endpoints, e => new IPEndPoint(new IPAddress(e.Address.GetAddressBytes()), e.Port));

    /// <summary>Relays that forward to the inviter when none of <see cref="Endpoints"/> answers (inviter behind NAT).</summary>
    public IReadOnlyList<RelayAddress> Relays => Array.AsReadOnly(_contents.Relays);

    /// <summary>The one-time secret. Only the joiner and the inviter may ever see it; it never crosses the wire.</summary>
    public ReadOnlySpan<byte> Secret => _contents.Secret;

    public JoinTokenId Id { get; }

    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeSeconds(_contents.ExpiresUnixSeconds);

    /// <summary>The node name the admin suggested with `invite --name`, or null.</summary>
    public string? SuggestedNodeName => _contents.SuggestedNodeName;

    /// <summary>16 random bytes from the system CSPRNG, for a new invitation.</summary>
    public static byte[] GenerateSecret()
    {
        var secret = new byte[SecretSize];
        SecureRandom.Fill(secret);
        return secret;
    }

    /// <summary>The token text: "mesh1:" and lowercase base32, one line.</summary>
    public override string ToString() => _text;

    /// <summary>
    /// The same token in uppercase ("MESH1:…"), which parses identically and lets a QR code use
    /// alphanumeric mode.
    /// </summary>
    public string ToQrText() => _text.ToUpperInvariant();

    public bool IsExpired(DateTimeOffset now) => now >= ExpiresAt;

    public bool Equals(JoinToken? other) => other is not null && string.Equals(_text, other._text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as JoinToken);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_text);

    /// <summary>
    /// Parses a token and checks its format (not its expiry: see the overload with a time). Spaces,
    /// line breaks and zero-width characters anywhere are ignored (chat clients and terminals add
    /// them when wrapping); letters may be in either case. Never throws: every problem is an
    /// <paramref name="error"/> with a message for the person holding the token.
    /// </summary>
    public static bool TryParse(string? text, out JoinToken? token, out JoinTokenError error)
    {
        token = null;
        error = Parse(text, out Contents? contents, out string canonical);
        if (error.IsError)
        {
            return false;
        }

        token = new JoinToken((contents!, canonical));
        return true;
    }

    /// <summary>As <see cref="TryParse(string?, out JoinToken?, out JoinTokenError)"/>, and also refuses a token that has expired at <paramref name="now"/>.</summary>
    public static bool TryParse(string? text, DateTimeOffset now, out JoinToken? token, out JoinTokenError error)
    {
        if (!TryParse(text, out token, out error))
        {
            return false;
        }

        if (token!.IsExpired(now))
        {
            error = JoinTokenError.Expired(token.ExpiresAt, now);
            token = null;
            return false;
        }

        return true;
    }

    private static (Contents, string) Prepare(
        string networkName,
        ReadOnlySpan<byte> root,
        ReadOnlySpan<byte> inviter,
        IEnumerable<IPEndPoint> endpoints,
        IEnumerable<RelayAddress> relays,
        ReadOnlySpan<byte> secret,
        DateTimeOffset expiresAt,
        string? suggestedNodeName)
    {
        ArgumentNullException.ThrowIfNull(networkName);
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(relays);
        if (root.Length != KeySize || inviter.Length != KeySize)
        {
            throw new ArgumentException($"the network root key and the inviter key are {KeySize} bytes each (got {root.Length} and {inviter.Length})");
        }

        if (secret.Length != SecretSize)
        {
            throw new ArgumentException($"a join token secret is {SecretSize} bytes, got {secret.Length}", nameof(secret));
        }

        var contents = new Contents(
            networkName,
            root.ToArray(),
            inviter.ToArray(),
            endpoints.Select(Normalize).ToArray(),
            relays.ToArray(),
            secret.ToArray(),
            expiresAt.ToUnixTimeSeconds(),
            string.IsNullOrEmpty(suggestedNodeName) ? null : suggestedNodeName);

        string? problem = Validate(contents);
        if (problem is not null)
        {
            throw new ArgumentException($"cannot make a join token: {problem}");
        }

        byte[] binary = Encode(contents);
        int length = Prefix.Length + TokenText.EncodedLength(binary.Length);
        if (binary.Length > MaxBinaryLength)
        {
            throw new ArgumentException($"the join token would be {length} characters long (at most {MaxLength}): pass fewer endpoints or relays, or shorter names");
        }

        var chars = new char[length];
        Prefix.CopyTo(chars);
        TokenText.Encode(binary, chars.AsSpan(Prefix.Length));
        CryptographicOperations.ZeroMemory(binary);
        return (contents, new string(chars));
    }

    private static IPEndPoint Normalize(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        IPAddress address = endpoint.Address;
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        else if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            address = new IPAddress(address.GetAddressBytes());
        }

        return new IPEndPoint(address, endpoint.Port);
    }

    /// <summary>Rules shared by the constructor and the parser, so a parsed token is always one the constructor accepts.</summary>
    private static string? Validate(Contents c)
    {
        string? problem = NameRules.Check("the network name", c.NetworkName, MaxNameBytes);
        if (problem is null && c.SuggestedNodeName is not null)
        {
            problem = NameRules.Check("the suggested node name", c.SuggestedNodeName, MaxNameBytes);
        }

        if (problem is not null)
        {
            return problem;
        }

        if (c.Endpoints.Length + c.Relays.Length == 0)
        {
            return "it needs at least one endpoint or relay, or the joiner cannot reach the inviter";
        }

        if (c.Endpoints.Length > MaxEndpoints || c.Relays.Length > MaxRelays)
        {
            return $"{c.Endpoints.Length} endpoints and {c.Relays.Length} relays (at most {MaxEndpoints} and {MaxRelays})";
        }

        foreach (IPEndPoint endpoint in c.Endpoints)
        {
            if (endpoint.Port == 0 || endpoint.Address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                return $"endpoint {endpoint} is not an IPv4 or IPv6 address with a port of 1..65535";
            }
        }

        foreach (RelayAddress relay in c.Relays)
        {
            if (relay.Host is null)
            {
                return "a relay address is empty (default)";
            }
        }

        if (c.ExpiresUnixSeconds is < 1 or > MaxUnixSeconds)
        {
            return $"expiry {c.ExpiresUnixSeconds} (Unix seconds) is outside 1970..9999";
        }

        return null;
    }

    private static byte[] Encode(Contents c)
    {
        // Room for the largest contents Validate lets through (4 relays with 253-character names);
        // the caller refuses anything over MaxBinaryLength afterwards.
        var buffer = new byte[2048];
        buffer[VersionOffset] = LayoutVersion;
        c.RootKey.CopyTo(buffer, RootKeyOffset);
        c.InviterKey.CopyTo(buffer, InviterKeyOffset);
        c.Secret.CopyTo(buffer, SecretOffset);
        BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(ExpiryOffset), c.ExpiresUnixSeconds);
        int offset = VariableOffset;
        offset = WriteName(buffer, offset, c.NetworkName);
        offset = WriteName(buffer, offset, c.SuggestedNodeName);
        buffer[offset++] = (byte)c.Endpoints.Length;
        foreach (IPEndPoint endpoint in c.Endpoints)
        {
            offset = WriteIp(buffer, offset, endpoint.Address, endpoint.Port);
        }

        buffer[offset++] = (byte)c.Relays.Length;
        foreach (RelayAddress relay in c.Relays)
        {
            if (relay.Address is IPAddress ip)
            {
                offset = WriteIp(buffer, offset, ip, relay.Port);
            }
            else
            {
                buffer[offset++] = TagDnsName;
                buffer[offset++] = (byte)relay.Host.Length;
                offset += Encoding.ASCII.GetBytes(relay.Host, buffer.AsSpan(offset));
                BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(offset), (ushort)relay.Port);
                offset += 2;
            }
        }

        int length = offset + ChecksumSize;
        byte[] binary = buffer.AsSpan(0, length).ToArray();
        CryptographicOperations.ZeroMemory(buffer);

        // A token too long for one length byte is refused by the caller; the byte is then moot.
        binary[LengthOffset] = (byte)Math.Min(length, byte.MaxValue);
        binary[HeaderCheckOffset] = TokenText.Crc8(binary.AsSpan(0, HeaderCheckOffset));
        BinaryPrimitives.WriteUInt32BigEndian(binary.AsSpan(length - ChecksumSize), TokenText.Crc32C(binary.AsSpan(0, length - ChecksumSize)));
        return binary;
    }

    private static int WriteName(byte[] buffer, int offset, string? name)
    {
        int length = name is null ? 0 : Encoding.UTF8.GetBytes(name, buffer.AsSpan(offset + 1));
        buffer[offset] = (byte)length;
        return offset + 1 + length;
    }

    private static int WriteIp(byte[] buffer, int offset, IPAddress address, int port)
    {
        bool v4 = address.AddressFamily == AddressFamily.InterNetwork;
        buffer[offset++] = v4 ? TagIPv4 : TagIPv6;
        address.TryWriteBytes(buffer.AsSpan(offset), out int written);
        offset += written;
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(offset), (ushort)port);
        return offset + 2;
    }

    /// <summary>The parser. Order matters: the header decides truncated vs damaged before any CRC-32C verdict.</summary>
    private static JoinTokenError Parse(string? text, out Contents? contents, out string canonical)
    {
        contents = null;
        canonical = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            return JoinTokenError.NotAToken();
        }

        if (text.Length > MaxInputLength)
        {
            return JoinTokenError.Damaged($"it is {text.Length} characters long; a join token has at most {MaxLength}");
        }

        // Keep only meaningful characters, remembering where each stood for error messages.
        var kept = new List<char>(text.Length);
        var position = new List<int>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (!IsIgnorable(text[i]))
            {
                kept.Add(text[i]);
                position.Add(i + 1);
            }
        }

        string cleaned = new(kept.ToArray());
        int got = cleaned.Length;
        if (!cleaned.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            // A piece of "mesh1:" is a copy that stopped very early.
            if (Prefix.StartsWith(cleaned, StringComparison.OrdinalIgnoreCase))
            {
                return JoinTokenError.Truncated(got, null);
            }

            int colon = cleaned.IndexOf(':');
            if (colon > 4 && cleaned.StartsWith("mesh", StringComparison.OrdinalIgnoreCase)
                && cleaned.AsSpan(4, colon - 4).IndexOfAnyExceptInRange('0', '9') < 0)
            {
                return JoinTokenError.UnsupportedVersion($"format {cleaned[..(colon + 1)].ToLowerInvariant()}");
            }

            return JoinTokenError.NotAToken();
        }

        ReadOnlySpan<char> body = cleaned.AsSpan(Prefix.Length);
        for (int i = 0; i < body.Length; i++)
        {
            if (TokenText.ValueOf(body[i]) < 0)
            {
                return JoinTokenError.Damaged($"character {Describe(body[i])} at position {position[Prefix.Length + i]} cannot occur in a join token");
            }
        }

        int headerChars = TokenText.EncodedLength(HeaderSize);
        if (body.Length < headerChars)
        {
            return JoinTokenError.Truncated(got, null);
        }

        Span<byte> header = stackalloc byte[HeaderSize + 1];
        TokenText.Decode(body[..headerChars], header);
        if (TokenText.Crc8(header[..HeaderCheckOffset]) != header[HeaderCheckOffset])
        {
            return JoinTokenError.Damaged("header checksum mismatch");
        }

        int length = header[LengthOffset];
        if (length < VariableOffset + 3 + ChecksumSize || length > MaxBinaryLength)
        {
            return JoinTokenError.Damaged($"impossible length {length}");
        }

        int expected = Prefix.Length + TokenText.EncodedLength(length);
        if (got < expected)
        {
            return JoinTokenError.Truncated(got, expected);
        }

        if (got > expected)
        {
            return JoinTokenError.Damaged(got - expected == 1 ? "one character too many" : $"{got - expected} characters too many");
        }

        byte[] binary = new byte[length];
        try
        {
            if (TokenText.Decode(body, binary) != 0)
            {
                return JoinTokenError.Damaged("the last character is wrong");
            }

            uint checksum = BinaryPrimitives.ReadUInt32BigEndian(binary.AsSpan(length - ChecksumSize));
            if (TokenText.Crc32C(binary.AsSpan(0, length - ChecksumSize)) != checksum)
            {
                return JoinTokenError.Damaged("checksum mismatch");
            }

            // The framing (header, length, trailing CRC-32C) is the same for every layout, so the layout
            // is judged only after the CRC-32C: a damaged header that passes its 8-bit check by chance
            // (1 in 256) must read as damaged, not as a token from a newer meshagent.
            if (header[VersionOffset] != LayoutVersion)
            {
                return JoinTokenError.UnsupportedVersion($"layout {header[VersionOffset]}");
            }

            string? problem = ReadContents(binary.AsSpan(0, length - ChecksumSize), out contents);
            if (problem is null)
            {
                problem = Validate(contents!);
            }

            if (problem is not null)
            {
                contents = null;
                return JoinTokenError.Damaged($"invalid content: {problem}");
            }

            canonical = cleaned.ToLowerInvariant();
            return JoinTokenError.None;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(binary);
        }
    }

    private static bool IsIgnorable(char c) => char.IsWhiteSpace(c) || c is '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF';

    private static string Describe(char c) => char.IsControl(c) || char.IsSurrogate(c) ? $"U+{(int)c:X4}" : $"'{c}'";

    /// <summary>Reads the fields after the CRCs passed. Null on success, else the reason (only a crafted or buggy token gets here).</summary>
    private static string? ReadContents(ReadOnlySpan<byte> data, out Contents? contents)
    {
        contents = null;
        int offset = VariableOffset;
        if (!TryReadName(data, ref offset, out string? networkName) || networkName is null)
        {
            return "bad network name";
        }

        if (!TryReadName(data, ref offset, out string? suggested))
        {
            return "bad suggested node name";
        }

        if (offset >= data.Length)
        {
            return "endpoint list missing";
        }

        var endpoints = new IPEndPoint[data[offset++]];
        for (int i = 0; i < endpoints.Length; i++)
        {
            if (!TryReadAddress(data, ref offset, out IPAddress? ip, out _, out int port) || ip is null)
            {
                return "bad endpoint";
            }

            endpoints[i] = new IPEndPoint(ip, port);
        }

        if (offset >= data.Length)
        {
            return "relay list missing";
        }

        var relays = new RelayAddress[data[offset++]];
        for (int i = 0; i < relays.Length; i++)
        {
            if (!TryReadAddress(data, ref offset, out IPAddress? ip, out string? host, out int port))
            {
                return "bad relay address";
            }

            if (ip is not null)
            {
                if (RelayAddress.Validate(ip.ToString(), port, out _) is not null)
                {
                    return "bad relay address";
                }

                relays[i] = new RelayAddress(ip, port);
                continue;
            }

            // Only the canonical (lowercase) spelling is accepted, so the text stays unique.
            if (RelayAddress.Validate(host, port, out string canonical) is not null || canonical != host)
            {
                return "bad relay host name";
            }

            relays[i] = new RelayAddress(host!, port);
        }

        if (offset != data.Length)
        {
            return $"{data.Length - offset} unexpected bytes after the relays";
        }

        contents = new Contents(
            networkName,
            data.Slice(RootKeyOffset, KeySize).ToArray(),
            data.Slice(InviterKeyOffset, KeySize).ToArray(),
            endpoints,
            relays,
            data.Slice(SecretOffset, SecretSize).ToArray(),
            BinaryPrimitives.ReadInt64BigEndian(data[ExpiryOffset..]),
            suggested);
        return null;
    }

    private static bool TryReadName(ReadOnlySpan<byte> data, ref int offset, out string? name)
    {
        name = null;
        if (offset >= data.Length || data.Length - offset - 1 < data[offset])
        {
            return false;
        }

        ReadOnlySpan<byte> bytes = data.Slice(offset + 1, data[offset]);
        if (!Utf8.IsValid(bytes))
        {
            return false;
        }

        offset += 1 + bytes.Length;
        name = bytes.IsEmpty ? null : Encoding.UTF8.GetString(bytes);
        return true;
    }

    private static bool TryReadAddress(ReadOnlySpan<byte> data, ref int offset, out IPAddress? ip, out string? host, out int port)
    {
        ip = null;
        host = null;
        port = 0;
        if (offset >= data.Length)
        {
            return false;
        }

        byte tag = data[offset];
        int addressLength = tag switch
        {
            TagIPv4 => 4,
            TagIPv6 => 16,
            TagDnsName when offset + 1 < data.Length => 1 + data[offset + 1],
            _ => -1,
        };
        if (addressLength < 0 || data.Length - offset - 1 < addressLength + 2)
        {
            return false;
        }

        ReadOnlySpan<byte> address = data.Slice(offset + 1, addressLength);
        if (tag == TagDnsName)
        {
            if (address.Length < 2 || address[1..].IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) >= 0)
            {
                return false;
            }

            host = Encoding.ASCII.GetString(address[1..]);
        }
        else
        {
            ip = new IPAddress(address);

            // Canonical form only: IPv4 travels as tag 1, never as IPv4-mapped IPv6.
            if (ip.IsIPv4MappedToIPv6)
            {
                return false;
            }
        }

        port = BinaryPrimitives.ReadUInt16BigEndian(data[(offset + 1 + addressLength)..]);
        offset += 1 + addressLength + 2;
        return true;
    }

    /// <summary>The decoded fields; arrays are owned by the token and never handed out mutable.</summary>
    private sealed record Contents(
        string NetworkName,
        byte[] RootKey,
        byte[] InviterKey,
        IPEndPoint[] Endpoints,
        RelayAddress[] Relays,
        byte[] Secret,
        long ExpiresUnixSeconds,
        string? SuggestedNodeName);
}
