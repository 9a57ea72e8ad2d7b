using System.Text.Json;
using System.Text.Json.Serialization;

namespace MeshAgent.Engine.State;

/// <summary>
/// Source-generated (trimming- and AOT-safe) JSON for the state files: camelCase, indented so an
/// operator can read them, nullable annotations enforced, byte arrays as base64 (the default).
/// Unknown properties are skipped so a same-format file with an additive field still loads.
/// Metadata mode: the generated fast-path serializer writes a null byte[] as "" instead of null
/// (dotnet/runtime#129833, fixed after .NET 10), which would turn a used invitation's absent secret into an
/// empty one. The state files are small and rare; the fast path buys nothing here.
/// </summary>
[JsonSourceGenerationOptions(
    GenerationMode = JsonSourceGenerationMode.Metadata,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(NodeState))]
[JsonSerializable(typeof(FormatProbe))]
[JsonSerializable(typeof(InvitationsDocument))]
internal sealed partial class StateJsonContext : JsonSerializerContext;

/// <summary>Only the format number, read before anything else so a newer file is refused for the right reason.</summary>
internal sealed record FormatProbe
{
    public int? Format { get; init; }
}

/// <summary>Reading of versioned JSON state files with errors that name the file and the next step.</summary>
internal static class StateJson
{
    /// <summary>
    /// Checks the format number of <paramref name="utf8"/> (the content of <paramref name="path"/>) and
    /// returns null when the file is fine to deserialize, or the reason it is damaged.
    /// </summary>
    /// <exception cref="StateException">the file was written by a newer meshagent.</exception>
    public static string? CheckFormat(string path, ReadOnlySpan<byte> utf8, int currentFormat)
    {
        if (utf8.IsEmpty)
        {
            return "it is empty";
        }

        FormatProbe? probe;
        try
        {
            probe = JsonSerializer.Deserialize(utf8, StateJsonContext.Default.FormatProbe);
        }
        catch (JsonException e)
        {
            return $"it is not a JSON object with a format number ({e.Message})";
        }

        if (probe?.Format is not int format)
        {
            return "it has no \"format\" number";
        }

        if (format > currentFormat)
        {
            throw new StateException($"{path} was written by a newer meshagent (format {format}; this version reads up to format {currentFormat}) — upgrade meshagent");
        }

        return format < 1 ? $"its format number {format} is not valid" : null;
    }
}
