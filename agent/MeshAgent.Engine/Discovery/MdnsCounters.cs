namespace MeshAgent.Engine.Discovery;

/// <summary>
/// What <see cref="MdnsService"/> has seen and done, for metrics. Updated under the service's lock;
/// reads from other threads may be a moment stale.
/// </summary>
public sealed class MdnsCounters
{
    public long PacketsReceived { get; internal set; }

    /// <summary>Datagrams that are not DNS messages (DnsMessage.TryRead failed).</summary>
    public long MalformedPackets { get; internal set; }

    /// <summary>Datagrams ignored by RFC 6762 rules: non-zero opcode or rcode (§18.3, §18.11), a response not from port 5353 or from off the link (§11), an interface we do not run on.</summary>
    public long IgnoredPackets { get; internal set; }

    public long PacketsSent { get; internal set; }

    public long SendErrors { get; internal set; }

    /// <summary>Answers withheld because the querier listed them as known (RFC 6762 §7.1) or another responder sent them first (§7.4).</summary>
    public long SuppressedAnswers { get; internal set; }

    /// <summary>Name conflicts that made us pick a new name (RFC 6762 §9).</summary>
    public long Conflicts { get; internal set; }

    /// <summary>Simultaneous probes we lost and retried after 1 s (RFC 6762 §8.2).</summary>
    public long ProbeTieBreaksLost { get; internal set; }

    /// <summary>Instances of _meshagent._udp seen with another network's tag (counted once per instance name).</summary>
    public long ForeignNetworkInstances { get; internal set; }

    /// <summary>Instances whose TXT record lacks v=1 or a valid node key (counted once per instance name).</summary>
    public long InvalidInstances { get; internal set; }

    /// <summary>Records not cached because the cache was full.</summary>
    public long CacheFull { get; internal set; }
}
