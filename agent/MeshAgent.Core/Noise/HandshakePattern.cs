namespace MeshAgent.Core.Noise;

/// <summary>Noise spec §7 message tokens.</summary>
public enum Token : byte
{
    E,
    S,
    EE,
    ES,
    SE,
    SS,
    Psk,
}

/// <summary>
/// A Noise handshake pattern (spec §7): pre-messages and message token sequences. Only the
/// patterns MeshAgent uses are defined; the state machine itself is generic over tokens.
/// </summary>
public sealed class HandshakePattern
{
    private HandshakePattern(string name, bool initiatorPreMessageS, bool responderPreMessageS, Token[][] messages)
    {
        Name = name;
        InitiatorPreMessageStatic = initiatorPreMessageS;
        ResponderPreMessageStatic = responderPreMessageS;
        Messages = messages;
        IsPskMode = messages.Any(m => m.Contains(Token.Psk));
    }

    public string Name { get; }

    /// <summary>"-> s" before the "...": the initiator's static key is known to the responder.</summary>
    public bool InitiatorPreMessageStatic { get; }

    /// <summary>"&lt;- s" before the "...": the responder's static key is known to the initiator.</summary>
    public bool ResponderPreMessageStatic { get; }

    /// <summary>Messages alternate initiator→responder, responder→initiator, ...</summary>
    public IReadOnlyList<Token[]> Messages { get; }

    /// <summary>Spec §9.2: in a psk handshake every "e" token also calls MixKey(e.pub).</summary>
    public bool IsPskMode { get; }

    /// <summary>
    /// IK: &lt;- s ... -&gt; e, es, s, ss  &lt;- e, ee, se. With the psk2 modifier a "psk" token
    /// ends the second message. This is WireGuard's handshake (whitepaper §5.4).
    /// </summary>
    public static HandshakePattern IKpsk2 { get; } = new(
        "IKpsk2",
        initiatorPreMessageS: false,
        responderPreMessageS: true,
        [
            [Token.E, Token.ES, Token.S, Token.SS],
            [Token.E, Token.EE, Token.SE, Token.Psk],
        ]);

    /// <summary>
    /// NK: &lt;- s ... -&gt; e, es  &lt;- e, ee. With the psk2 modifier a "psk" token ends the
    /// second message (spec §9.4). The join exchange (MeshAgent.Core.Invitations.JoinProtocol)
    /// uses it: the joiner knows the inviter's static key from the join token but has no key the
    /// inviter knows, and the responder learns which PSK applies only from the first message.
    /// </summary>
    public static HandshakePattern NKpsk2 { get; } = new(
        "NKpsk2",
        initiatorPreMessageS: false,
        responderPreMessageS: true,
        [
            [Token.E, Token.ES],
            [Token.E, Token.EE, Token.Psk],
        ]);
}
