using Xunit;

namespace MeshAgent.Integration.Tests.Harness;

/// <summary>
/// Every test that builds namespaces or starts peers joins this collection
/// (<c>[Collection(NetnsCollection.Name)]</c>): its tests run one at a time and not alongside
/// other collections, so a 2-core machine is not overloaded and timing-sensitive tests
/// (handshakes, NAT timeouts) stay deterministic.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetnsCollection
{
    public const string Name = "netns";
}
