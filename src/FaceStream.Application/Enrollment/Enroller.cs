using FaceStream.Core.Attributes;
using FaceStream.Core.Embeddings;
using FaceStream.Core.Faces;
using FaceStream.Core.Imaging;
using FaceStream.Core.Matching;
using FaceStream.Core.Quality;
using FaceStream.Media.Images;
using FaceStream.Watchlist.Store;

namespace FaceStream.Application.Enrollment;

/// <summary>Config section "Enrollment": what a photo must be to become a template.</summary>
public sealed class EnrollmentOptions
{
    public const string Section = "Enrollment";

    /// <summary>Gates for enrollment photos (larger, clearer faces than for camera views: a bad template hurts every later search).</summary>
    /// <remarks>
    /// Pose limits measured on 373 real portraits (docs/benchmarks.md, "Enrollment on real photos"): the pitch proxy of
    /// frontal faces has a median of +0.09 and a smile pushes it to 0.3–0.38 (the mouth corners rise), so 0.25 refused
    /// 18 frontal, mostly smiling portraits; |yaw| 0.35–0.40 were portraits turned by 25–40° with both eyes visible,
    /// beyond 0.40 three-quarter views and profiles, which stay refused.
    /// </remarks>
    public QualityOptions Quality { get; set; } = new() { MinFaceSize = 60, MinScore = 0.95f, MinSharpness = 20, MaxYaw = 0.40f, MaxPitch = 0.40f };

    /// <summary>Keep a JPEG crop of each enrolled face so templates can be recomputed for another model (biometric data: see README).</summary>
    public bool KeepCrops { get; set; } = true;

    /// <summary>Largest upload or file accepted.</summary>
    public int MaxImageBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// A photo with several faces is enrolled without being told which one when its largest face's box has at least
    /// this many times the area of the next (background people, a face-like pattern); otherwise it is refused with the
    /// faces listed. Measured on real photos: docs/benchmarks.md, "Enrollment on real photos".
    /// </summary>
    public float DominantAreaRatio { get; set; } = 2.5f;

    /// <summary>
    /// When no face is found in a photo, look again with this share of its width and height added on every side
    /// (edge pixels repeated); 0 = no second look. MTCNN misses some faces that fill the photo (a tight headshot, no
    /// context around the face); measured in docs/benchmarks.md, "Enrollment on real photos".
    /// </summary>
    public float RetryPadding { get; set; } = 0.25f;

    /// <summary>
    /// Refuse a face whose eyes read closed (three eye models agreeing; measured in docs/attributes.md, "Closed eyes
    /// from three models together"); a photo can still be enrolled with `enroll --allow-closed-eyes` or the API's
    /// <c>allowClosedEyes</c> field.
    /// </summary>
    public bool RefuseClosedEyes { get; set; } = true;

    public IEnumerable<string> Validate()
    {
        if (!(DominantAreaRatio >= 1) || DominantAreaRatio > 100)
        {
            yield return $"{Section}:DominantAreaRatio = {DominantAreaRatio} must be between 1 and 100";
        }

        if (!(RetryPadding >= 0) || RetryPadding > 1)
        {
            yield return $"{Section}:RetryPadding = {RetryPadding} must be between 0 and 1";
        }
    }
}

/// <summary>Outcome for one photo: a template, or the reason it was refused.</summary>
public sealed record EnrollResult(string Source, bool Accepted, string? TemplateId, string? Reason, float Quality)
{
    /// <summary>The faces seen, numbered as they may be picked (largest first); empty when none or not decoded.</summary>
    public IReadOnlyList<FaceSeen> Faces { get; init; } = [];

    /// <summary>Number of the chosen face in <see cref="Faces"/>; 0 when refused before one was chosen.</summary>
    public int Face { get; init; }

    /// <summary>What the user should know besides the verdict, e.g. the smaller faces that were ignored.</summary>
    public string? Note { get; init; }
}

/// <summary>A checked, embedded enrollment photo not stored yet.</summary>
public sealed record PreparedTemplate(string ModelId, float[] Vector, float Quality, byte[]? Crop, DetectedFace Face);

/// <summary>One face found in a still image and what the watchlist says about it.</summary>
public sealed record IdentifiedFace(DetectedFace Face, bool Known, Identity? Identity, float Similarity, float Margin);

