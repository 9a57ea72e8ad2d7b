namespace MeshAgent.Core.Relay;

/// <summary>The type byte of a relay frame (offset 3 of the header, see <see cref="RelayProtocol"/>). 0 is invalid.</summary>
public enum RelayFrameType : byte
{
    /// <summary>Client → relay: "I am this node key, challenge me".</summary>
    ClientHello = 1,

    /// <summary>Relay → client: the relay's key, a nonce to sign, the relay's clock.</summary>
    Challenge = 2,

    /// <summary>Client → relay: certificate and signature over the challenge.</summary>
    Auth = 3,

    /// <summary>Relay → client: authenticated; here is the session token.</summary>
    Welcome = 4,

    /// <summary>Relay → client: authentication refused, with a <see cref="RelayRefusal"/>.</summary>
    Refused = 5,

    /// <summary>Client → relay: forward this payload to that node.</summary>
    Send = 6,

    /// <summary>Relay → client: a payload from that node.</summary>
    Recv = 7,

    /// <summary>Client → relay: keep my session (and my NAT mapping) alive.</summary>
    Keepalive = 8,

    /// <summary>Relay → client: answer to <see cref="Keepalive"/>; the session is alive.</summary>
    KeepaliveAck = 9,

    /// <summary>Relay → client: the destination of a Send is not connected to this relay (rate limited).</summary>
    UnknownPeer = 10,

    /// <summary>Relay → client: this token has no session here (expired, replaced, or sent from another endpoint): authenticate again.</summary>
    SessionUnknown = 11,

    /// <summary>Client → relay: a root-signed revocation the relay should enforce and keep.</summary>
    RevocationPush = 12,

    /// <summary>Joiner → relay, no session: a join message for the inviter (network root, inviter key). See <see cref="JoinSendFrame"/>.</summary>
    JoinSend = 13,

    /// <summary>Relay → member (the inviter): a joiner's join message, with the relay's channel id to answer on.</summary>
    JoinRecv = 14,

    /// <summary>Member → relay: the inviter's answer on a join channel.</summary>
    JoinReply = 15,

    /// <summary>Relay → joiner: the inviter's answer.</summary>
    JoinDeliver = 16,

    /// <summary>Relay → joiner: the inviter named in a JoinSend is not connected to this relay (rate limited).</summary>
    JoinUnreachable = 17,
}
