namespace MeshAgent.Engine.Paths;

/// <summary>
/// What a <see cref="PathManager"/> asks its host (the agent, or a test's simulated network) to do.
/// Every call is made synchronously on the manager's thread and must not call back into the manager
/// (queue deliveries instead). Sending is best effort: loss is expected and handled by the manager.
/// </summary>
public interface IPathActions
{
    /// <summary>
    /// Seal <c>PathPing{txid, sentAt}</c> in the peer's session and send the datagram along
    /// <paramref name="path"/>: for a direct path to its endpoint from its local socket, for a relay
    /// path inside a relay envelope.
    /// </summary>
    void SendPing(PathAddress path, PathTxId txid);

    /// <summary>
    /// Answer a ping: seal <c>PathPong{txid, observedSource}</c> and send it back along
    /// <paramref name="path"/>, where the ping came from (same local socket). The observed source is
    /// <paramref name="path"/>'s endpoint for a direct path, the empty endpoint for a relayed one.
    /// </summary>
    void SendPong(PathAddress path, PathTxId txid);

    /// <summary>Send a call-me-maybe control frame along <paramref name="path"/> (the path that works now: the relay, or the current direct path).</summary>
    void SendCallMeMaybe(PathAddress path, CallMeMaybe message);

    /// <summary>
    /// From now on the data plane sends this peer's traffic along <paramref name="path"/> (a direct
    /// path from its socket, or a relay). <see langword="null"/>: no path is usable (no relay is known
    /// and no direct path is confirmed); the data plane may drop or queue. Called only on a change.
    /// </summary>
    void SwitchPath(PathAddress? path);

    /// <summary>
    /// Hard-NAT probing: open up to <paramref name="count"/> extra UDP sockets on fresh local ports,
    /// each able to send and receive this peer's session datagrams; they become sockets 1..n of
    /// <see cref="PathAddress.Socket"/>. Returns n, the number actually opened (0 if none could be).
    /// </summary>
    int OpenProbeSockets(int count);

    /// <summary>
    /// Close the probe sockets, except <paramref name="keepSocket"/> (0: close all) which now carries
    /// the peer's direct path and must stay open, receiving, for as long as that path is in use.
    /// </summary>
    void CloseProbeSockets(int keepSocket);
}