/// <summary>Turns photos into templates (one usable face each: the dominant one or the one picked) and answers 1:N questions about photos.</summary>
/// <param name="eyes">Reads whether the chosen face's eyes are closed (<see cref="EnrollmentOptions.RefuseClosedEyes"/>); null: not checked.</param>
public sealed class Enroller(IFaceEncoder encoder, IWatchlistStore store, EnrollmentOptions options, IEyeStateClassifier? eyes = null)
{
    /// <summary>How a closed-eye refusal says it can be overridden (the CLI flag and the API field).</summary>
    public const string ClosedEyesOverride = "enroll --allow-closed-eyes, or allowClosedEyes=true in the API";

    // Margin around the face box kept in the stored crop, so re-embedding can detect and align the face again.
    private const float CropMargin = 0.5f;
    private const int CropJpegQuality = 90;

    /// <summary>Enrols one photo for an existing identity; a refused photo returns its reason and stores nothing.</summary>
    public async Task<EnrollResult> EnrollAsync(string identityId, byte[] image, string source, CancellationToken cancel = default) =>
        await EnrollAsync(identityId, image, source, FacePick.Dominant, cancel);

    /// <summary>Enrols the picked face of one photo; a refused photo returns its reason and stores nothing.</summary>
    public async Task<EnrollResult> EnrollAsync(string identityId, byte[] image, string source, FacePick pick, CancellationToken cancel = default, ImageLimits? limits = null, bool allowClosedEyes = false)
    {
        var (result, template) = Prepare(image, source, pick, limits, allowClosedEyes);
        if (template is null)
        {
            return result;
        }

        var stored = await store.AddTemplateAsync(identityId, template.ModelId, template.Vector, template.Quality, template.Crop, cancel);
        return result with { TemplateId = stored.Id };
    }

    /// <summary>Checks and embeds a photo's dominant face without storing anything: the template to store, or the refusal.</summary>
    public (EnrollResult Result, PreparedTemplate? Template) Prepare(byte[] image, string source) => Prepare(image, source, FacePick.Dominant);

    /// <summary>Checks and embeds the picked face of a photo without storing anything: the template to store, or the refusal.</summary>
    /// <param name="allowClosedEyes">Enrol the face even when its eyes read closed.</param>
    public (EnrollResult Result, PreparedTemplate? Template) Prepare(byte[] image, string source, FacePick pick, ImageLimits? limits = null, bool allowClosedEyes = false)
    {
        if (image.Length > options.MaxImageBytes)
        {
            return (new EnrollResult(source, false, null, $"{image.Length} bytes is over the {options.MaxImageBytes}-byte limit", 0), null);
        }

        ImageFrame frame;
        try
        {
            frame = StillImageDecoder.Decode(image, source, limits);
        }
        catch (ImageDecodeException e)
        {
            return (new EnrollResult(source, false, null, e.Message, 0), null);
        }

        var choice = SubjectSelector.Choose(Detect(frame), pick, options.DominantAreaRatio);
        if (choice.Face is not { } face)
        {
            return (new EnrollResult(source, false, null, choice.Refusal, 0) { Faces = choice.Seen }, null);
        }

        var report = FaceQuality.Assess(frame, face, options.Quality, new float[options.Quality.SharpnessCropSize * options.Quality.SharpnessCropSize]);
        if (!report.Passed)
        {
            // With several faces the refused one may not be the one meant (a large low-score detection on clothing):
            // list them all so the user can pick.
            string reason = choice.Seen.Count == 1 ? Refusal(report) : $"face #{choice.Number} of {choice.Seen.Count}: {Refusal(report)}; faces seen: {string.Join("; ", choice.Seen)}";
            return (new EnrollResult(source, false, null, reason, report.Quality) { Faces = choice.Seen, Face = choice.Number, Note = choice.Note }, null);
        }

        if (options.RefuseClosedEyes && !allowClosedEyes && eyes?.Estimate([(frame, face)])[0] is { State: EyeState.Closed } shut)
        {
            string reason = FormattableString.Invariant($"eyes closed ({eyes.ModelId}: eyelid openness {shut.LeftOpenness:0.00} / {shut.RightOpenness:0.00}); use a photo with open eyes, or enrol it anyway with {ClosedEyesOverride}");
            return (new EnrollResult(source, false, null, choice.Seen.Count == 1 ? reason : $"face #{choice.Number} of {choice.Seen.Count}: {reason}", report.Quality) { Faces = choice.Seen, Face = choice.Number, Note = choice.Note }, null);
        }

        var embedding = encoder.Embed(frame, face);
        var crop = options.KeepCrops ? FaceAnnotator.EncodeJpeg(ImageCrop.Around(frame, face.Box, CropMargin), CropJpegQuality) : null;
        var accepted = new EnrollResult(source, true, null, null, report.Quality) { Faces = choice.Seen, Face = choice.Number, Note = choice.Note };
        return (accepted, new PreparedTemplate(embedding.ModelId, embedding.Vector, report.Quality, crop, face));
    }

