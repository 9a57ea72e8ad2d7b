namespace MeshAgent.Core.Config;

/// <summary>
/// Something the parser accepted but changed or found suspicious (host bits masked, a key given
/// twice, an AllowedIPs prefix claimed by two peers). The caller logs these; they never fail a load.
/// </summary>
public sealed record ConfigWarning(string SourceName, int? Line, string Message)
{
    public override string ToString() => Line is int line ? $"line {line}: {Message}" : Message;
}
