using System.Collections;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using FaceStream.Worker.Configuration;

namespace FaceStream.Tests.Support;

/// <summary>One configuration key: its path, its type in words, its default (from a freshly constructed options object) and its meaning.</summary>
public sealed record ConfigKey(string Section, string Key, string Type, string Default, string Meaning)
{
    public string Row => $"| `{Key}` | {Type} | {Default} | {Meaning} |";
}

/// <summary>
/// Every key the worker binds, found by walking <see cref="WorkerSettings"/>'s sections by reflection the way the strict
/// binder does (<c>ConfigKeys</c>): public settable properties, nested option objects, lists of option objects. The
/// meaning is the property's <c>&lt;summary&gt;</c> read from its source file, then <c>[Description]</c>, plus its <c>[Range]</c>.
/// </summary>
public static partial class ConfigKeyTable
{
    public const string Begin = "<!-- BEGIN generated key table: regenerate with FACESTREAM_UPDATE_DOCS=1 dotnet test FaceStream.sln -c Release --filter ConfigurationDocsTests -->";
    public const string End = "<!-- END generated key table -->";

    public static IReadOnlyList<ConfigKey> Keys()
    {
        var settings = new WorkerSettings();
        var keys = new List<ConfigKey>();
        foreach (var p in settings.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken))
        {
            var value = p.GetValue(settings)!;
            string? section = p.Name == WorkerSettings.CamerasSection ? WorkerSettings.CamerasSection
                : p.PropertyType.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string;
            // Nested sections (Detector:Mtcnn) are reached through their parent.
            if (section is not null && !section.Contains(':', StringComparison.Ordinal))
            {
                Walk(section, section, value, keys);
            }
        }

