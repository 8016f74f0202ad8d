using FaceStream.Core.Attributes;
using FaceStream.Core.Faces;
using FaceStream.Core.Geometry;
using FaceStream.Core.Imaging;
using FaceStream.Inference.Models;
using FaceStream.Inference.Runtime;

namespace FaceStream.Inference.Attributes;

/// <summary>A face's 468 mesh points in image pixels (MediaPipe's numbering) and the mesh model's face-presence score (0–1).</summary>
public sealed record FaceMesh(PointF[] Points, float FaceScore);

/// <summary>
/// Eye state from MediaPipe's 468-point face mesh (human-models' facemesh.json, imported from TF.js): a 192×192 RGB
/// crop (v/255) of side <see cref="CropPerFaceBox"/> × the larger side of MTCNN's face box, centred on the box and
/// turned so MTCNN's eye line is level (as @vladmandic/human's facemesh.ts enlarges its detector's box by 1.5 and
/// levels it on the eyes); the model gives 468 (x, y, z) points in crop pixels and a face-presence score.
/// </summary>
/// <remarks>
/// Openness = eye aspect ratio: the mean of three upper-to-lower lid gaps over the corner-to-corner distance. The mesh
/// numbers the subject's right eye (the one on the image's left) 33 (outer corner) / 133 (inner), lids 160/144,
/// 159/145, 158/153; the subject's left eye 362 (inner) / 263 (outer), lids 385/380, 386/374, 387/373. A face reads
/// "closed" only when both eyes are under <see cref="ClosedBelow"/> (chosen on labelled faces, docs/attributes.md).
/// </remarks>
public sealed class FacemeshEyeState(ModelStore store, OnnxSessionFactory factory, string modelId = FacemeshEyeState.DefaultModel, float closedBelow = FacemeshEyeState.ClosedBelow) : IEyeStateClassifier
{
    public const string DefaultModel = "mediapipe-facemesh";

    /// <summary>
    /// Openness under which an eye reads closed when the mesh is used alone: the highest threshold that called none of
    /// the 425 open faces closed (4 of 9 ORL shut-eye photos caught; docs/attributes.md, "Closed eyes from three models together").
    /// </summary>
    public const float ClosedBelow = 0.16f;

    /// <summary>Crop side over the face box's larger side (@vladmandic/human's enlargeBox default).</summary>
    public const float CropPerFaceBox = 1.5f;

    public const int MeshPoints = 468;

    /// <summary>Corners then three lid pairs (upper, lower) of the eye on the image's left (the subject's right).</summary>
    public static readonly int[] ImageLeftEye = [33, 133, 160, 144, 159, 145, 158, 153];

    /// <summary>Corners then three lid pairs (upper, lower) of the eye on the image's right (the subject's left).</summary>
    public static readonly int[] ImageRightEye = [362, 263, 385, 380, 386, 374, 387, 373];

    private readonly AttributeNetwork _net = new(store, factory, modelId, "face-mesh");

    public string ModelId => _net.Model.Id;

    /// <summary>Each face's mesh, mapped back to image pixels.</summary>
    public IReadOnlyList<FaceMesh> Mesh(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces)
    {
        var crops = faces.Select(f => _net.Levelled(f.Face.Box, f.Face.Landmarks, CropPerFaceBox)).ToArray();
        var outputs = _net.Run(faces.Count, (i, chip) => _net.Fill(faces[i].Image, crops[i], chip), "mesh", "face");
        return Enumerable.Range(0, faces.Count).Select(i =>
        {
            var back = crops[i].Inverse();
            var raw = outputs[0][i];
            var points = new PointF[MeshPoints];
            for (int p = 0; p < MeshPoints; p++)
            {
                points[p] = back.Apply(new PointF(raw[3 * p], raw[(3 * p) + 1]));
            }

            return new FaceMesh(points, outputs[1][i][0]);
        }).ToList();
    }

    public IReadOnlyList<EyeStateEstimate> Estimate(IReadOnlyList<(ImageFrame Image, DetectedFace Face)> faces) => Mesh(faces).Select(Read).ToList();

    /// <summary>Both eyes' openness from a mesh, and the face's state under this classifier's threshold.</summary>
    public EyeStateEstimate Read(FaceMesh mesh)
    {
        float left = Openness(mesh.Points, ImageLeftEye), right = Openness(mesh.Points, ImageRightEye);
        bool leftClosed = left < closedBelow, rightClosed = right < closedBelow;
        return new EyeStateEstimate(leftClosed && rightClosed ? EyeState.Closed : EyeState.Open, leftClosed ? 1 : 0, rightClosed ? 1 : 0, left, right);
    }

    /// <summary>One eye's aspect ratio: mean lid gap over corner distance (<paramref name="eye"/>: <see cref="ImageLeftEye"/> or <see cref="ImageRightEye"/>).</summary>
    public static float Openness(IReadOnlyList<PointF> mesh, int[] eye)
    {
        if (mesh.Count < MeshPoints)
        {
            throw new ArgumentException($"expected {MeshPoints} mesh points, got {mesh.Count}");
        }

        float gap = 0;
        for (int k = 2; k < eye.Length; k += 2)
        {
            gap += Distance(mesh[eye[k]], mesh[eye[k + 1]]);
        }

        return gap / ((eye.Length - 2) / 2) / MathF.Max(1e-3f, Distance(mesh[eye[0]], mesh[eye[1]]));
    }

    private static float Distance(PointF a, PointF b) => MathF.Sqrt(((a.X - b.X) * (a.X - b.X)) + ((a.Y - b.Y) * (a.Y - b.Y)));

    public void Dispose() => _net.Dispose();
}
