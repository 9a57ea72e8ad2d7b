namespace MeshAgent.Integration.Tests.Harness;

/// <summary>Behaviour of a <see cref="NatSite"/> router (terms of RFC 4787).</summary>
public enum NatType
{
    /// <summary>
    /// Endpoint-independent, port-preserving mapping ("masquerade" keeps the source port unless
    /// the tuple is taken); address- and port-dependent filtering ("port-restricted cone").
    /// </summary>
    Cone,

    /// <summary>Address- and port-dependent mapping: a random port per flow ("masquerade fully-random").</summary>
    Symmetric,

    /// <summary>As <see cref="Cone"/>, but outbound UDP is dropped (except to port 53): only TCP and ICMP leave.</summary>
    UdpBlocked,
}
