using System.Net;

namespace MeshAgent.Engine.Routing;

/// <summary>One entry of an <see cref="AllowedIpsTable{TPeer}"/>: a prefix (host bits zero) and its owner.</summary>
public readonly record struct AllowedIp<TPeer>(IPNetwork Prefix, TPeer Peer)
    where TPeer : class;