        return keys;
    }

    /// <summary>The Markdown between <see cref="Begin"/> and <see cref="End"/>: one table per section.</summary>
    public static string Markdown(IReadOnlyList<ConfigKey> keys)
    {
        var sb = new StringBuilder().Append(Begin).Append('\n');
        foreach (var section in keys.GroupBy(k => k.Section))
        {
            sb.Append('\n').Append("### ").Append(section.Key).Append("\n\n| key | type | default | meaning |\n|---|---|---|---|\n");
            foreach (var k in section)
            {
                sb.Append(k.Row).Append('\n');
            }
        }

        return sb.Append('\n').Append(End).ToString();
    }

    private static void Walk(string section, string prefix, object options, List<ConfigKey> keys)
    {
        if (options is IList list)
        {
            // A list of option objects (Cameras): each item has the keys of a new one.
            Walk(section, prefix + ":<n>", Activator.CreateInstance(list.GetType().GetGenericArguments()[0])!, keys);
            return;
        }

        // Base-class properties first (a camera's video settings, then its own), each class in declaration order.
        var properties = options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0)
            .OrderBy(p => Depth(p.DeclaringType!)).ThenBy(p => p.MetadataToken);
        foreach (var p in properties)
        {
            var type = p.PropertyType;
            bool isOptions = type.IsClass && type.Namespace?.StartsWith("FaceStream", StringComparison.Ordinal) == true;
            bool isOptionsList = type.IsGenericType && typeof(IList).IsAssignableFrom(type) && type.GetGenericArguments()[0].Namespace?.StartsWith("FaceStream", StringComparison.Ordinal) == true;
            if (isOptions || isOptionsList)
            {
                Walk(section, $"{prefix}:{p.Name}", p.GetValue(options)!, keys);
            }
            else if (p.SetMethod?.IsPublic == true)
            {
                keys.Add(new ConfigKey(section, $"{prefix}:{p.Name}", TypeName(type), Format(p.GetValue(options)), Meaning(p)));
            }
        }
    }

    private static int Depth(Type t) => t.BaseType is null ? 0 : 1 + Depth(t.BaseType);

    private static string TypeName(Type t)
    {
        if (Nullable.GetUnderlyingType(t) is { } inner)
        {
            return TypeName(inner) + " or null";
        }

        if (t.IsEnum)
        {
            return string.Join(" / ", Enum.GetNames(t).Select(n => $"`{n}`"));
        }

        if (typeof(IDictionary).IsAssignableFrom(t))
        {
            return $"map of name → {TypeName(t.GetGenericArguments()[1])}";
        }

        return t == typeof(TimeSpan) ? "duration" : t == typeof(string) ? "string" : t == typeof(bool) ? "bool" : t == typeof(int) ? "int"
            : t == typeof(long) ? "long" : t == typeof(float) ? "float" : t == typeof(double) ? "double" : t.Name;
    }

    private static string Format(object? value) => value switch
    {
        null => "(unset)",
        "" => "(empty)",
        string s => $"`{s}`",
        bool b => b ? "`true`" : "`false`",
        TimeSpan t => $"`{Duration(t)}`",
        Enum e => $"`{e}`",
        IDictionary d => d.Count == 0 ? "(empty)" : string.Join(", ", d.Keys.Cast<object>().Select(k => $"`{k}`: {Format(d[k])}")),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => $"`{value}`",
    };

    /// <summary>"00:00:01.5" rather than "00:00:01.5000000"; whole seconds as "00:00:10".</summary>
    private static string Duration(TimeSpan t)
    {
        string c = t.ToString("c", CultureInfo.InvariantCulture);
        return c.Contains('.', StringComparison.Ordinal) ? c.TrimEnd('0') : c;
    }

    private static string Meaning(PropertyInfo p)
    {
        string text = Summary(p) ?? p.GetCustomAttribute<DescriptionAttribute>()?.Description ?? "";
        if (p.GetCustomAttribute<RangeAttribute>() is { } range)
        {
            text = (text.Length > 0 ? text.TrimEnd('.') + "; " : "") + string.Create(CultureInfo.InvariantCulture, $"range {range.Minimum}–{range.Maximum}");
        }

        return text.Length > 0 ? text.Replace("|", "\\|", StringComparison.Ordinal) : "—";
    }

    /// <summary>The property's <c>&lt;summary&gt;</c> in the source of the class that declares it, as one line of Markdown.</summary>
    private static string? Summary(PropertyInfo p)
    {
        var declaring = p.DeclaringType!;
        foreach (var source in Sources.Value)
        {
            var type = Regex.Match(source, $@"\b(class|record)\s+{Regex.Escape(declaring.Name)}\b");
            if (!type.Success)
            {
                continue;
            }

            var property = new Regex($@"(?<doc>(?:[ \t]*///[^\n]*\n)*)(?:[ \t]*\[[^\n]*\][ \t]*\n)*[ \t]*public\s+[^=;{{(\n]*?\b{Regex.Escape(p.Name)}\s*\{{").Match(source, type.Index);
            if (!property.Success || property.Groups["doc"].Length == 0)
            {
                return null;
            }

            string doc = string.Join(' ', property.Groups["doc"].Value.Split('\n').Select(l => l.Trim().TrimStart('/').Trim()));
            var summary = Regex.Match(doc, "<summary>(.*?)</summary>", RegexOptions.Singleline);
            if (!summary.Success)
            {
                return null;
            }

            string text = Regex.Replace(summary.Groups[1].Value, @"<see cref=""(?:[^""]*\.)?([^"".]+)""\s*/>", "`$1`");
            text = Regex.Replace(text, "<c>(.*?)</c>", "`$1`");
            text = Regex.Replace(text, "<[^>]+>", "");
            return Regex.Replace(System.Net.WebUtility.HtmlDecode(text), @"\s+", " ").Trim();
        }

        return null;
    }

    private static readonly Lazy<string[]> Sources = new(() =>
        Directory.EnumerateFiles(Path.Combine(Operations.Repository.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => File.ReadAllText(f).ReplaceLineEndings("\n")).ToArray());
}
