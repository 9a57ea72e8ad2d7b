using System.Security.Cryptography;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Noise;

namespace MeshAgent.Core.Invitations;

/// <summary>What the caller of <see cref="JoinInitiator.Receive"/> or <see cref="JoinResponder.Receive"/> does next.</summary>
public enum JoinStep
{
    /// <summary>Send <see cref="JoinStepResult.Message"/> to the peer and wait for its answer.</summary>
    Send,

    /// <summary>Send <see cref="JoinStepResult.Message"/> again: it answers a duplicate of a message already handled.</summary>
    Retransmit,

    /// <summary>The exchange is over: <see cref="JoinStepResult.Response"/> holds the inviter's answer.</summary>
    Finished,

    /// <summary>The exchange cannot go on: <see cref="JoinStepResult.Error"/> says why.</summary>
    Failed,

    /// <summary>The message was not for this session, or a stale duplicate: drop it and keep waiting.</summary>
    Ignored,
}

/// <summary>One step of a join session. Messages are owned by the caller once returned.</summary>
public sealed class JoinStepResult
{
    private JoinStepResult(JoinStep step, byte[]? message, JoinResponse? response, string? error, UsedTokenRecord? usedRecord)
    {
        Step = step;
        Message = message;
        Response = response;
        Error = error;
        UsedRecord = usedRecord;
    }

    public JoinStep Step { get; }

    /// <summary>The bytes to send for <see cref="JoinStep.Send"/> and <see cref="JoinStep.Retransmit"/>; null otherwise.</summary>
    public byte[]? Message { get; }

    /// <summary>
    /// Joiner: the inviter's answer once <see cref="JoinStep.Finished"/>. Responder: the answer it
    /// just sent when that answer ends the session (a refusal or message 4); null otherwise.
    /// </summary>
    public JoinResponse? Response { get; }

    /// <summary>For <see cref="JoinStep.Failed"/> and <see cref="JoinStep.Ignored"/>: why, for a log or the person joining.</summary>
    public string? Error { get; }

    /// <summary>Responder only, on acceptance: the record the engine signs and gossips so no admin accepts the token again.</summary>
    public UsedTokenRecord? UsedRecord { get; }

    internal static JoinStepResult Send(byte[] message, JoinResponse? finalAnswer = null, UsedTokenRecord? usedRecord = null) =>
        new(JoinStep.Send, message, finalAnswer, null, usedRecord);

    internal static JoinStepResult Retransmit(byte[] message) => new(JoinStep.Retransmit, message, null, null, null);

    internal static JoinStepResult Finished(JoinResponse response) => new(JoinStep.Finished, null, response, null, null);

    internal static JoinStepResult Failed(string error) => new(JoinStep.Failed, null, null, error, null);

    internal static JoinStepResult Ignored(string reason) => new(JoinStep.Ignored, null, null, reason, null);
}

/// <summary>
/// The joiner's side of the join exchange (<see cref="JoinProtocol"/>): Hello → (Challenge →
/// Request →) Response, or Hello → Refusal. One instance per attempt; not thread-safe. The caller
/// retransmits <see cref="LastSent"/> on its own timer until an answer arrives; messages for other
/// sessions and stale duplicates are <see cref="JoinStep.Ignored"/>, so a stray packet cannot end
/// the attempt.
/// </summary>
public sealed class JoinInitiator : IDisposable
{
    private readonly JoinTokenId _tokenId;
    private readonly byte[] _rootKey;
    private readonly byte[] _inviterStatic;
    private readonly byte[] _psk = new byte[JoinProtocol.PskSize];
    private readonly byte[] _identitySecretKey = new byte[Ed25519.SecretKeySize];
    private readonly string? _requestedName;
    private readonly IEphemeralKeySource? _ephemeralKeys;
    private readonly byte[] _responderToInitiatorKey = new byte[CipherState.KeySize];
    private HandshakeState? _handshake;
    private State _state;

    /// <param name="token">The parsed join token.</param>
    /// <param name="inviterStaticPublicKey">
    /// The inviter's X25519 key, derived from <see cref="JoinToken.InviterPublicKey"/> by the identity code.
    /// </param>
    /// <param name="identitySecretKey">This node's Ed25519 identity secret key (64 bytes, seed ‖ public key).</param>
    /// <param name="requestedName">The node name to ask for; null lets the admin choose.</param>
    /// <param name="sessionId">Null picks one at random (tests fix it).</param>
    /// <param name="ephemeralKeys">Null uses fresh random keys (tests inject fixed ones).</param>
    public JoinInitiator(
        JoinToken token,
        ReadOnlySpan<byte> inviterStaticPublicKey,
        ReadOnlySpan<byte> identitySecretKey,
        string? requestedName = null,
        uint? sessionId = null,
        IEphemeralKeySource? ephemeralKeys = null)
        : this((token ?? throw new ArgumentNullException(nameof(token))).Id, token.Secret, token.NetworkRootPublicKey,
            inviterStaticPublicKey, identitySecretKey, requestedName, sessionId, ephemeralKeys)
    {
    }

