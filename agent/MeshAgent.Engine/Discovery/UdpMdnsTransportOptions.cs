namespace MeshAgent.Engine.Discovery;

/// <summary>Options of <see cref="UdpMdnsTransport"/>.</summary>
public sealed class UdpMdnsTransportOptions
{
    /// <summary>Interfaces never used, by name. Default: "mesh0", the agent's TUN device (set it to the configured name).</summary>
    public IReadOnlyList<string> ExcludedInterfaces { get; init; } = ["mesh0"];

    /// <summary>
    /// Lists candidate interfaces; the excluded ones are removed from its answer. Default:
    /// <see cref="MdnsInterfaces.Enumerate"/> in the calling thread's network namespace. Tests that
    /// run the transport inside another namespace pass a source that enumerates there.
    /// </summary>
    public Func<IReadOnlyList<MdnsInterface>>? InterfaceSource { get; init; }

    /// <summary>How often interfaces are listed again to follow links and addresses that come and go. Default 5 s.</summary>
    public TimeSpan InterfacePollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Also run over IPv6 (ff02::fb). Default true; without a working IPv6 stack the transport runs IPv4 only.</summary>
    public bool UseIpv6 { get; init; } = true;
}
