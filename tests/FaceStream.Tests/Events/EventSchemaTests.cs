using System.Text.Json.Nodes;
using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Tests.Support;
using FaceStream.Worker.Events;
using Xunit;

namespace FaceStream.Tests.Events;

/// <summary>Every kind of event, as EventJson writes it, conforms to docs/event.schema.json; fields the schema does not document are refused.</summary>
public class EventSchemaTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 2, 1, 0, 0, TimeSpan.Zero);

    private static readonly DetectedFace Face = new(new BoxF(10, 10, 110, 110), 0.99f, new Landmarks5(new(40, 50), new(80, 50), new(60, 70), new(45, 90), new(75, 90)));

    /// <summary>What FaceAttributeAnalyzer gives a face: every attribute, with its model and whether it is experimental.</summary>
    internal static EventAttributes Described(Gender gender = Gender.Female) => new(
        new FaceAttributes(new AgeEstimate(34.26f), new GenderEstimate(gender, 0.93f, gender == Gender.Male ? 0.93f : 0.07f), new HeadPose(-12.3f, 4.56f, 7.8f),
            new ExpressionEstimate("happy", [new("angry", 0.01f), new("happy", 0.9f), new("neutral", 0.09f)]), new EyeStateEstimate(EyeState.Open, 0.1f, 0.2f)),
        [new("age", "faceres-gender-age", true), new("gender", "faceres-gender-age", false), new("pose", "hopenet-lite-pose", true),
            new("expression", "densenet-expression", true), new("eyes", "faceplugin-eye-state", true)]);

    private static MatchEvent Match(EventAttributes? attributes) =>
        new(Guid.NewGuid(), "door", 7, "alice", "Alice A", 0.81f, 0.3f, Face, At, TimeSpan.FromSeconds(3), At.AddSeconds(1), "m") { Attributes = attributes };

    private static UnknownEvent Unknown(EventAttributes? attributes) =>
        new(Guid.NewGuid(), "door", 8, 0.2f, 0.01f, Face, At, TimeSpan.FromSeconds(3), At.AddSeconds(1), "m") { Attributes = attributes };

    [Fact]
    public void Match_unknown_and_camera_state_events_conform_with_and_without_attributes()
    {
        FaceEvent[] events =
        [
            Match(Described()), Match(null), Unknown(Described(Gender.Male)), Unknown(null) with { Snapshot = "file:///tmp/s.jpg" },
            new CameraStateEvent(Guid.NewGuid(), "door", At, "stalled", "no frame for 10 s"),
        ];
        foreach (var e in events)
        {
            var json = EventJson.Serialize(e);
            Assert.True(EventSchema.Violations(json) is [], $"{json}\n{string.Join("\n", EventSchema.Violations(json))}");
        }
    }

    [Fact]
    public void The_attributes_are_written_with_their_models_and_the_experimental_ones_and_null_when_absent()
    {
        var with = JsonNode.Parse(EventJson.Serialize(Match(Described())))!["attributes"]!;
        Assert.Equal("female", (string)with["gender"]!);
        Assert.Equal(34.3, (double)with["age"]!, 6);
        Assert.Equal(-12.3, (double)with["pose"]!["yaw"]!, 6);
        Assert.Equal("open", (string)with["eyes"]!);
        Assert.Equal("hopenet-lite-pose", (string)with["models"]!["pose"]!);
        Assert.Equal(["age", "pose", "expression", "eyes"], with["experimental"]!.AsArray().Select(n => (string)n!));

        var without = JsonNode.Parse(EventJson.Serialize(Unknown(null)))!.AsObject();
        Assert.True(without.ContainsKey("attributes"));
        Assert.Null(without["attributes"]);
    }

    [Theory]
    [InlineData("attributes", "gender", "unknown")]
    [InlineData("attributes", "mood", "\"calm\"")]
    [InlineData(null, "colour", "\"red\"")]
    public void Values_or_fields_the_schema_does_not_document_are_refused(string? inside, string field, string value)
    {
        var json = JsonNode.Parse(EventJson.Serialize(Match(Described())))!.AsObject();
        var target = inside is null ? json : json[inside]!.AsObject();
        target[field] = JsonNode.Parse(value.StartsWith('"') ? value : $"\"{value}\"");

        Assert.NotEmpty(EventSchema.Violations(json.ToJsonString()));
    }

    [Fact]
    public void A_match_without_the_attributes_field_is_refused()
    {
        var json = JsonNode.Parse(EventJson.Serialize(Match(null)))!.AsObject();
        json.Remove("attributes");

        Assert.NotEmpty(EventSchema.Violations(json.ToJsonString()));
    }
}
