namespace MeshAgent.Core.Config;

/// <summary>
/// Thrown by <see cref="WgQuickConfig.Parse"/> when the text has errors. The message lists every
/// error with its line number; <see cref="Errors"/> has them as data.
/// </summary>
public sealed class ConfigException : Exception
{
    // Enough to fix a file in one pass; a binary file fed by mistake would otherwise produce pages.
    private const int MaxErrorsInMessage = 50;

    public ConfigException(string sourceName, IReadOnlyList<ConfigError> errors)
        : base(FormatMessage(sourceName, errors))
    {
        SourceName = sourceName;
        Errors = errors;
    }

    public string SourceName { get; }

    public IReadOnlyList<ConfigError> Errors { get; }

    private static string FormatMessage(string sourceName, IReadOnlyList<ConfigError> errors)
    {
        var text = new System.Text.StringBuilder();
        text.Append(sourceName).Append(": ")
            .Append(errors.Count == 1 ? "1 error" : $"{errors.Count} errors")
            .Append(" in WireGuard configuration; fix the lines below and load it again");
        for (int i = 0; i < errors.Count && i < MaxErrorsInMessage; i++)
        {
            text.Append('\n').Append("  ").Append(errors[i]);
        }

        if (errors.Count > MaxErrorsInMessage)
        {
            text.Append('\n').Append("  … and ").Append(errors.Count - MaxErrorsInMessage).Append(" more");
        }

        return text.ToString();
    }
}
