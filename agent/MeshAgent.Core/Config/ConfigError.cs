namespace MeshAgent.Core.Config;

/// <summary>
/// One problem found while reading a configuration file. <see cref="Line"/> is 1-based, or null
/// for problems that belong to no single line (for example a missing section).
/// </summary>
/// <param name="SourceName">File name or other label the text came from, for messages.</param>
/// <param name="Line">1-based line number, or null.</param>
/// <param name="Message">What is wrong, with which input, and what to do, without the line prefix.</param>
public sealed record ConfigError(string SourceName, int? Line, string Message)
{
    /// <summary>"line 7: message", or the bare message when there is no line.</summary>
    public override string ToString() => Line is int line ? $"line {line}: {Message}" : Message;
}
