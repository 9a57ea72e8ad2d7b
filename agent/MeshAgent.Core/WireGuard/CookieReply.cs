using System.Buffers.Binary;

namespace MeshAgent.Core.WireGuard;

/// <summary>
/// Read-only view of a cookie reply (message type 3), whitepaper §5.4.7;
/// wireguard-go noise-protocol.go <c>MessageCookieReply</c>.
/// <code>
/// +---------------+-----------------------------------------------+
/// |  type = 3     |              reserved (3 zero bytes)          |   0
/// +---------------+-----------------------------------------------+
/// |     receiver index (uint32 LE) = sender index of the message  |   4
/// |     that triggered the reply                                  |
/// +---------------------------------------------------------------+
/// |     nonce (24, random; XChaCha20-Poly1305)                    |   8
/// +---------------------------------------------------------------+
/// |     encrypted cookie (16 + 16 tag), AD = the triggering mac1  |  32
/// +---------------------------------------------------------------+  64
/// </code>
/// Borrowed: the view is valid only while the packet buffer it was read from is.
/// </summary>
public readonly ref struct CookieReply
{
    public const int Size = 64;
    public const int ReceiverIndexOffset = 4;
    public const int NonceOffset = 8;
    public const int NonceSize = 24;
    public const int EncryptedCookieOffset = 32;
    public const int EncryptedCookieSize = 16 + 16;

    private readonly ReadOnlySpan<byte> _packet;

    private CookieReply(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>
    /// Accepts exactly <see cref="Size"/> bytes starting with the type-3 field; anything else gives
    /// false. Never throws.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out CookieReply message)
    {
        if (packet.Length != Size || !WireGuardMessage.HasTypeField(packet, MessageType.CookieReply))
        {
            message = default;
            return false;
        }

        message = new CookieReply(packet);
        return true;
    }

    /// <summary>The whole message (64 bytes).</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    public uint ReceiverIndex => BinaryPrimitives.ReadUInt32LittleEndian(_packet[ReceiverIndexOffset..]);

    public ReadOnlySpan<byte> Nonce => _packet.Slice(NonceOffset, NonceSize);

    public ReadOnlySpan<byte> EncryptedCookie => _packet.Slice(EncryptedCookieOffset, EncryptedCookieSize);
}

/// <summary>
/// Writable view over a cookie reply being built in place: fill <see cref="Nonce"/> from the
/// random source, then seal the cookie into <see cref="EncryptedCookie"/>. Offsets: <see cref="CookieReply"/>.
/// Borrowed: valid while the destination buffer is.
/// </summary>
public readonly ref struct CookieReplyWriter
{
    private readonly Span<byte> _packet;

    private CookieReplyWriter(Span<byte> packet) => _packet = packet;

    /// <summary>
    /// Takes the first <see cref="CookieReply.Size"/> bytes of <paramref name="destination"/>,
    /// writes the type field and zeroes every other byte.
    /// </summary>
    /// <exception cref="ArgumentException">The destination is shorter than 64 bytes (a caller bug).</exception>
    public static CookieReplyWriter Create(Span<byte> destination)
    {
        if (destination.Length < CookieReply.Size)
        {
            throw new ArgumentException(
                $"A cookie reply needs {CookieReply.Size} bytes but the destination has {destination.Length}; pass a larger buffer.",
                nameof(destination));
        }

        Span<byte> packet = destination[..CookieReply.Size];
        packet.Clear();
        WireGuardMessage.WriteTypeField(packet, MessageType.CookieReply);
        return new CookieReplyWriter(packet);
    }

    /// <summary>The whole message (64 bytes).</summary>
    public Span<byte> Packet => _packet;

    public uint ReceiverIndex
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_packet[CookieReply.ReceiverIndexOffset..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_packet[CookieReply.ReceiverIndexOffset..], value);
    }

    public Span<byte> Nonce => _packet.Slice(CookieReply.NonceOffset, CookieReply.NonceSize);

    public Span<byte> EncryptedCookie => _packet.Slice(CookieReply.EncryptedCookieOffset, CookieReply.EncryptedCookieSize);
}
