using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace FaceStream.Inference.Runtime;

/// <summary>Creates ONNX Runtime sessions on the configured execution provider, and nothing else.</summary>
public sealed class OnnxSessionFactory
{
    private readonly InferenceOptions _options;
    private readonly ILogger _log;
    private bool _logged;

    public OnnxSessionFactory(InferenceOptions options, ILogger? log = null)
    {
        var errors = options.Validate().ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors));
        }

        _options = options;
        _log = log ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    }

    /// <summary>The provider every session of this factory runs on (exported as a metric label by the worker).</summary>
    public string ProviderInUse => _options.ExecutionProvider;

    public InferenceSession Create(string modelPath, string optimization = "all") => Create(File.ReadAllBytes(modelPath), Path.GetFileName(modelPath), optimization);

    /// <param name="memoryArena">
    /// False for a model whose input size varies without bound and whose caller does not bound it: ONNX Runtime's CPU
    /// arena keeps its high-water mark for the life of the session, so one huge image would pin its peak in the worker
    /// for good (P-Net bounds its runs instead: <c>MtcnnOptions.PNetArenaPixels</c>).
    /// </param>
    public InferenceSession Create(byte[] model, string name, string optimization = "all", bool memoryArena = true)
    {
        var so = new SessionOptions
        {
            EnableCpuMemArena = memoryArena,
            IntraOpNumThreads = _options.IntraOpNumThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = optimization switch
            {
                "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
            // Some vendor graphs list initializers as inputs; ORT warns once per tensor at WARNING level.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try
        {
            AppendProvider(so);
            var session = new InferenceSession(model, so);
            if (!_logged)
            {
                _logged = true;
                _log.LogInformation("ONNX Runtime {Version}: execution provider in use: {Provider} (intra-op threads {Threads})",
                    OrtEnv.Instance().GetVersionString(), _options.ExecutionProvider, _options.IntraOpNumThreads);
            }

            return session;
        }
        catch (OnnxRuntimeException e)
        {
            so.Dispose();
            throw new InvalidOperationException($"ONNX Runtime cannot load model {name}: {e.Message}", e);
        }
    }

    private void AppendProvider(SessionOptions so)
    {
        switch (_options.ExecutionProvider)
        {
            case "cpu":
                return;
            case "cuda":
                try
                {
                    so.AppendExecutionProvider_CUDA(_options.DeviceId);
                }
                catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
                {
                    throw new ExecutionProviderException(
                        $"execution provider 'cuda' is configured but cannot be loaded ({e.GetType().Name}: {e.Message}). " +
                        "This build ships the CPU ONNX Runtime (Microsoft.ML.OnnxRuntime); a CUDA build needs " +
                        "Microsoft.ML.OnnxRuntime.Gpu.Linux plus the matching CUDA/cuDNN libraries. Set Inference:ExecutionProvider=cpu to run on the CPU.", e);
                }

                return;
            case "directml":
                throw new ExecutionProviderException(
                    "execution provider 'directml' is configured, but DirectML exists only on Windows and its ONNX Runtime package " +
                    "(Microsoft.ML.OnnxRuntime.DirectML) is not available to this build. Set Inference:ExecutionProvider=cpu.");
            default:
                throw new ExecutionProviderException($"unknown execution provider '{_options.ExecutionProvider}'");
        }
    }
}
