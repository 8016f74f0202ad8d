using System.Text.Json.Serialization;
using FaceStream.Application.Enrollment;
using FaceStream.Watchlist.Store;

namespace FaceStream.Worker.Api;

// The bodies of the watchlist API's answers. Member names are the wire names (snake_case), fixed here so that the
// JSON stays what clients already read, whatever the host's naming policy.

/// <summary>An identity with its templates (GET /api/identities[/{id}], POST /api/identities).</summary>
public sealed record IdentityAnswer(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string> Metadata,
    [property: JsonPropertyName("created")] DateTimeOffset Created,
    [property: JsonPropertyName("updated")] DateTimeOffset Updated,
    [property: JsonPropertyName("templates")] IReadOnlyList<TemplateAnswer> Templates)
{
    public static IdentityAnswer Of(IdentityRecord i, IReadOnlyList<TemplateRecord> templates) =>
        new(i.Id, i.Name, i.Metadata, i.CreatedAt, i.UpdatedAt, templates.Select(TemplateAnswer.Of).ToList());
}

/// <summary>One enrolled template, without its vector.</summary>
public sealed record TemplateAnswer(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("model_id")] string ModelId,
    [property: JsonPropertyName("dimension")] int Dimension,
    [property: JsonPropertyName("quality")] double Quality,
    [property: JsonPropertyName("created")] DateTimeOffset Created,
    [property: JsonPropertyName("has_crop")] bool HasCrop)
{
    public static TemplateAnswer Of(TemplateRecord t) => new(t.Id, t.ModelId, t.Dimension, Math.Round(t.Quality, 3), t.CreatedAt, t.Crop is not null);
}

/// <summary>An accepted enrollment photo (POST /api/identities/{id}/faces, 201).</summary>
public sealed record EnrolledAnswer(
    [property: JsonPropertyName("template_id")] string? TemplateId,
    [property: JsonPropertyName("quality")] double Quality,
    [property: JsonPropertyName("face")] int Face,
    [property: JsonPropertyName("note")] string? Note,
    [property: JsonPropertyName("faces")] IReadOnlyList<FaceSeenAnswer> Faces);

/// <summary>A face seen on an enrollment photo, numbered as it may be picked (also in a 422 problem's <c>faces</c>).</summary>
public sealed record FaceSeenAnswer(
    [property: JsonPropertyName("face")] int Face,
    [property: JsonPropertyName("box")] IReadOnlyList<double> Box,
    [property: JsonPropertyName("score")] double Score)
{
    public static FaceSeenAnswer Of(FaceSeen f) =>
        new(f.Number, new[] { f.Box.X1, f.Box.Y1, f.Box.X2, f.Box.Y2 }.Select(v => Math.Round(v, 1)).ToList(), Math.Round(f.Score, 4));
}
