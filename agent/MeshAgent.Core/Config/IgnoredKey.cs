namespace MeshAgent.Core.Config;

/// <summary>
/// A wg-quick(8) key that we accept so existing files load, but do not act upon (DNS, Table, the
/// Pre/Post Up/Down hooks, SaveConfig, FwMark). The caller should warn that it has no effect.
/// </summary>
/// <param name="Line">1-based line number.</param>
/// <param name="Key">The key as the documentation spells it (e.g. "PostUp"), whatever case the file used.</param>
/// <param name="Value">The value; for hooks the text after '=' including any '#', as wg-quick passes it to bash.</param>
public sealed record IgnoredKey(int Line, string Key, string Value)
{
    public override string ToString() => $"line {Line}: {Key} is ignored by meshagent";
}
