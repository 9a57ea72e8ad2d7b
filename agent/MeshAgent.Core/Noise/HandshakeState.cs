using System.Security.Cryptography;
using MeshAgent.Core.Crypto;

namespace MeshAgent.Core.Noise;

/// <summary>Produces ephemeral X25519 private keys; tests inject fixed keys (cacophony vectors).</summary>
public interface IEphemeralKeySource
{
    void GeneratePrivateKey(Span<byte> privateKey);
}

/// <summary>The production ephemeral source: fresh random keys from libsodium.</summary>
public sealed class RandomEphemeralKeySource : IEphemeralKeySource
{
    public static RandomEphemeralKeySource Instance { get; } = new();

    public void GeneratePrivateKey(Span<byte> privateKey) => X25519.GeneratePrivateKey(privateKey);
}

/// <summary>
/// Noise spec §5.3 HandshakeState for DH = 25519, cipher = ChaChaPoly, hash = BLAKE2s.
/// The state is one-shot: after a failed read it must be discarded (spec §5.3: "any error
/// ... the HandshakeState is no longer usable"). Not thread-safe.
/// </summary>
public sealed class HandshakeState : IDisposable
{
    public const int DhLength = X25519.KeySize;

    private readonly HandshakePattern _pattern;
    private readonly bool _initiator;
    private readonly SymmetricState _symmetric;
    private readonly IEphemeralKeySource _ephemeralSource;
    private readonly byte[] _localStaticPrivate = new byte[DhLength];
    private readonly byte[] _localStaticPublic = new byte[DhLength];
    private readonly byte[] _localEphemeralPrivate = new byte[DhLength];
    private readonly byte[] _localEphemeralPublic = new byte[DhLength];
    private readonly byte[] _remoteStaticPublic = new byte[DhLength];
    private readonly byte[] _remoteEphemeralPublic = new byte[DhLength];
    private readonly byte[] _psk = new byte[32];
    private bool _hasLocalStatic;
    private bool _hasRemoteStatic;
    private int _messageIndex;
    private bool _failed;

    /// <param name="protocolName">The full Noise protocol name, e.g. "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".</param>
    /// <param name="remoteStaticPublicKey">The peer's static key when the pattern pre-shares it (initiator in IK); empty otherwise.</param>
    /// <param name="psk">The 32-byte pre-shared key; empty means "set later" (responder before it knows the peer) or zeros.</param>
    public HandshakeState(
        HandshakePattern pattern,
        ReadOnlySpan<byte> protocolName,
        bool initiator,
        ReadOnlySpan<byte> prologue,
        ReadOnlySpan<byte> localStaticPrivateKey,
        ReadOnlySpan<byte> remoteStaticPublicKey,
        ReadOnlySpan<byte> psk,
        IEphemeralKeySource? ephemeralKeySource = null)
    {
        _pattern = pattern;
        _initiator = initiator;
        _ephemeralSource = ephemeralKeySource ?? RandomEphemeralKeySource.Instance;
        _symmetric = new SymmetricState(protocolName);

        if (!localStaticPrivateKey.IsEmpty)
        {
            RequireKeyLength(localStaticPrivateKey, nameof(localStaticPrivateKey));
            localStaticPrivateKey.CopyTo(_localStaticPrivate);
            X25519.DerivePublicKey(_localStaticPrivate, _localStaticPublic);
            _hasLocalStatic = true;
        }

        if (!remoteStaticPublicKey.IsEmpty)
        {
            RequireKeyLength(remoteStaticPublicKey, nameof(remoteStaticPublicKey));
            remoteStaticPublicKey.CopyTo(_remoteStaticPublic);
            _hasRemoteStatic = true;
        }

        if (!psk.IsEmpty)
        {
            SetPreSharedKey(psk);
        }

        _symmetric.MixHash(prologue);

        // Pre-messages (spec §7.1): initiator's first, then responder's, each MixHash(s.pub).
        if (pattern.InitiatorPreMessageStatic)
        {
            _symmetric.MixHash(initiator ? LocalStaticForPreMessage() : RemoteStaticForPreMessage());
        }

        if (pattern.ResponderPreMessageStatic)
        {
            _symmetric.MixHash(initiator ? RemoteStaticForPreMessage() : LocalStaticForPreMessage());
        }
    }

    public bool IsInitiator => _initiator;

    /// <summary>True once every message of the pattern has been written or read.</summary>
    public bool IsComplete => _messageIndex == _pattern.Messages.Count;

