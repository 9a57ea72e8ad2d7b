using System.Net;
using MeshAgent.Engine.Paths;

namespace MeshAgent.Tests.Paths;

/// <summary>The agent's own NAT mapping from one round of STUN answers.</summary>
public sealed class NatMappingClassifierTests
{
    private static readonly IPEndPoint Relay = IPEndPoint.Parse("198.51.100.1:3478");
    private static readonly IPEndPoint Member = IPEndPoint.Parse("203.0.113.7:41820");
    private static readonly IPEndPoint[] Local = [IPEndPoint.Parse("10.1.0.10:41820")];

    [Fact]
    public void Two_servers_seeing_one_mapping_is_endpoint_independent_and_different_ones_dependent()
    {
        Assert.Equal(NatMapping.EndpointIndependent, NatMappingClassifier.Classify(
            [(Relay, IPEndPoint.Parse("192.0.2.1:41820")), (Member, IPEndPoint.Parse("192.0.2.1:41820"))], Local));
        Assert.Equal(NatMapping.EndpointDependent, NatMappingClassifier.Classify(
            [(Relay, IPEndPoint.Parse("192.0.2.1:51000")), (Member, IPEndPoint.Parse("192.0.2.1:62001"))], Local));
    }

    [Fact]
    public void A_server_that_sees_our_own_address_means_no_nat_even_with_one_answer_and_mapped_forms()
    {
        IPEndPoint mapped = new(IPAddress.Parse("203.0.113.10").MapToIPv6(), 41820);
        Assert.Equal(NatMapping.None, NatMappingClassifier.Classify([(Relay, mapped)], [IPEndPoint.Parse("203.0.113.10:41820")]));
    }

    [Fact]
    public void One_answer_or_none_or_one_server_twice_is_unknown()
    {
        Assert.Equal(NatMapping.Unknown, NatMappingClassifier.Classify([], Local));
        Assert.Equal(NatMapping.Unknown, NatMappingClassifier.Classify([(Relay, IPEndPoint.Parse("192.0.2.1:41820"))], Local));
        IPEndPoint relayMapped = new(Relay.Address.MapToIPv6(), Relay.Port);
        Assert.Equal(NatMapping.Unknown, NatMappingClassifier.Classify(
            [(Relay, IPEndPoint.Parse("192.0.2.1:1")), (relayMapped, IPEndPoint.Parse("192.0.2.1:2"))], Local));
    }
}
