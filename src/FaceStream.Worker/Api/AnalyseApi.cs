using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FaceStream.Inference;
using FaceStream.Inference.Attributes;
using FaceStream.Media.Images;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace FaceStream.Worker.Api;

/// <summary>
/// POST /api/analyse: an image in (raw body or a multipart form with one file), every face with its attributes out,
/// in the shape of `facestream attributes --json` (width, height, faces [box, score, landmarks, age, gender, …], ms).
/// Behind the API's bearer token and the same upload limits as enrollment.
/// </summary>
public static class AnalyseApi
{
    public static void Map(IEndpointRouteBuilder app, FaceEngine engine, ApiOptions options, UploadGate gate, UploadScheduler cpu)
    {
        var limits = ImageLimits.Default with { MaxPixels = options.MaxImagePixels };
        WatchlistApi.Group(app, options).ProducesAccessProblems().MapPost("/analyse", async Task<Results<ContentHttpResult, ApiProblem>> (HttpRequest request, CancellationToken cancel) =>
        {
            var image = request.ContentLength > options.MaxUploadBytes ? null : await WatchlistApi.ReadUpload(request, options.MaxUploadBytes);
            if (image is null)
            {
                return ApiProblems.Of(413, $"upload larger than {options.MaxUploadBytes} bytes");
            }

            if (image.Length == 0)
            {
                return ApiProblems.BadRequest("no image: send the image as the body, or a multipart form with one file");
            }

            var (refusal, slot) = await WatchlistApi.Admit(image, options, gate, cancel);
            using var held = slot;
            if (refusal is not null)
            {
                return refusal;
            }

            try
            {
                // CPU-bound: on the upload threads, below the cameras' priority.
                string json = await cpu.Run(() => Analyse(engine, StillImageDecoder.Decode(image, "upload", limits)), cancel);
                return TypedResults.Text(json, "application/json", Encoding.UTF8);
            }
            catch (ImageDecodeException e)
            {
                return ApiProblems.Of(422, e.Message);
            }
        })
        // The body is written by the same code as `facestream attributes --json` (EventJson.WriteFace and the attributes).
        .Produces(StatusCodes.Status200OK, contentType: "application/json")
        .ProducesProblem(400).ProducesProblem(413).ProducesProblem(422).ProducesProblem(429);
    }

    private static string Analyse(FaceEngine engine, Core.Imaging.ImageFrame image)
    {
        var sw = Stopwatch.StartNew();
        var faces = engine.Detector.Detect(image);
        var attributes = engine.Attributes.Analyze(image, faces);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("width", image.Width);
            w.WriteNumber("height", image.Height);
            w.WriteStartArray("faces");
            for (int i = 0; i < faces.Count; i++)
            {
                w.WriteStartObject();
                Events.EventJson.WriteFace(w, faces[i]);
                FaceAttributesJson.Write(w, attributes[i], engine.Attributes.Sources);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("ms", Math.Round(sw.Elapsed.TotalMilliseconds, 1));
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