    public ReadOnlySpan<byte> HandshakeHash => _symmetric.HandshakeHash;

    /// <summary>The peer's static key: known up front (initiator in IK) or learned from an "s" token.</summary>
    public ReadOnlySpan<byte> RemoteStaticPublicKey => _hasRemoteStatic ? _remoteStaticPublic : ReadOnlySpan<byte>.Empty;

    public ReadOnlySpan<byte> LocalEphemeralPublicKey => _localEphemeralPublic;

    /// <summary>
    /// Sets the PSK before the message with the "psk" token is processed. A WireGuard responder
    /// learns who the initiator is (and so which PSK applies) only from the first message.
    /// </summary>
    public void SetPreSharedKey(ReadOnlySpan<byte> psk)
    {
        if (psk.Length != _psk.Length)
        {
            throw new ArgumentException($"a Noise PSK is 32 bytes, got {psk.Length}", nameof(psk));
        }

        psk.CopyTo(_psk);
    }

    /// <summary>Bytes WriteMessage will produce for a payload of the given length.</summary>
    public int GetMessageLength(int payloadLength)
    {
        // Computed from the tokens as the spec's WriteMessage would, without side effects.
        bool hasKey = _symmetric.Cipher.HasKey;
        int length = 0;
        foreach (Token token in _pattern.Messages[_messageIndex])
        {
            switch (token)
            {
                case Token.E:
                    length += DhLength;
                    hasKey |= _pattern.IsPskMode;
                    break;
                case Token.S:
                    length += DhLength + (hasKey ? CipherState.TagSize : 0);
                    break;
                default:
                    hasKey = true;
                    break;
            }
        }

        return length + payloadLength + (hasKey ? CipherState.TagSize : 0);
    }

    /// <summary>WriteMessage(payload, message_buffer): returns bytes written.</summary>
    public int WriteMessage(ReadOnlySpan<byte> payload, Span<byte> message)
    {
        EnsureTurn(writing: true);
        int offset = 0;
        foreach (Token token in _pattern.Messages[_messageIndex])
        {
            switch (token)
            {
                case Token.E:
                    _ephemeralSource.GeneratePrivateKey(_localEphemeralPrivate);
                    X25519.DerivePublicKey(_localEphemeralPrivate, _localEphemeralPublic);
                    _localEphemeralPublic.CopyTo(message[offset..]);
                    offset += DhLength;
                    _symmetric.MixHash(_localEphemeralPublic);
                    if (_pattern.IsPskMode)
                    {
                        _symmetric.MixKey(_localEphemeralPublic);
                    }

                    break;
                case Token.S:
                    RequireLocalStatic();
                    offset += _symmetric.EncryptAndHash(_localStaticPublic, message[offset..]);
                    break;
                default:
                    if (!MixDh(token))
                    {
                        throw new CryptographicException("Noise handshake: a Diffie-Hellman result was all zeros (the peer's key is a low-order point)");
                    }

                    break;
            }
        }

        offset += _symmetric.EncryptAndHash(payload, message[offset..]);
        _messageIndex++;
        return offset;
    }

    /// <summary>
    /// ReadMessage(message, payload_buffer). Returns false on any malformed or unauthentic input;
    /// the state is then unusable. Never throws on network input.
    /// </summary>
    public bool TryReadMessage(ReadOnlySpan<byte> message, Span<byte> payload, out int payloadLength)
    {
        payloadLength = 0;
        if (_failed || IsComplete || IsMyTurnToWrite())
        {
            return false;
        }

        int offset = 0;
        foreach (Token token in _pattern.Messages[_messageIndex])
        {
            switch (token)
            {
                case Token.E:
                    if (message.Length - offset < DhLength)
                    {
                        return Fail();
                    }

                    message.Slice(offset, DhLength).CopyTo(_remoteEphemeralPublic);
                    offset += DhLength;
                    _symmetric.MixHash(_remoteEphemeralPublic);
                    if (_pattern.IsPskMode)
                    {
                        _symmetric.MixKey(_remoteEphemeralPublic);
                    }

                    break;
                case Token.S:
                    int length = DhLength + (_symmetric.Cipher.HasKey ? CipherState.TagSize : 0);
                    if (message.Length - offset < length
                        || !_symmetric.TryDecryptAndHash(message.Slice(offset, length), _remoteStaticPublic, out _))
                    {
                        return Fail();
                    }

                    _hasRemoteStatic = true;
                    offset += length;
                    break;
                default:
                    if ((token is Token.ES or Token.SE or Token.SS && !HasKeysFor(token)) || !MixDh(token))
                    {
                        return Fail();
                    }

                    break;
            }
        }

        ReadOnlySpan<byte> encryptedPayload = message[offset..];
        int expected = encryptedPayload.Length - (_symmetric.Cipher.HasKey ? CipherState.TagSize : 0);
        if (expected < 0 || expected > payload.Length
            || !_symmetric.TryDecryptAndHash(encryptedPayload, payload, out payloadLength))
        {
            return Fail();
        }

        _messageIndex++;
        return true;
    }

