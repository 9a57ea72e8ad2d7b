using System.Net;
using MeshAgent.Engine.Paths;

namespace MeshAgent.Engine.Nat;

/// <summary>What <see cref="NatProbe.DetectMappingAsync"/> found, with both queries' results.</summary>
public sealed record NatMappingReport(NatMapping Mapping, StunResult First, StunResult Second)
{
    /// <summary>One sentence for `meshagent netcheck` and logs.</summary>
    public override string ToString() => Mapping switch
    {
        NatMapping.EndpointIndependent =>
            $"endpoint-independent mapping: {First.Server} and {Second.Server} both saw {First.ReflexiveEndPoint}",
        NatMapping.EndpointDependent =>
            $"endpoint-dependent mapping (symmetric NAT): {First.Server} saw {First.ReflexiveEndPoint}, {Second.Server} saw {Second.ReflexiveEndPoint} "
            + "— direct paths to peers behind such NATs will need a relay",
        NatMapping.UdpBlocked =>
            $"no UDP: neither {First.Server} nor {Second.Server} answered ({First.Transmissions} and {Second.Transmissions} requests) "
            + "— UDP is blocked here or both servers are down; peers will be reached through a relay over TCP",
        _ => $"mapping unknown: only one server gave a mapping ({First}; {Second})",
    };
}

/// <summary>NAT behaviour checks built on <see cref="StunClient"/> queries.</summary>
public static class NatProbe
{
    /// <summary>
    /// Classifies the mapping of the client's socket by asking two servers at once and comparing
    /// the reflexive endpoints (the mapping test of RFC 5780 §4.3 without its OTHER-ADDRESS step,
    /// so it works with any two plain STUN servers). Give servers on different IP addresses: a
    /// NAT whose mapping depends on the destination address but not its port looks
    /// endpoint-independent to two ports of one address. Both queries go out from the client's one
    /// socket, concurrently, each bounded by the client's timeout.
    /// </summary>
    /// <exception cref="ArgumentException">The two servers are the same endpoint.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<NatMappingReport> DetectMappingAsync(
        StunClient client, IPEndPoint serverA, IPEndPoint serverB, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(serverA);
        ArgumentNullException.ThrowIfNull(serverB);
        if (serverA.Equals(serverB))
        {
            throw new ArgumentException(
                $"the mapping check needs two different STUN servers, got {serverA} twice; pass servers on different IP addresses", nameof(serverB));
        }

        Task<StunResult> first = client.QueryAsync(serverA, cancellationToken);
        Task<StunResult> second = client.QueryAsync(serverB, cancellationToken);
        StunResult a = await first.ConfigureAwait(false);
        StunResult b = await second.ConfigureAwait(false);

        NatMapping mapping = (a.IsSuccess, b.IsSuccess) switch
        {
            (true, true) => a.ReflexiveEndPoint!.Equals(b.ReflexiveEndPoint) ? NatMapping.EndpointIndependent : NatMapping.EndpointDependent,
            (false, false) when a.Status == StunResultStatus.Timeout && b.Status == StunResultStatus.Timeout => NatMapping.UdpBlocked,
            _ => NatMapping.Unknown,
        };
        return new NatMappingReport(mapping, a, b);
    }
}
