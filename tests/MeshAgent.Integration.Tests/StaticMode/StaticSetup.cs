using MeshAgent.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace MeshAgent.Integration.Tests.StaticMode;

/// <summary>
/// Two namespaces "a" and "b" on one veth link (10.200.1.1/.2, fd00:200:0:1::1/::2), a generated
/// <see cref="StaticConfigPair"/>, and the agents and wireguard-go peers a test adds. Disposal
/// stops those (without assertions) before the lab goes; <see cref="RunAsync"/> prints the
/// diagnostics of everything here when the test body fails.
/// </summary>
public sealed class StaticSetup : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly List<StaticAgent> _agents = [];
    private readonly List<WireGuardGoPeer> _wireGuardGo = [];

    private StaticSetup(ITestOutputHelper output, Lab lab, NetworkNamespace a, NetworkNamespace b, VethLink link, StaticConfigPair pair)
    {
        _output = output;
        Lab = lab;
        A = a;
        B = b;
        Link = link;
        Pair = pair;
    }

    public Lab Lab { get; }

    public NetworkNamespace A { get; }

    public NetworkNamespace B { get; }

    /// <summary>A's end is <see cref="VethLink.A"/>, B's is <see cref="VethLink.B"/>.</summary>
    public VethLink Link { get; }

    public StaticConfigPair Pair { get; }

    /// <summary>Every agent and wireguard-go process added so far: the ones that must stay up.</summary>
    public IReadOnlyList<ProcessHandle> Processes => [.. _agents.Select(a => a.Process), .. _wireGuardGo.Select(w => w.Process)];

    public static async Task<StaticSetup> CreateAsync(ITestOutputHelper output, string labelA = "a", string labelB = "b")
    {
        Lab lab = await Lab.CreateAsync(output);
        try
        {
            NetworkNamespace a = await lab.AddNamespaceAsync(labelA);
            NetworkNamespace b = await lab.AddNamespaceAsync(labelB);
            VethLink link = await lab.ConnectAsync(a, b);
            return new StaticSetup(output, lab, a, b, link, await StaticConfigPair.GenerateAsync());
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts meshagent in <paramref name="ns"/> (see <see cref="StaticAgent.StartAsync"/>) and owns it.</summary>
    public async Task<StaticAgent> StartAgentAsync(NetworkNamespace ns, string interfaceName, string wgQuickConfig)
    {
        StaticAgent agent = await StaticAgent.StartAsync(ns, interfaceName, wgQuickConfig);
        _agents.Add(agent);
        return agent;
    }

    /// <summary>Starts wireguard-go in <paramref name="ns"/> from a wg-quick file (see <see cref="WgQuickStrip.StartWireGuardGoAsync"/>) and owns it.</summary>
    public async Task<WireGuardGoPeer> StartWireGuardGoAsync(NetworkNamespace ns, string wgQuickConfig, string privateKey)
    {
        WireGuardGoPeer wg = await WgQuickStrip.StartWireGuardGoAsync(ns, wgQuickConfig, privateKey);
        _wireGuardGo.Add(wg);
        return wg;
    }

    /// <summary>Runs <paramref name="test"/>, printing addresses, routes and process output if it fails.</summary>
    public Task RunAsync(Func<Task> test)
        => TunnelChecks.WithDiagnosticsAsync(_output, () => Lab.Namespaces, () => Processes, test);

    public async ValueTask DisposeAsync()
    {
        foreach (StaticAgent agent in _agents)
        {
            await agent.DisposeAsync();
        }

        foreach (WireGuardGoPeer wg in _wireGuardGo)
        {
            await wg.DisposeAsync();
        }

        await Lab.DisposeAsync();
    }
}
