using System.Globalization;

namespace MeshAgent.Tests.Support;

/// <summary>
/// Reads test-vector data files (STYLE rule 8). Format:
/// <code>
/// # comment lines (the header cites the source: RFC section, URL, commit)
/// name = value
/// other = 0011ff          (hex is read with <see cref="VectorCase.Hex"/>)
///
/// name = second case      (cases are separated by one or more blank lines)
/// </code>
/// Names are unique within a case. Values are trimmed; an empty value is allowed (e.g. an empty message).
/// Files live under <c>Vectors/</c> and are copied to the test output directory.
/// </summary>
public static class VectorFile
{
    public static IReadOnlyList<VectorCase> Load(params string[] relativePath)
    {
        string path = Path.Combine([AppContext.BaseDirectory, "Vectors", .. relativePath]);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"vector file {path} is missing: is it under tests/MeshAgent.Tests/Vectors/ (copied to the output directory)?", path);
        }

        return Parse(File.ReadAllLines(path), Path.GetFileName(path));
    }

    public static IReadOnlyList<VectorCase> Parse(IReadOnlyList<string> lines, string sourceName)
    {
        var cases = new List<VectorCase>();
        Dictionary<string, string>? fields = null;
        int caseLine = 0;

        for (int i = 0; i < lines.Count; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0)
            {
                Flush();
                continue;
            }

            if (line[0] == '#')
            {
                continue;
            }

            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"{sourceName}:{i + 1}: expected 'name = value', got '{line}'");
            }

            if (fields is null)
            {
                fields = new Dictionary<string, string>(StringComparer.Ordinal);
                caseLine = i + 1;
            }

            string name = line[..equals].Trim();
            string value = line[(equals + 1)..].Trim();
            if (!fields.TryAdd(name, value))
            {
                throw new FormatException($"{sourceName}:{i + 1}: '{name}' appears twice in the case that starts at line {caseLine}");
            }
        }

        Flush();
        if (cases.Count == 0)
        {
            throw new FormatException($"{sourceName}: no test cases found");
        }

        return cases;

        void Flush()
        {
            if (fields is not null)
            {
                cases.Add(new VectorCase(fields, $"{sourceName}:{caseLine}"));
                fields = null;
            }
        }
    }
}

/// <summary>One case of a vector file; <see cref="ToString"/> names the file and line for test output.</summary>
public sealed class VectorCase(IReadOnlyDictionary<string, string> fields, string location)
{
    public string Location { get; } = location;

    public bool Has(string name) => fields.ContainsKey(name);

    public string Text(string name) =>
        fields.TryGetValue(name, out string? value)
            ? value
            : throw new KeyNotFoundException($"{Location}: the case has no field '{name}' (fields: {string.Join(", ", fields.Keys)})");

    public byte[] Hex(string name)
    {
        string text = Text(name);
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{Location}: field '{name}' is not valid hex ({text.Length} characters)", e);
        }
    }

    public int Int(string name) => int.Parse(Text(name), NumberStyles.Integer, CultureInfo.InvariantCulture);

    public override string ToString() => Location;
}
