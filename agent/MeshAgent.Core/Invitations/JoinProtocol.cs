using System.Buffers.Binary;
using MeshAgent.Core.Crypto;
using MeshAgent.Core.Noise;

namespace MeshAgent.Core.Invitations;

/// <summary>
/// The join exchange: how `meshagent join TOKEN` proves it holds the token's one-time secret
/// without sending it, and receives its certificate over an encrypted channel. Transport-agnostic:
/// <see cref="JoinInitiator"/> and <see cref="JoinResponder"/> turn byte arrays into byte arrays;
/// the engine carries them over UDP to the endpoints in the token, or through a relay.
/// </summary>
/// <remarks>
/// <code>
///  joiner (initiator)                                        inviter (responder)
///  knows from the token: root key R, inviter key S,          holds: S's private key,
///  secret k, id = JoinTokenId(k), psk = KDF(k)               invitations {id → k, expiry, used}
///
///  1 Hello      -- e, es   {id} ------------------------------>  look up id:
///                                                                 unknown / used / expired ──┐
///  2 Challenge  &lt;-- e, ee, psk {} ------------------------------  pending: psk = KDF(k)      │
///    (joiner fails here if its k is wrong: nothing learned)                                  │
///  2' Refusal   &lt;-- e, ee, psk=0 {status} -----------------------------------------------------┘
///  3 Request    -- T1{id, name, identity key I, sig_I(h)} ----->  decrypts only if the joiner
///                                                                 used the same psk; checks the
///                                                                 signature over its own h;
///                                                                 TryMarkUsed(id); Decide(...)
///  4 Response   &lt;-- T2{status, reason, certificate, snapshot} ---
///
///  e/ee/es/psk: Noise_NKpsk2_25519_ChaChaPoly_BLAKE2s, prologue = label ‖ R ‖ session id.
///  T1/T2: the Split() transport keys (initiator→responder, responder→initiator), nonce 0,
///  associated data = the 8-byte message header. h: the final handshake hash.
/// </code>
/// Why this shape:
/// <list type="bullet">
/// <item>The secret never crosses the wire: only psk = HKDF(label, k) is mixed into the key schedule.
/// A passive observer sees ephemeral keys and ciphertext; the token id travels encrypted to S.</item>
/// <item>Only the inviter can answer: es and ee need S's private key, so nobody can pose as the
/// inviter even with the token in hand (the Challenge authenticates the inviter to the joiner).</item>
/// <item>Only a holder of k gets past message 3: T1 is keyed by a chaining key that includes psk.
/// A wrong k fails at the joiner on message 2, before the inviter learns anything; the inviter
/// discards a session whose message 3 does not decrypt. One guess costs a whole session.</item>
/// <item>Replays fail by construction: the transport keys depend on the responder's fresh
/// ephemeral, so a recorded message 3 opens in no other session. A replayed Hello earns only a new
/// Challenge its sender cannot answer. Within one session the responder answers a byte-identical
/// duplicate with its cached reply (lost-packet retransmission), never by deciding again.</item>
/// <item>The joiner's identity is bound to this session: the request carries an Ed25519 signature
/// by the joiner's identity key over h, which commits to R, the session id, both ephemerals and psk.</item>
/// <item>Refusals before the proof (unknown, used, expired token) use an all-zero psk: they are
/// authenticated by S (es, ee) and readable only by the joiner's ephemeral, but they carry nothing
/// but a status, because the inviter has not yet seen proof of the secret.</item>
/// <item>No amplification: a 64-byte Hello gets at most a 57-byte reply; the large Response
/// follows only a request that proved the secret. Rate limiting Hellos (2 DH each) is the
/// engine's job, as for WireGuard handshakes.</item>
/// </list>
/// Single use across admins: the responder claims the token with the store's atomic
/// <see cref="IInvitationStore.TryMarkUsed"/> before deciding, and on acceptance emits a
/// <see cref="UsedTokenRecord"/> that the engine signs and spreads by gossip. Every admin's store
/// merges such records (<see cref="IInvitationStore.ApplyUsedRecord"/>) and refuses a used id at
/// the Hello, whether it holds the secret or not. Because the handshake is bound to the inviter's
/// static key, another admin cannot even open a Hello made from someone else's token; the records
/// cover the admins that can: the inviter's identity restored on another machine (from a backup
/// that predates the join) and any admins that replicate pending invitations.
/// </remarks>
public static class JoinProtocol
{
    /// <summary>The Noise protocol name (spec §8); 37 bytes, so it is hashed into h.</summary>
    public static ReadOnlySpan<byte> ProtocolName => "Noise_NKpsk2_25519_ChaChaPoly_BLAKE2s"u8;

    public const int PskSize = 32;
    public const int SessionIdSize = 4;

    private static ReadOnlySpan<byte> PrologueLabel => "meshagent join v1\0"u8;

    private static ReadOnlySpan<byte> PskLabel => "meshagent join v1 psk"u8;

    private static ReadOnlySpan<byte> ProofLabel => "meshagent join v1 proof\0"u8;

    /// <summary>Prologue length: label ‖ network root key ‖ session id.</summary>
    public static int PrologueLength => PrologueLabel.Length + JoinToken.KeySize + SessionIdSize;

    /// <summary>Bytes the joiner signs: label ‖ handshake hash.</summary>
    public static int ProofMessageLength => ProofLabel.Length + SymmetricState.HashLength;

    /// <summary>
    /// psk = HKDF-BLAKE2s(salt = "meshagent join v1 psk", ikm = secret), first output block
    /// (<see cref="WireGuardKdf.Kdf1"/>: extract with the label as HMAC key, one expand step).
    /// The label keeps this key apart from every other use of the secret (the token id hashes it
    /// with another label).
    /// </summary>
    public static void DerivePsk(ReadOnlySpan<byte> secret, Span<byte> psk)
    {
        if (psk.Length != PskSize)
        {
            throw new ArgumentException($"the join PSK is {PskSize} bytes, got {psk.Length}", nameof(psk));
        }

        WireGuardKdf.Kdf1(PskLabel, secret, psk);
    }

    /// <summary>
    /// Prologue: mixed into h before the first message, so both sides must agree on the network
    /// (a token for another network fails to decrypt) and on the session id in the clear header
    /// (rewriting it breaks the handshake).
    /// </summary>
    public static void WritePrologue(ReadOnlySpan<byte> networkRootPublicKey, uint sessionId, Span<byte> prologue)
    {
        if (networkRootPublicKey.Length != JoinToken.KeySize)
        {
            throw new ArgumentException($"the network root key is {JoinToken.KeySize} bytes, got {networkRootPublicKey.Length}", nameof(networkRootPublicKey));
        }

        PrologueLabel.CopyTo(prologue);
        networkRootPublicKey.CopyTo(prologue[PrologueLabel.Length..]);
        BinaryPrimitives.WriteUInt32BigEndian(prologue[(PrologueLabel.Length + JoinToken.KeySize)..], sessionId);
    }

    /// <summary>The message the joiner's identity key signs: a domain label and the final handshake hash.</summary>
    public static void WriteProofMessage(ReadOnlySpan<byte> handshakeHash, Span<byte> message)
    {
        ProofLabel.CopyTo(message);
        handshakeHash.CopyTo(message[ProofLabel.Length..]);
    }
}
