namespace MeshAgent.Engine.Mesh;

/// <summary>How the daemon runs one mesh node. Defaults are the systemd service's (DESIGN §8).</summary>
public sealed class MeshNodeOptions
{
    /// <summary>The default UDP port: one port carries WireGuard, join, STUN and relay traffic (DESIGN §2).</summary>
    public const int DefaultListenPort = 41820;

    public string StateDirectory { get; init; } = "/var/lib/meshagent";

    /// <summary>TUN interface name (at most 15 characters).</summary>
    public string InterfaceName { get; init; } = "mesh0";

    /// <summary>UDP port; 0 picks a free one (tests).</summary>
    public int ListenPort { get; init; } = DefaultListenPort;

    /// <summary>Journal-friendly log lines (one event per line).</summary>
    public TextWriter Log { get; init; } = TextWriter.Null;

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
