using System.Reflection;

namespace MeshAgent.Integration.Tests.StaticMode;

/// <summary>
/// Finds the built <c>meshagent</c> executable. The test project references the exe project, so
/// <c>meshagent.dll</c> and <c>meshagent.runtimeconfig.json</c> are copied next to the tests; if
/// they are not (another build layout), the exe project's own output
/// (agent/MeshAgent/bin/&lt;Configuration&gt;/net10.0) is used. It is started through the
/// <c>dotnet</c> host, never an apphost, so the same runtime runs the tests and the agent.
/// </summary>
public static class MeshAgentExecutable
{
    private const string DllName = "meshagent.dll";
    private const string RuntimeConfigName = "meshagent.runtimeconfig.json";

    private static readonly Lazy<string> Dll = new(Locate);

    /// <summary>Absolute path of meshagent.dll; throws with what to build when it cannot be found.</summary>
    public static string DllPath => Dll.Value;

    /// <summary>The <c>dotnet</c> host that runs the tests (DOTNET_HOST_PATH, set by the dotnet CLI), else the one in PATH.</summary>
    public static string DotnetHost
        => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Harness.Requirements.FindInPath("dotnet") ?? "dotnet";

    /// <summary>The argument vector <c>dotnet …/meshagent.dll <paramref name="arguments"/></c>.</summary>
    public static IReadOnlyList<string> Command(params string[] arguments) => [DotnetHost, DllPath, .. arguments];

    private static string Locate()
    {
        var candidates = new List<string> { AppContext.BaseDirectory };
        string configuration = typeof(MeshAgentExecutable).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "agent", "MeshAgent", "MeshAgent.csproj")))
            {
                candidates.Add(Path.Combine(directory.FullName, "agent", "MeshAgent", "bin", configuration, "net10.0"));
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
            + "build the agent first (dotnet build tests/MeshAgent.Integration.Tests, which builds agent/MeshAgent too)");
    }
}
