using System.Security.Cryptography;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Noise;

namespace MeshAgent.Core.Invitations;

/// <summary>What every join session on an admin shares. Immutable once built; the arrays are borrowed, never modified.</summary>
public sealed class JoinResponderOptions
{
    /// <summary>This admin's X25519 static private key (its WireGuard key): the key join tokens it issues name.</summary>
    public required byte[] StaticPrivateKey { get; init; }

    public required byte[] NetworkRootPublicKey { get; init; }

    /// <summary>This admin's Ed25519 identity key, written into <see cref="UsedTokenRecord"/>s.</summary>
    public required byte[] AdminIdentityPublicKey { get; init; }

    public required IInvitationStore Store { get; init; }

    /// <summary>
    /// Issues the certificate for a request that proved the secret and claimed the token. Called
    /// at most once per token claim, possibly from several sessions' threads at once for different
    /// tokens. Return <see cref="JoinDecision.Refuse"/> to refuse; the token is then released.
    /// </summary>
    public required Func<JoinRequest, JoinDecision> Decide { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Null for fresh random ephemeral keys (tests inject fixed ones).</summary>
    public IEphemeralKeySource? EphemeralKeys { get; init; }
}

/// <summary>
/// The inviter's side of one join session (<see cref="JoinProtocol"/>). The engine creates one per
/// Hello, keyed by (source, session id), feeds it every message of that session and forgets it when
/// <see cref="IsOver"/> or after a timeout (30 s is plenty). Not thread-safe; sessions are independent.
/// <code>
///  AwaitingHello --Hello, token pending--> Challenged --Request proves secret--> Done (Response)
///        |                                     |
///        +--Hello, token unknown/used/expired--+--> Done (Refusal)      anything undecryptable --> Failed
/// </code>
/// A byte-identical copy of the last message handled gets the cached reply again
/// (<see cref="JoinStep.Retransmit"/>): retransmissions are answered without deciding twice.
/// </summary>
public sealed class JoinResponder : IDisposable
{
    private readonly JoinResponderOptions _options;
    private readonly byte[] _initiatorToResponderKey = new byte[CipherState.KeySize];
    private readonly byte[] _responderToInitiatorKey = new byte[CipherState.KeySize];
    private HandshakeState? _handshake;
    private State _state;
    private JoinTokenId _tokenId;
    private DateTimeOffset _expiresAt;
    private byte[]? _lastIncoming;
    private byte[]? _lastReply;

    public JoinResponder(JoinResponderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.StaticPrivateKey.Length != X25519.KeySize || options.NetworkRootPublicKey.Length != JoinToken.KeySize
            || options.AdminIdentityPublicKey.Length != JoinToken.KeySize)
        {
            throw new ArgumentException("join responder keys are 32 bytes each (static private, network root, admin identity)", nameof(options));
        }

        _options = options;
    }

    private enum State
    {
        AwaitingHello,
        Challenged,
        Done,
        Failed,
    }

    /// <summary>The joiner's session id, once a Hello was read.</summary>
    public uint SessionId { get; private set; }

    public bool IsOver => _state is State.Done or State.Failed;

    /// <summary>The final status sent (a refusal's or message 4's), or null while the session runs or after a failure.</summary>
    public JoinStatus? FinalStatus { get; private set; }

    /// <summary>Handles a message from the joiner. Never throws on network input.</summary>
    public JoinStepResult Receive(ReadOnlySpan<byte> message)
    {
        if (_lastReply is not null && message.SequenceEqual(_lastIncoming))
        {
            return JoinStepResult.Retransmit(_lastReply);
        }

        if (!JoinMessages.TryReadHeader(message, out JoinMessageType type, out uint sessionId))
        {
            return JoinStepResult.Ignored("not a join message");
        }

        return (_state, type) switch
        {
            (State.AwaitingHello, JoinMessageType.Hello) => OnHello(message, sessionId),
            (State.Challenged, JoinMessageType.Request) when sessionId == SessionId => OnRequest(message),
            _ => JoinStepResult.Ignored($"a {type} message is not expected now (state {_state})"),
        };
    }

