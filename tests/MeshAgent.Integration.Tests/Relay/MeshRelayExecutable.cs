using System.Reflection;
using MeshAgent.Integration.Tests.StaticMode;

namespace MeshAgent.Integration.Tests.Relay;

/// <summary>
/// Finds the built <c>meshrelay</c> executable: next to the tests (the test project references the relay project),
/// else in the relay project's own output. Started through the same <c>dotnet</c> host as the tests.
/// </summary>
public static class MeshRelayExecutable
{
    private const string DllName = "meshrelay.dll";
    private const string RuntimeConfigName = "meshrelay.runtimeconfig.json";

    private static readonly Lazy<string> Dll = new(Locate);

    public static string DllPath => Dll.Value;

    /// <summary>The argument vector <c>dotnet …/meshrelay.dll <paramref name="arguments"/></c>.</summary>
    public static IReadOnlyList<string> Command(params string[] arguments) => [MeshAgentExecutable.DotnetHost, DllPath, .. arguments];

    private static string Locate()
    {
        var candidates = new List<string> { AppContext.BaseDirectory };
        string configuration = typeof(MeshRelayExecutable).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "relay", "MeshAgent.Relay", "MeshAgent.Relay.csproj")))
            {
                candidates.Add(Path.Combine(directory.FullName, "relay", "MeshAgent.Relay", "bin", configuration, "net10.0"));
                break;
            }
        }

        foreach (string candidate in candidates)
        {
            if (File.Exists(Path.Combine(candidate, DllName)) && File.Exists(Path.Combine(candidate, RuntimeConfigName)))
            {
                return Path.GetFullPath(Path.Combine(candidate, DllName));
            }
        }

        throw new FileNotFoundException(
            $"{DllName} with {RuntimeConfigName} not found in {string.Join(" or ", candidates)} — "
            + "build the relay first (dotnet build tests/MeshAgent.Integration.Tests, which builds relay/MeshAgent.Relay too)");
    }
}
