namespace MeshAgent.Tests.Dns;

/// <summary>Loads the hex vectors of Vectors/Dns (see the README there): '#' lines are comments, whitespace is ignored.</summary>
internal static class DnsVectors
{
    public static byte[] Load(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Vectors", "Dns", name + ".hex");
        string hex = string.Concat(File.ReadLines(path)
            .Where(line => !line.TrimStart().StartsWith('#'))
            .SelectMany(line => line.Where(c => !char.IsWhiteSpace(c))));
        return Convert.FromHexString(hex);
    }

    public static IEnumerable<string> All() =>
        Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Vectors", "Dns"), "*.hex")
            .Select(p => Path.GetFileNameWithoutExtension(p)!)
            .Order(StringComparer.Ordinal);
}
