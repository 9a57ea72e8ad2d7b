using System.Reflection;
using System.Xml.Linq;

namespace MeshAgent.Tests.Architecture;

/// <summary>
/// Keeps references one-way (DESIGN §1, STYLE rule 15): Core ← Engine ← executables (meshagent, meshrelay).
/// Checked twice: on the compiled assemblies and on the project files, so a reference that
/// the compiler optimised away is still caught.
/// </summary>
public sealed class LayeringTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["MeshAgent.Core"] = [],
        ["MeshAgent.Engine"] = ["MeshAgent.Core"],
        ["meshagent"] = ["MeshAgent.Core", "MeshAgent.Engine"],
        ["meshrelay"] = ["MeshAgent.Core", "MeshAgent.Engine"],
    };

    [Fact]
    public void Compiled_assemblies_reference_only_lower_layers()
    {
        Assembly[] assemblies =
        [
            typeof(MeshAgent.Core.Noise.HandshakeState).Assembly,
            typeof(MeshAgent.Engine.WireGuard.WireGuardDevice).Assembly,
            Assembly.Load("meshagent"),
            Assembly.Load("meshrelay"),
        ];

        foreach (Assembly assembly in assemblies)
        {
            string name = assembly.GetName().Name!;
            string[] ours = assembly.GetReferencedAssemblies()
                .Select(a => a.Name!)
                .Where(n => n.StartsWith("MeshAgent", StringComparison.Ordinal) || n == "meshagent")
                .ToArray();
            string[] forbidden = ours.Except(Allowed[name]).ToArray();
            Assert.True(forbidden.Length == 0, $"{name} must not reference {string.Join(", ", forbidden)} (allowed: {string.Join(", ", Allowed[name])})");
        }
    }

    [Fact]
    public void Project_files_reference_only_lower_layers()
    {
        string root = FindRepositoryRoot();
        var projects = new Dictionary<string, string>
        {
            ["MeshAgent.Core"] = Path.Combine(root, "agent", "MeshAgent.Core", "MeshAgent.Core.csproj"),
            ["MeshAgent.Engine"] = Path.Combine(root, "agent", "MeshAgent.Engine", "MeshAgent.Engine.csproj"),
            ["meshagent"] = Path.Combine(root, "agent", "MeshAgent", "MeshAgent.csproj"),
            ["meshrelay"] = Path.Combine(root, "relay", "MeshAgent.Relay", "MeshAgent.Relay.csproj"),
        };

        foreach ((string name, string path) in projects)
        {
            string[] references = XDocument.Load(path).Descendants("ProjectReference")
                .Select(e => Path.GetFileNameWithoutExtension(e.Attribute("Include")!.Value))
                .Select(n => n switch { "MeshAgent" => "meshagent", "MeshAgent.Relay" => "meshrelay", _ => n })
                .ToArray();
            string[] forbidden = references.Except(Allowed[name]).ToArray();
            Assert.True(forbidden.Length == 0, $"{path} must not reference {string.Join(", ", forbidden)}");
        }

        // The relay (when it exists) may use Core and Engine, never the agent executable.
        string relay = Path.Combine(root, "relay");
        if (Directory.Exists(relay))
        {
            foreach (string project in Directory.GetFiles(relay, "*.csproj", SearchOption.AllDirectories))
            {
                Assert.DoesNotContain(XDocument.Load(project).Descendants("ProjectReference"),
                    e => e.Attribute("Include")!.Value.Contains("MeshAgent.csproj", StringComparison.Ordinal));
            }
        }
    }

    private static string FindRepositoryRoot()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "MeshAgent.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("MeshAgent.sln not found above " + AppContext.BaseDirectory);
    }
}
