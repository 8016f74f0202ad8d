using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace FaceStream.Cli;

/// <summary>
/// The options every command takes (declared once, on the root command, and inherited by every subcommand), the
/// options several commands share, and typed options whose bad values are usage errors naming the option and value.
/// </summary>
public static class CliOptions
{
    public static readonly Option<string?> Models = GlobalText("--models", "DIR",
        "Models directory (default: ./models found upward, or $FACESTREAM_MODELS)");

    public static readonly Option<string?> Config = GlobalText("--config", "FILE",
        "Settings file (default: config/facestream.json found upward)");

    public static readonly Option<string?> Provider = GlobalText("--provider", "NAME",
        "Execution provider: cpu (default), cuda, directml");

    public static readonly Option<string?> Embedder = GlobalText("--embedder", "ID",
        "Embedder: mobilefacenet-192+faceplugin-arcface-512 (default, an ensemble), mobilefacenet-192 (≈ 2× faster), faceplugin-arcface-512 or faceapi-resnet-128; models joined by '+' are an ensemble");

    public static readonly Option<int?> Threads = OptionalInt("--threads", 0, 256, "N", "Parallel detector threads (0 = one per core)", recursive: true);

    public static readonly Option<int?> MinFace = OptionalInt("--min-face", 12, 4096, "PX", "Smallest face to find (default 20; 40 is about 2× faster)", recursive: true);

    /// <summary>Options for every command; they override the config file.</summary>
    public static IReadOnlyList<Option> Global { get; } = [Models, Config, Provider, Embedder, Threads, MinFace];

    public static readonly Option<bool> Json = new("--json") { Description = "One JSON object per line on stdout (a stable contract for scripts; logs stay on stderr)" };

    public static readonly Option<string?> Watchlist = new("--watchlist")
    {
        Description = "The watchlist: memory: | redis://[user[:password]@]host:port[/db] (default: Watchlist:Uri from the config)",
        HelpName = "URI",
    };

    public static readonly Option<string?> Markdown = new("--markdown") { Description = "Also write the results table to FILE", HelpName = "FILE" };

    /// <summary>A text option every command takes.</summary>
    private static Option<string?> GlobalText(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName, Recursive = true };

    /// <summary>An integer option that may be left out (null), else between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static Option<int?> OptionalInt(string name, int min, int max, string helpName, string description, bool recursive = false) => new(name)
    {
        Description = description,
        HelpName = helpName,
        Recursive = recursive,
        CustomParser = r => ParseInt(r, name, min, max),
    };

    /// <summary>An integer option between <paramref name="min"/> and <paramref name="max"/> with a default shown in the help.</summary>
    public static Option<int> Int(string name, int min, int max, int defaultValue, string helpName, string description) => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => ParseInt(r, name, min, max) ?? defaultValue,
    };

    /// <summary>A number option that may be left out (null), else finite and between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static Option<float?> OptionalFloat(string name, float min, float max, string helpName, string description) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = r => ParseFloat(r, name, min, max),
    };

    /// <summary>A number option between <paramref name="min"/> and <paramref name="max"/> with a default shown in the help.</summary>
    public static Option<float> Float(string name, float min, float max, float defaultValue, string helpName, string description) => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => ParseFloat(r, name, min, max) ?? defaultValue,
    };

    /// <summary>A comma-separated list of counts, e.g. 1,2,4, each between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static Option<IReadOnlyList<int>> Counts(string name, int min, int max, string defaultValue, string description) => new(name)
    {
        Description = description,
        HelpName = "N,N,…",
        DefaultValueFactory = _ => ParseCounts(defaultValue)!,
        CustomParser = r =>
        {
            var counts = ParseCounts(r.Tokens[^1].Value);
            if (counts is null || counts.Count == 0 || counts.Any(n => n < min || n > max))
            {
                r.AddError($"{name} takes counts from {min} to {max}, e.g. {defaultValue}");
                return [];
            }

            return counts;
        },
    };

    /// <summary>The command line after the command names (options and arguments as given), for the "Command:" line of a benchmark report.</summary>
    public static string Arguments(ParseResult parse) =>
        string.Join(' ', parse.Tokens.Where(t => t.Type is not (TokenType.Command or TokenType.Directive)).Select(t => t.Value));

    private static int? ParseInt(ArgumentResult r, string name, int min, int max)
    {
        string v = r.Tokens[^1].Value;
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
        {
            r.AddError($"{name} must be an integer between {min} and {max} (got '{v}')");
            return null;
        }

        return n;
    }

    private static float? ParseFloat(ArgumentResult r, string name, float min, float max)
    {
        string v = r.Tokens[^1].Value;
        if (!float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float n) || !float.IsFinite(n) || n < min || n > max)
        {
            r.AddError($"{name} must be a number between {min} and {max} (got '{v}')");
            return null;
        }

        return n;
    }

    private static List<int>? ParseCounts(string v)
    {
        var counts = new List<int>();
        foreach (var part in v.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
            {
                return null;
            }

            counts.Add(n);
        }

        return counts;
    }
}
