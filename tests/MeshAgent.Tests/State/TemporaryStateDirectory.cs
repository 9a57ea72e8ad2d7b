using System.Runtime.Versioning;

// Not MeshAgent.Tests.State: a namespace of that name would hide the TrustFixtures.State() helper that
// the Trust tests import with `using static` (namespaces win over static imports in name lookup).
namespace MeshAgent.Tests.StateFiles;

/// <summary>A fresh directory under the system temp dir, deleted (with everything in it) on Dispose.</summary>
[SupportedOSPlatform("linux")]
internal sealed class TemporaryStateDirectory : IDisposable
{
    public TemporaryStateDirectory()
    {
        Root = Directory.CreateTempSubdirectory("meshagent-state-").FullName;
    }

    /// <summary>The temp directory itself (exists).</summary>
    public string Root { get; }

    /// <summary>A state directory path inside <see cref="Root"/> that does not exist yet.</summary>
    public string StatePath => Path.Combine(Root, "state");

    public string File(string name) => Path.Combine(StatePath, name);

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