    /// <summary>The faces in a photo, in its coordinates; a photo without any is searched again padded (<see cref="EnrollmentOptions.RetryPadding"/>).</summary>
    private IReadOnlyList<DetectedFace> Detect(ImageFrame frame)
    {
        var faces = encoder.Detect(frame);
        if (faces.Count > 0 || options.RetryPadding <= 0)
        {
            return faces;
        }

        var padded = StillImageDecoder.PadReplicate(frame, options.RetryPadding);
        float dx = (padded.Width - frame.Width) / 2f, dy = (padded.Height - frame.Height) / 2f;
        return encoder.Detect(padded).Select(f => f.Shifted(-dx, -dy)).ToList();
    }

    /// <summary>Stores a prepared template.</summary>
    public async Task<string> StoreAsync(string identityId, PreparedTemplate t, CancellationToken cancel = default) =>
        (await store.AddTemplateAsync(identityId, t.ModelId, t.Vector, t.Quality, t.Crop, cancel)).Id;

    /// <summary>Every face in the image with the open-set decision (same rule as the worker, one view).</summary>
    /// <remarks>Detections whose landmarks cannot be a face's are left out: they would be reported as unknown people.</remarks>
    public IReadOnlyList<IdentifiedFace> Identify(ImageFrame image, GalleryIndex index, float threshold, float margin)
    {
        var faces = encoder.DetectAndEmbed(image, LandmarkGeometry.IsPlausible);
        return faces.Select(f =>
        {
            var vote = OpenSetRule.Judge(index.Search(f.Embedding.Vector, 2), threshold, margin, 1);
            return new IdentifiedFace(f.Face, vote.Identity is not null, vote.Identity, vote.Similarity, vote.Margin);
        }).ToList();
    }

    /// <summary>Recomputes templates of other models from their stored crops with the running embedder. Returns (redone, impossible).</summary>
    public async Task<(int Redone, int Impossible)> ReembedAsync(IProgress<(int Done, int Total)>? progress = null, CancellationToken cancel = default)
    {
        var identities = await store.ListIdentitiesAsync(cancel);
        var stale = new List<TemplateRecord>();
        foreach (var identity in identities)
        {
            stale.AddRange((await store.ListTemplatesAsync(identity.Id, cancel)).Where(t => t.ModelId != encoder.ModelId));
        }

        int redone = 0, impossible = 0, done = 0;
        foreach (var t in stale)
        {
            var face = t.Crop is null ? null : encoder.SubjectFaceOf(StillImageDecoder.Decode(t.Crop, $"template {t.Id}"));
            if (face is null)
            {
                impossible++;
            }
            else
            {
                await store.ReplaceTemplateAsync(t with { ModelId = face.Embedding.ModelId, Vector = face.Embedding.Vector }, cancel);
                redone++;
            }

            progress?.Report((++done, stale.Count));
        }

        return (redone, impossible);
    }

    private static string Refusal(QualityReport r) => r.Rejection switch
    {
        GateRejection.Size => $"face too small ({r.Size:0} px; at least the enrollment minimum is needed)",
        GateRejection.Score => $"face not clear enough (detector score {r.Score:0.00})",
        GateRejection.Yaw => $"head turned sideways (yaw proxy {r.Yaw:0.00}); use a frontal photo",
        GateRejection.Pitch => $"head tilted up or down (pitch proxy {r.Pitch:0.00}); use a frontal photo",
        GateRejection.Blur => $"photo too blurred (sharpness {r.Sharpness:0}); use a sharper photo",
        GateRejection.Geometry => "the detected landmarks are not a face's",
        _ => "face not usable",
    };
}