    private JoinStepResult OnHello(ReadOnlySpan<byte> message, uint sessionId)
    {
        SessionId = sessionId;
        Span<byte> prologue = stackalloc byte[JoinProtocol.PrologueLength];
        JoinProtocol.WritePrologue(_options.NetworkRootPublicKey, sessionId, prologue);
        _handshake = new HandshakeState(HandshakePattern.NKpsk2, JoinProtocol.ProtocolName, initiator: false,
            prologue, _options.StaticPrivateKey, ReadOnlySpan<byte>.Empty, ReadOnlySpan<byte>.Empty, _options.EphemeralKeys);

        Span<byte> payload = stackalloc byte[JoinTokenId.Size];
        if (!_handshake.TryReadMessage(message[JoinMessages.HeaderSize..], payload, out int length) || length != JoinTokenId.Size)
        {
            return Fail("the Hello did not decrypt: it was made for another inviter key or another network, or it was altered");
        }

        _tokenId = JoinTokenId.Read(payload);
        Span<byte> secret = stackalloc byte[JoinToken.SecretSize];
        InvitationLookup lookup = _options.Store.Find(_tokenId, secret);
        _expiresAt = lookup.ExpiresAt;
        DateTimeOffset now = _options.Time.GetUtcNow();
        JoinStatus? refusal = lookup.Status switch
        {
            InvitationStatus.Unknown => JoinStatus.UnknownToken,
            InvitationStatus.Used => JoinStatus.TokenUsed,
            _ when now >= lookup.ExpiresAt => JoinStatus.TokenExpired,
            _ => null,
        };

        if (refusal is JoinStatus status)
        {
            CryptographicOperations.ZeroMemory(secret);
            return Refuse(message, status);
        }

        Span<byte> psk = stackalloc byte[JoinProtocol.PskSize];
        JoinProtocol.DerivePsk(secret, psk);
        CryptographicOperations.ZeroMemory(secret);
        _handshake.SetPreSharedKey(psk);
        CryptographicOperations.ZeroMemory(psk);

        var reply = new byte[JoinMessages.HeaderSize + _handshake.GetMessageLength(0)];
        JoinMessages.WriteHeader(reply, JoinMessageType.Challenge, SessionId);
        _handshake.WriteMessage(ReadOnlySpan<byte>.Empty, reply.AsSpan(JoinMessages.HeaderSize));
        _handshake.Split(_initiatorToResponderKey, _responderToInitiatorKey);
        _state = State.Challenged;
        return Remember(message, reply, JoinStepResult.Send(reply));
    }

    /// <summary>Message 2 with the all-zero PSK and a status byte: the inviter has seen no proof yet, so it says no more.</summary>
    private JoinStepResult Refuse(ReadOnlySpan<byte> hello, JoinStatus status)
    {
        _handshake!.SetPreSharedKey(new byte[JoinProtocol.PskSize]);
        ReadOnlySpan<byte> payload = [(byte)status];
        var reply = new byte[JoinMessages.HeaderSize + _handshake.GetMessageLength(payload.Length)];
        JoinMessages.WriteHeader(reply, JoinMessageType.Refusal, SessionId);
        _handshake.WriteMessage(payload, reply.AsSpan(JoinMessages.HeaderSize));
        _state = State.Done;
        FinalStatus = status;
        return Remember(hello, reply, JoinStepResult.Send(reply, new JoinResponse(status, null, [], [])));
    }

