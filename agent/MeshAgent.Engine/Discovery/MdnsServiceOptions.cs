using MeshAgent.Core.Dns;
using MeshAgent.Core.Trust;

namespace MeshAgent.Engine.Discovery;

/// <summary>
/// What <see cref="MdnsService"/> publishes and how it browses. Check with <see cref="Validate"/>
/// (the service constructor does, and throws with every problem listed).
/// </summary>
public sealed class MdnsServiceOptions
{
    /// <summary>DNS-SD instance label: the node name (RFC 6763 §4.1.1: any UTF-8, cut to 63 bytes). Required.</summary>
    public required string InstanceName { get; init; }

    /// <summary>Host label of the SRV target "&lt;HostName&gt;.local". Default: the machine name made a valid label (<see cref="MdnsNames.HostLabelFromMachineName"/>).</summary>
    public string HostName { get; init; } = MdnsNames.HostLabelFromMachineName(Environment.MachineName);

    /// <summary>The agent's UDP port, published in the SRV record. Required.</summary>
    public required int Port { get; init; }

    /// <summary>TXT "net=": <see cref="MdnsNetworkTag.Compute"/> of the root public key. Peers with another tag are ignored. Required.</summary>
    public required string NetworkTag { get; init; }

    /// <summary>TXT "node=": our node public key as text ("meshnode1:…"). Our own records heard back are recognised by it. Required.</summary>
    public required string NodePublicKeyText { get; init; }

    /// <summary>Probe, announce and answer for our service (default true).</summary>
    public bool Publish { get; init; } = true;

    /// <summary>Query for other agents and report them (default true).</summary>
    public bool Browse { get; init; } = true;

    /// <summary>First interval between browse queries; it doubles after each (RFC 6762 §5.2: at least 1 s). Default 1 s.</summary>
    public TimeSpan BrowseInitialInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Cap of the browse interval (RFC 6762 §5.2: 60 minutes). Default 60 min.</summary>
    public TimeSpan BrowseMaxInterval { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>Most records kept from other responders; more are dropped and counted (a busy LAN cannot grow memory without bound). Default 1024.</summary>
    public int MaxCacheEntries { get; init; } = 1024;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Source of the random delays RFC 6762 asks for (probe start, shared answers, refresh jitter). Default: a new unseeded <see cref="System.Random"/>.</summary>
    public Random? Random { get; init; }

    /// <summary>Every problem, each prefixed with its option name; empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(InstanceName))
        {
            problems.Add($"{nameof(InstanceName)}: empty; use the node name");
        }

        if (!DnsName.TryFromLabels([MdnsNames.TruncateLabel(HostName ?? ""), "local"], out _, out string? error)
            || !NodeName.IsValid(HostName))
        {
            problems.Add($"{nameof(HostName)}: '{HostName}' is not a host label ({error ?? NodeName.Describe(HostName)}); use a-z, 0-9 and '-', as in RFC 1123");
        }

        if (Port is < 1 or > 65535)
        {
            problems.Add($"{nameof(Port)}: {Port} is not a UDP port (1-65535)");
        }

        if (!MdnsNetworkTag.IsWellFormed(NetworkTag))
        {
            problems.Add($"{nameof(NetworkTag)}: '{NetworkTag}' is not 16 lower-case hex characters; compute it with MdnsNetworkTag.Compute(root public key)");
        }

        if (!NodePublicKey.TryParse(NodePublicKeyText ?? "", out _))
        {
            problems.Add($"{nameof(NodePublicKeyText)}: '{NodePublicKeyText}' is not a node public key ({NodePublicKey.TextPrefix}…)");
        }

        if (BrowseInitialInterval < TimeSpan.FromSeconds(1))
        {
            problems.Add($"{nameof(BrowseInitialInterval)}: {BrowseInitialInterval} is below 1 s (RFC 6762 §5.2)");
        }

        if (BrowseMaxInterval < BrowseInitialInterval)
        {
            problems.Add($"{nameof(BrowseMaxInterval)}: {BrowseMaxInterval} is below {nameof(BrowseInitialInterval)} {BrowseInitialInterval}");
        }

        if (MaxCacheEntries < 16)
        {
            problems.Add($"{nameof(MaxCacheEntries)}: {MaxCacheEntries} is too small to follow even a few peers (at least 16)");
        }

        return problems;
    }
}
