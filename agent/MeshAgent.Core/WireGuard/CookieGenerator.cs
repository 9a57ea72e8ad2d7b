using System.Security.Cryptography;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.WireGuard;

/// <summary>
/// Sender side of WireGuard's DoS cookies (whitepaper §5.4.4, §5.4.7), one per peer:
/// fills mac1 (always) and mac2 (when a cookie younger than 120 s is held) of our handshake
/// messages, and consumes cookie replies from the peer. Thread-safe.
///
///   mac1 = MAC(HASH("mac1----" ‖ Spub_peer), msg[..^32])
///   mac2 = MAC(cookie, msg[..^16])
/// </summary>
public sealed class CookieGenerator
{
    public const int MacSize = 16;
    
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly byte[] _mac1Key = new byte[32];
    private readonly byte[] _cookieKey = new byte[32];
    private readonly byte[] _cookie = new byte[MacSize];
    private readonly byte[] _lastMac1 = new byte[MacSize];
    private bool _hasLastMac1;
    private long _cookieSetTimestamp;
    private bool _hasCookie;

    public CookieGenerator(ReadOnlySpan<byte> peerStaticPublicKey, TimeProvider time)
    {
        _time = time;
        Blake2s.Hash(WireGuardConstants.LabelMac1, peerStaticPublicKey, _mac1Key);
        Blake2s.Hash(WireGuardConstants.LabelCookie, peerStaticPublicKey, _cookieKey);
    }

    /// <summary>Writes mac1 and mac2 into the last 32 bytes of a handshake message.</summary>
    public void AddMacs(Span<byte> message)
    {
        int mac1Offset = message.Length - 2 * MacSize;
        int mac2Offset = message.Length - MacSize;
        Span<byte> mac1 = message.Slice(mac1Offset, MacSize);
        Span<byte> mac2 = message.Slice(mac2Offset, MacSize);
        Blake2s.Mac(_mac1Key, message[..mac1Offset], mac1);

        lock (_lock)
        {
            mac1.CopyTo(_lastMac1);
            _hasLastMac1 = true;
            if (_hasCookie && _time.GetElapsedTime(_cookieSetTimestamp) <= WireGuardConstants.CookieRefreshTime)
            {
                Blake2s.Mac(_cookie, message[..mac2Offset], mac2);
            }
            else
            {
                mac2.Clear();
            }
        }
    }

    /// <summary>
    /// Decrypts a cookie reply addressed to our last message (AD = that message's mac1).
    /// Returns false for a reply that does not authenticate. Never throws on network input.
    /// </summary>
    public bool TryConsumeReply(ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> encryptedCookie32)
    {
        if (nonce24.Length != XChaCha20Poly1305.NonceSize || encryptedCookie32.Length != MacSize + XChaCha20Poly1305.TagSize)
        {
            return false;
        }

        Span<byte> cookie = stackalloc byte[MacSize];
        lock (_lock)
        {
            if (!_hasLastMac1 || !XChaCha20Poly1305.TryOpen(_cookieKey, nonce24, encryptedCookie32, _lastMac1, cookie))
            {
                return false;
            }

            cookie.CopyTo(_cookie);
            _hasCookie = true;
            _cookieSetTimestamp = _time.GetTimestamp();
            _hasLastMac1 = false;
        }

        CryptographicOperations.ZeroMemory(cookie);
        return true;
    }
}