    private JoinStepResult OnRequest(ReadOnlySpan<byte> message)
    {
        ReadOnlySpan<byte> ciphertext = message[JoinMessages.HeaderSize..];
        if (ciphertext.Length < CipherState.TagSize)
        {
            return Fail("the join request is too short");
        }

        byte[] plaintext = new byte[ciphertext.Length - CipherState.TagSize];
        JoinRequest? request;
        using (var cipher = new CipherState())
        {
            cipher.InitializeKey(_initiatorToResponderKey);
            if (!cipher.TryDecryptWithAd(message[..JoinMessages.HeaderSize], ciphertext, plaintext, out _))
            {
                // One guess of the secret per session: the session ends here.
                return Fail("the join request did not decrypt: the joiner does not hold the token's secret, or the request was replayed or altered");
            }
        }

        bool wellFormed = JoinRequest.TryRead(plaintext, out request);
        CryptographicOperations.ZeroMemory(plaintext);
        if (!wellFormed || request!.TokenId != _tokenId)
        {
            return Fail("the join request is malformed or names another token than its Hello");
        }

        Span<byte> proofMessage = stackalloc byte[JoinProtocol.ProofMessageLength];
        JoinProtocol.WriteProofMessage(_handshake!.HandshakeHash, proofMessage);
        if (!Ed25519.Verify(request.JoinerIdentityPublicKey, proofMessage, request.Proof))
        {
            return Answer(message, new JoinResponse(JoinStatus.Refused, "the joiner's identity proof does not verify (its signature over the handshake is wrong)", [], []), null);
        }

        DateTimeOffset now = _options.Time.GetUtcNow();
        if (now >= _expiresAt)
        {
            return Answer(message, new JoinResponse(JoinStatus.TokenExpired, null, [], []), null);
        }

        if (!_options.Store.TryMarkUsed(_tokenId, now))
        {
            return Answer(message, new JoinResponse(JoinStatus.TokenUsed, null, [], []), null);
        }

        JoinDecision decision;
        try
        {
            decision = _options.Decide(request);
        }
        catch
        {
            _options.Store.ReleaseClaim(_tokenId);
            throw;
        }

        if (decision.Status != JoinStatus.Accepted)
        {
            _options.Store.ReleaseClaim(_tokenId);
            return Answer(message, new JoinResponse(decision.Status, decision.Reason, [], []), null);
        }

        var used = new UsedTokenRecord(_tokenId, now, _expiresAt, _options.AdminIdentityPublicKey, ReadOnlySpan<byte>.Empty);
        return Answer(message, new JoinResponse(JoinStatus.Accepted, null, decision.Certificate, decision.MembershipSnapshot), used);
    }

    /// <summary>Message 4: the response under the responder→initiator transport key, nonce 0, header as associated data.</summary>
    private JoinStepResult Answer(ReadOnlySpan<byte> request, JoinResponse response, UsedTokenRecord? used)
    {
        byte[] plaintext = new byte[response.Size];
        response.Write(plaintext);
        var reply = new byte[JoinMessages.HeaderSize + plaintext.Length + CipherState.TagSize];
        JoinMessages.WriteHeader(reply, JoinMessageType.Response, SessionId);
        using (var cipher = new CipherState())
        {
            cipher.InitializeKey(_responderToInitiatorKey);
            cipher.EncryptWithAd(reply.AsSpan(0, JoinMessages.HeaderSize), plaintext, reply.AsSpan(JoinMessages.HeaderSize));
        }

        CryptographicOperations.ZeroMemory(plaintext);
        _state = State.Done;
        FinalStatus = response.Status;
        return Remember(request, reply, JoinStepResult.Send(reply, response, used));
    }

    private JoinStepResult Remember(ReadOnlySpan<byte> incoming, byte[] reply, JoinStepResult result)
    {
        _lastIncoming = incoming.ToArray();
        _lastReply = reply;
        return result;
    }

    private JoinStepResult Fail(string reason)
    {
        _state = State.Failed;
        _lastReply = null;
        return JoinStepResult.Failed(reason);
    }

    public void Dispose()
    {
        _handshake?.Dispose();
        CryptographicOperations.ZeroMemory(_initiatorToResponderKey);
        CryptographicOperations.ZeroMemory(_responderToInitiatorKey);
    }
}
