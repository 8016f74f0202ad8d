using System.Text.Json;
using Json.Schema;

namespace FaceStream.Tests.Support;

/// <summary>docs/event.schema.json, the published event contract, as a validator.</summary>
internal static class EventSchema
{
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromFile(Path.Combine(TestAssets.RepositoryRoot, "docs", "event.schema.json")));

    /// <summary>Every way <paramref name="json"/> breaks the schema, as "location: message"; empty when it conforms.</summary>
    public static IReadOnlyList<string> Violations(string json)
    {
        using var document = JsonDocument.Parse(json);
        var result = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid)
        {
            return [];
        }

        return (result.Details ?? []).Prepend(result)
            .SelectMany(d => (d.Errors ?? []).Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Value}"))
            .ToList();
    }
}
