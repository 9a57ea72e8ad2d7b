namespace MeshAgent.Tests.Api;

internal static class FileModes
{
    /// <summary>The permission bits of <paramref name="path"/> (these tests run on Linux only).</summary>
    public static UnixFileMode Of(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("Unix file modes");
        }

        return File.GetUnixFileMode(path);
    }
}