    /// <summary>
    /// The joiner's side for <paramref name="identity"/>: the inviter's X25519 key is derived from the
    /// token's inviter identity key. Throws <see cref="ArgumentException"/> when that key is not a valid
    /// Ed25519 point (a token that passed its checksum cannot normally carry one) or the name is invalid.
    /// </summary>
    public static JoinInitiator ForIdentity(JoinToken token, Trust.NodeIdentity identity, string? requestedName = null)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(identity);
        if (!new Trust.NodePublicKey(token.InviterPublicKey).TryGetWireGuardPublicKey(out Config.WireGuardPublicKey inviter))
        {
            throw new ArgumentException("the token's inviter key is not a valid Ed25519 public key — ask the admin for a new token", nameof(token));
        }

        return new JoinInitiator(token, inviter.AsSpan(), identity.SecretKey, requestedName);
    }

    /// <summary>
    /// The token's pieces given one by one. Internal so tests can pair a real token id with a wrong
    /// secret, which no well-formed token does (the id is derived from the secret).
    /// </summary>
    internal JoinInitiator(
        JoinTokenId tokenId,
        ReadOnlySpan<byte> secret,
        ReadOnlySpan<byte> networkRootPublicKey,
        ReadOnlySpan<byte> inviterStaticPublicKey,
        ReadOnlySpan<byte> identitySecretKey,
        string? requestedName,
        uint? sessionId,
        IEphemeralKeySource? ephemeralKeys)
    {
        if (inviterStaticPublicKey.Length != X25519.KeySize)
        {
            throw new ArgumentException($"the inviter's X25519 key is {X25519.KeySize} bytes, got {inviterStaticPublicKey.Length}", nameof(inviterStaticPublicKey));
        }

        if (identitySecretKey.Length != Ed25519.SecretKeySize)
        {
            throw new ArgumentException($"an Ed25519 identity secret key is {Ed25519.SecretKeySize} bytes, got {identitySecretKey.Length}", nameof(identitySecretKey));
        }

        requestedName = string.IsNullOrEmpty(requestedName) ? null : requestedName;
        string? problem = requestedName is null ? null : NameRules.Check("the requested node name", requestedName, JoinRequest.MaxNameBytes);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(requestedName));
        }

        _tokenId = tokenId;
        _rootKey = networkRootPublicKey.ToArray();
        _inviterStatic = inviterStaticPublicKey.ToArray();
        identitySecretKey.CopyTo(_identitySecretKey);
        _requestedName = requestedName;
        _ephemeralKeys = ephemeralKeys;
        JoinProtocol.DerivePsk(secret, _psk);
        SessionId = sessionId ?? SecureRandom.NextUInt32();
    }

    private enum State
    {
        New,
        AwaitingChallenge,
        AwaitingResponse,
        Finished,
        Failed,
    }

    public uint SessionId { get; }

    /// <summary>The last message this side sent (for retransmission), or null before <see cref="Start"/>.</summary>
    public byte[]? LastSent { get; private set; }

    public bool IsOver => _state is State.Finished or State.Failed;

    /// <summary>Message 1 (Hello). Call once.</summary>
    public byte[] Start()
    {
        if (_state != State.New)
        {
            throw new InvalidOperationException("JoinInitiator.Start was already called; a join attempt sends one Hello (retransmit LastSent)");
        }

        Span<byte> prologue = stackalloc byte[JoinProtocol.PrologueLength];
        JoinProtocol.WritePrologue(_rootKey, SessionId, prologue);
        _handshake = new HandshakeState(HandshakePattern.NKpsk2, JoinProtocol.ProtocolName, initiator: true,
            prologue, ReadOnlySpan<byte>.Empty, _inviterStatic, _psk, _ephemeralKeys);

        Span<byte> payload = stackalloc byte[JoinTokenId.Size];
        _tokenId.Write(payload);
        var message = new byte[JoinMessages.HeaderSize + _handshake.GetMessageLength(payload.Length)];
        JoinMessages.WriteHeader(message, JoinMessageType.Hello, SessionId);
        _handshake.WriteMessage(payload, message.AsSpan(JoinMessages.HeaderSize));
        _state = State.AwaitingChallenge;
        LastSent = message;
        return message;
    }

    /// <summary>Handles a message from the inviter. Never throws on network input.</summary>
    public JoinStepResult Receive(ReadOnlySpan<byte> message)
    {
        if (!JoinMessages.TryReadHeader(message, out JoinMessageType type, out uint sessionId) || sessionId != SessionId)
        {
            return JoinStepResult.Ignored("not a message of this join session");
        }

        return (_state, type) switch
        {
            (State.AwaitingChallenge, JoinMessageType.Challenge) => OnChallenge(message),
            (State.AwaitingChallenge, JoinMessageType.Refusal) => OnRefusal(message),
            (State.AwaitingResponse, JoinMessageType.Response) => OnResponse(message),
            _ => JoinStepResult.Ignored($"a {type} message is not expected now (state {_state})"),
        };
    }

    private JoinStepResult OnChallenge(ReadOnlySpan<byte> message)
    {
        Span<byte> empty = stackalloc byte[1];
        if (!_handshake!.TryReadMessage(message[JoinMessages.HeaderSize..], empty, out int length) || length != 0)
        {
            return Fail("the inviter did not accept this token's secret: the token was altered, or the node that answered is not the inviter named in it — ask an admin for a new token with meshagent invite");
        }

        // Prove the identity key over the final handshake hash: binds it to this very session.
        Span<byte> proofMessage = stackalloc byte[JoinProtocol.ProofMessageLength];
        JoinProtocol.WriteProofMessage(_handshake.HandshakeHash, proofMessage);
        var proof = new byte[Ed25519.SignatureSize];
        Ed25519.Sign(_identitySecretKey, proofMessage, proof);
        var request = new JoinRequest(_tokenId, _identitySecretKey.AsSpan(Ed25519.SeedSize), proof, _requestedName);

        Span<byte> initiatorToResponder = stackalloc byte[CipherState.KeySize];
        _handshake.Split(initiatorToResponder, _responderToInitiatorKey);

        byte[] plaintext = new byte[request.Size];
        request.Write(plaintext);
        var reply = new byte[JoinMessages.HeaderSize + plaintext.Length + CipherState.TagSize];
        JoinMessages.WriteHeader(reply, JoinMessageType.Request, SessionId);
        using (var cipher = new CipherState())
        {
            cipher.InitializeKey(initiatorToResponder);
            cipher.EncryptWithAd(reply.AsSpan(0, JoinMessages.HeaderSize), plaintext, reply.AsSpan(JoinMessages.HeaderSize));
        }

        CryptographicOperations.ZeroMemory(initiatorToResponder);
        CryptographicOperations.ZeroMemory(plaintext);
        _state = State.AwaitingResponse;
        LastSent = reply;
        return JoinStepResult.Send(reply);
    }

    private JoinStepResult OnRefusal(ReadOnlySpan<byte> message)
    {
        // Refusals are keyed with the all-zero PSK: authenticated by the inviter's static key only.
        _handshake!.SetPreSharedKey(new byte[JoinProtocol.PskSize]);
        Span<byte> payload = stackalloc byte[2];
        if (!_handshake.TryReadMessage(message[JoinMessages.HeaderSize..], payload, out int length) || length != 1
            || !JoinMessages.IsDefined((JoinStatus)payload[0]) || (JoinStatus)payload[0] == JoinStatus.Accepted)
        {
            return Fail("received a refusal that did not come from the inviter named in the token (someone on the path may be interfering) — try again");
        }

        _state = State.Finished;
        return JoinStepResult.Finished(new JoinResponse((JoinStatus)payload[0], null, [], []));
    }

    private JoinStepResult OnResponse(ReadOnlySpan<byte> message)
    {
        ReadOnlySpan<byte> ciphertext = message[JoinMessages.HeaderSize..];
        if (ciphertext.Length < CipherState.TagSize)
        {
            return Fail("the inviter's answer is too short to be genuine — try again");
        }

        byte[] plaintext = new byte[ciphertext.Length - CipherState.TagSize];
        try
        {
            using var cipher = new CipherState();
            cipher.InitializeKey(_responderToInitiatorKey);
            if (!cipher.TryDecryptWithAd(message[..JoinMessages.HeaderSize], ciphertext, plaintext, out _))
            {
                return Fail("the inviter's answer did not authenticate (altered on the way?) — try again");
            }

            if (!JoinResponse.TryRead(plaintext, out JoinResponse? response))
            {
                return Fail("the inviter's answer is malformed — are both sides running compatible meshagent versions?");
            }

            _state = State.Finished;
            return JoinStepResult.Finished(response!);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private JoinStepResult Fail(string error)
    {
        _state = State.Failed;
        return JoinStepResult.Failed(error);
    }

    public void Dispose()
    {
        _handshake?.Dispose();
        CryptographicOperations.ZeroMemory(_psk);
        CryptographicOperations.ZeroMemory(_identitySecretKey);
        CryptographicOperations.ZeroMemory(_responderToInitiatorKey);
    }
}
