using System.Net;
using MeshAgent.Core.Net;

namespace MeshAgent.Engine.Paths;

/// <summary>
/// The agent's own NAT mapping behaviour from the STUN answers of one round of queries sent from its one UDP
/// socket (RFC 4787 §4.1; the mapping test of RFC 5780 §4.3 without OTHER-ADDRESS, so any STUN servers do —
/// the relays and public members). Published in call-me-maybes; decides who opens probe ports and who sprays.
/// </summary>
public static class NatMappingClassifier
{
    /// <summary>
    /// <list type="bullet">
    /// <item>a server saw one of <paramref name="localEndpoints"/>: <see cref="NatMapping.None"/> (we own that address);</item>
    /// <item>two or more servers answered: the same mapping for all → <see cref="NatMapping.EndpointIndependent"/>,
    /// different ones → <see cref="NatMapping.EndpointDependent"/>;</item>
    /// <item>otherwise (no answer, or one): <see cref="NatMapping.Unknown"/> — one answer cannot tell the two apart,
    /// and silence may be the servers' fault.</item>
    /// </list>
    /// IPv4-mapped and plain IPv4 forms compare equal.
    /// </summary>
    public static NatMapping Classify(IReadOnlyList<(IPEndPoint Server, IPEndPoint Mapped)> answers, IEnumerable<IPEndPoint> localEndpoints)
    {
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentNullException.ThrowIfNull(localEndpoints);
        if (answers.Count == 0)
        {
            return NatMapping.Unknown;
        }

        var local = localEndpoints.Select(e => e.Unmapped()).ToHashSet();
        if (answers.Any(a => local.Contains(a.Mapped.Unmapped())))
        {
            return NatMapping.None;
        }

        int servers = answers.Select(a => a.Server.Unmapped()).Distinct().Count();
        if (servers < 2)
        {
            return NatMapping.Unknown;
        }

        return answers.Select(a => a.Mapped.Unmapped()).Distinct().Count() == 1 ? NatMapping.EndpointIndependent : NatMapping.EndpointDependent;
    }

    /// <summary>Words for logs and status.</summary>
    public static string Describe(NatMapping mapping) => mapping switch
    {
        NatMapping.None => "none (public address)",
        NatMapping.EndpointIndependent => "endpoint-independent (easy NAT)",
        NatMapping.EndpointDependent => "endpoint-dependent (hard, symmetric NAT)",
        NatMapping.UdpBlocked => "UDP blocked",
        _ => "unknown",
    };
}
