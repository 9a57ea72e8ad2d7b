using System.Buffers.Binary;
using System.Security.Cryptography;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.WireGuard;

/// <summary>
/// Receiver side of WireGuard's DoS cookies (whitepaper §5.4.7), one per device: checks mac1
/// (always) and mac2 (under load) of incoming handshake messages and builds cookie replies.
/// The cookie binds the sender's IP and port: cookie = MAC(Rsecret, ip ‖ port), with Rsecret
/// re-randomised every 120 s. Thread-safe.
/// </summary>
public sealed class CookieChecker
{
    public const int MacSize = 16;
    
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly byte[] _mac1Key = new byte[32];
    private readonly byte[] _cookieKey = new byte[32];
    private readonly byte[] _secret = new byte[32];
    private long _secretSetTimestamp;
    private bool _hasSecret;

    public CookieChecker(ReadOnlySpan<byte> localStaticPublicKey, TimeProvider time)
    {
        _time = time;
        Blake2s.Hash(WireGuardConstants.LabelMac1, localStaticPublicKey, _mac1Key);
        Blake2s.Hash(WireGuardConstants.LabelCookie, localStaticPublicKey, _cookieKey);
    }

    /// <summary>mac1 over everything before it, compared in constant time.</summary>
    public bool CheckMac1(ReadOnlySpan<byte> message)
    {
        if (message.Length < 2 * MacSize)
        {
            return false;
        }

        int mac1Offset = message.Length - 2 * MacSize;
        Span<byte> expected = stackalloc byte[MacSize];
        Blake2s.Mac(_mac1Key, message[..mac1Offset], expected);
        return CryptographicOperations.FixedTimeEquals(expected, message.Slice(mac1Offset, MacSize));
    }

    /// <summary>
    /// mac2 against the cookie for this source. False when no secret is current (then the
    /// sender cannot hold a valid cookie either).
    /// </summary>
    public bool CheckMac2(ReadOnlySpan<byte> message, ReadOnlySpan<byte> sourceAddress, ushort sourcePort)
    {
        if (message.Length < 2 * MacSize)
        {
            return false;
        }

        Span<byte> cookie = stackalloc byte[MacSize];
        lock (_lock)
        {
            if (!_hasSecret || _time.GetElapsedTime(_secretSetTimestamp) > WireGuardConstants.CookieRefreshTime)
            {
                return false;
            }

            ComputeCookie(sourceAddress, sourcePort, cookie);
        }

        int mac2Offset = message.Length - MacSize;
        Span<byte> expected = stackalloc byte[MacSize];
        Blake2s.Mac(cookie, message[..mac2Offset], expected);
        return CryptographicOperations.FixedTimeEquals(expected, message.Slice(mac2Offset, MacSize));
    }

    /// <summary>
    /// Builds the 64-byte cookie reply to a handshake message whose sender index is
    /// receiverIndex:  type=3|0|0|0 · receiver(4) · nonce(24) · XAEAD(cookie, AD = msg.mac1)(16+16).
    /// </summary>
    public void CreateReply(ReadOnlySpan<byte> message, uint receiverIndex, ReadOnlySpan<byte> sourceAddress, ushort sourcePort, Span<byte> reply)
    {
        var writer = CookieReplyWriter.Create(reply);
        writer.ReceiverIndex = receiverIndex;
        Span<byte> nonce = writer.Nonce;
        SecureRandom.Fill(nonce);

        Span<byte> cookie = stackalloc byte[MacSize];
        lock (_lock)
        {
            if (!_hasSecret || _time.GetElapsedTime(_secretSetTimestamp) > WireGuardConstants.CookieRefreshTime)
            {
                SecureRandom.Fill(_secret);
                _secretSetTimestamp = _time.GetTimestamp();
                _hasSecret = true;
            }

            ComputeCookie(sourceAddress, sourcePort, cookie);
        }

        ReadOnlySpan<byte> mac1 = message.Slice(message.Length - 2 * MacSize, MacSize);
        XChaCha20Poly1305.Seal(_cookieKey, nonce, cookie, mac1, writer.EncryptedCookie);
        CryptographicOperations.ZeroMemory(cookie);
    }

    private void ComputeCookie(ReadOnlySpan<byte> sourceAddress, ushort sourcePort, Span<byte> cookie)
    {
        Span<byte> source = stackalloc byte[16 + 2];
        sourceAddress.CopyTo(source);
        BinaryPrimitives.WriteUInt16BigEndian(source[sourceAddress.Length..], sourcePort);
        Blake2s.Mac(_secret, source[..(sourceAddress.Length + 2)], cookie);
    }
}