    /// <summary>Split() after the last message: (initiator→responder, responder→initiator) keys.</summary>
    public void Split(Span<byte> initiatorToResponder, Span<byte> responderToInitiator)
    {
        if (!IsComplete || _failed)
        {
            throw new InvalidOperationException("Noise Split() called before the handshake completed");
        }

        _symmetric.Split(initiatorToResponder, responderToInitiator);
    }

    public void Dispose()
    {
        _symmetric.Dispose();
        CryptographicOperations.ZeroMemory(_localStaticPrivate);
        CryptographicOperations.ZeroMemory(_localEphemeralPrivate);
        CryptographicOperations.ZeroMemory(_psk);
    }

    private bool MixDh(Token token)
    {
        if (token == Token.Psk)
        {
            _symmetric.MixKeyAndHash(_psk);
            return true;
        }

        Span<byte> shared = stackalloc byte[DhLength];
        bool ok = token switch
        {
            Token.EE => X25519.TryDeriveSharedSecret(_localEphemeralPrivate, _remoteEphemeralPublic, shared),
            // es: initiator DH(e, rs); responder DH(s, re)
            Token.ES => _initiator
                ? X25519.TryDeriveSharedSecret(_localEphemeralPrivate, _remoteStaticPublic, shared)
                : X25519.TryDeriveSharedSecret(_localStaticPrivate, _remoteEphemeralPublic, shared),
            // se: initiator DH(s, re); responder DH(e, rs)
            Token.SE => _initiator
                ? X25519.TryDeriveSharedSecret(_localStaticPrivate, _remoteEphemeralPublic, shared)
                : X25519.TryDeriveSharedSecret(_localEphemeralPrivate, _remoteStaticPublic, shared),
            Token.SS => X25519.TryDeriveSharedSecret(_localStaticPrivate, _remoteStaticPublic, shared),
            _ => false,
        };

        if (ok)
        {
            _symmetric.MixKey(shared);
        }

        CryptographicOperations.ZeroMemory(shared);
        return ok;
    }

    private bool HasKeysFor(Token token) => token switch
    {
        Token.SS => _hasLocalStatic && _hasRemoteStatic,
        Token.ES => _initiator ? _hasRemoteStatic : _hasLocalStatic,
        Token.SE => _initiator ? _hasLocalStatic : _hasRemoteStatic,
        _ => true,
    };

    private bool IsMyTurnToWrite() => (_messageIndex % 2 == 0) == _initiator;

    private void EnsureTurn(bool writing)
    {
        if (_failed || IsComplete || IsMyTurnToWrite() != writing)
        {
            throw new InvalidOperationException($"Noise {_pattern.Name}: it is not this side's turn to {(writing ? "write" : "read")} (message {_messageIndex})");
        }
    }

    private bool Fail()
    {
        _failed = true;
        return false;
    }

    private ReadOnlySpan<byte> LocalStaticForPreMessage()
    {
        RequireLocalStatic();
        return _localStaticPublic;
    }

    private ReadOnlySpan<byte> RemoteStaticForPreMessage()
    {
        if (!_hasRemoteStatic)
        {
            throw new ArgumentException($"Noise {_pattern.Name}: the initiator must know the responder's static public key");
        }

        return _remoteStaticPublic;
    }

    private void RequireLocalStatic()
    {
        if (!_hasLocalStatic)
        {
            throw new InvalidOperationException($"Noise {_pattern.Name}: this side needs a static key pair");
        }
    }

    private static void RequireKeyLength(ReadOnlySpan<byte> key, string name)
    {
        if (key.Length != DhLength)
        {
            throw new ArgumentException($"an X25519 key is {DhLength} bytes, got {key.Length}", name);
        }
    }
}
